package spot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
)

// commandVersion is the first byte of every Raft entry of a SPOT group.
const commandVersion = 1

// maxCommandBytes bounds one encoded command: a transaction plus the
// envelope.
const maxCommandBytes = MaxTxnBytes + 64<<10

// command is one Raft entry: a transaction, or the creation or drop of a
// collection. Everything Update needs is inside it (the proposer's clock
// too), so applying it is deterministic.
type command struct {
	// ID names the request for de-duplication: a command whose ID was
	// applied within dedupWindowEntries answers as the first one did. ""
	// for none.
	ID     string `json:"id,omitempty"`
	NowMs  uint64 `json:"now"`
	Tenant string `json:"tenant"`
	Fabric string `json:"fabric"`
	Txn    *Txn   `json:"txn,omitempty"`
	// Create takes Name, Home and KeyValue; the rest is filled on apply.
	Create *CollectionInfo `json:"create,omitempty"`
	Drop   string          `json:"drop,omitempty"`
}

// dedupID is the de-duplication key of a request id: ids are per tenant
// and fabric, so one tenant's id never answers with another's result.
func (c *command) dedupID() string {
	return c.Tenant + "\x00" + c.Fabric + "\x00" + c.ID
}

// fingerprint hashes what the command asks (not its clock): a retry has
// the same fingerprint, another request reusing the id does not.
func (c *command) fingerprint() uint64 {
	h := fnv.New64a()
	enc := json.NewEncoder(h)
	_ = enc.Encode(struct {
		Txn    *Txn
		Create *CollectionInfo
		Drop   string
	}{c.Txn, c.Create, c.Drop})
	return h.Sum64()
}

// encodeCommand returns the entry bytes of c.
func encodeCommand(c *command) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte(commandVersion)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("%w: encode command: %w", ErrBadRequest, err)
	}
	if buf.Len() > maxCommandBytes {
		return nil, fmt.Errorf("%w: the transaction encodes to %d bytes, the limit is %d", ErrTooLarge, buf.Len(), maxCommandBytes)
	}
	return buf.Bytes(), nil
}

// decodeCommand decodes and checks an entry. Any input gives a command that
// passes validate or an error wrapping ErrCorruptCommand.
func decodeCommand(b []byte) (*command, error) {
	if len(b) == 0 || b[0] != commandVersion {
		return nil, fmt.Errorf("%w: unknown version", ErrCorruptCommand)
	}
	if len(b) > maxCommandBytes {
		return nil, fmt.Errorf("%w: %d bytes", ErrCorruptCommand, len(b))
	}
	dec := json.NewDecoder(bytes.NewReader(b[1:]))
	dec.DisallowUnknownFields()
	var c command
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorruptCommand, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the command", ErrCorruptCommand)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorruptCommand, err)
	}
	return &c, nil
}

// validate checks the envelope; the transaction is checked when it runs.
func (c *command) validate() error {
	if len(c.ID) > maxRequestIDBytes {
		return fmt.Errorf("request id of %d bytes, the limit is %d", len(c.ID), maxRequestIDBytes)
	}
	if err := validateFabric(c.Tenant, c.Fabric); err != nil {
		return err
	}
	n := 0
	if c.Txn != nil {
		n++
	}
	if c.Create != nil {
		n++
		if err := (Ref{Tenant: c.Tenant, Fabric: c.Fabric, Collection: c.Create.Name}).Validate(); err != nil {
			return err
		}
		if err := validateRegion(c.Create.Home); err != nil {
			return err
		}
	}
	if c.Drop != "" {
		n++
		if err := (Ref{Tenant: c.Tenant, Fabric: c.Fabric, Collection: c.Drop}).Validate(); err != nil {
			return err
		}
	}
	if n != 1 {
		return errors.New("a command holds exactly one of txn, create, drop")
	}
	return nil
}

// outcome is the answer to a command, as the state machine returns it in
// its Raft result and keeps it for de-duplication.
type outcome struct {
	Index   uint64          `json:"index"`
	Results []OpResult      `json:"results,omitempty"`
	Info    *CollectionInfo `json:"info,omitempty"`
	Err     *wireErr        `json:"error,omitempty"`
}

// wireErr is an error as it travels in results and forwarded answers.
type wireErr struct {
	Code         string `json:"code"`
	Message      string `json:"message"`
	Op           int    `json:"op"`
	Precondition int    `json:"precondition"`
}

// toWire encodes err (a *TxnError keeps its indexes; Message is then its
// cause's).
func toWire(err error) *wireErr {
	w := &wireErr{Code: errorCode(err), Message: err.Error(), Op: -1, Precondition: -1}
	var te *TxnError
	if errors.As(err, &te) {
		w.Op, w.Precondition, w.Message = te.Op, te.Precondition, te.Err.Error()
	}
	return w
}

// err rebuilds the error: a *TxnError whose cause has the right sentinel.
func (w *wireErr) err() error {
	cause := errorFromWire(w.Code, w.Message)
	if w.Op < 0 && w.Precondition < 0 {
		return cause
	}
	return &TxnError{Op: w.Op, Precondition: w.Precondition, Err: cause}
}

func encodeOutcome(o *outcome) []byte {
	b, err := json.Marshal(o)
	if err != nil { // only plain fields: cannot happen
		b, _ = json.Marshal(&outcome{Index: o.Index, Err: toWire(fmt.Errorf("%w: encode outcome: %w", ErrInternal, err))})
	}
	return b
}

func decodeOutcome(b []byte) (*outcome, error) {
	var o outcome
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("%w: decode outcome: %w", ErrInternal, err)
	}
	return &o, nil
}

// validateRegion checks a region name with the broker's naming rules.
func validateRegion(region string) error {
	return validateName("region", region)
}
