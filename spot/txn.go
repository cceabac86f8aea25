package spot

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/causeway/causeway/collections"
)

// Kind is what one operation of a transaction does.
type Kind string

// The kinds of operation.
const (
	// Read returns the document (Found false when it does not exist).
	Read Kind = "read"
	// Insert creates the document Doc; the key must be free.
	Insert Kind = "insert"
	// Replace makes an existing document Doc.
	Replace Kind = "replace"
	// Update patches an existing document with Doc: members are merged
	// (objects member by member unless MergeObjects is false), null
	// removes an attribute unless KeepNull, {"$inc": n} adds n.
	Update Kind = "update"
	// Delete deletes an existing document.
	Delete Kind = "delete"
	// Put creates or replaces the document (key/value put).
	Put Kind = "put"
)

func (k Kind) valid() bool {
	switch k {
	case Read, Insert, Replace, Update, Delete, Put:
		return true
	}
	return false
}

func (k Kind) writes() bool { return k != Read }

// Op is one operation of a transaction. Operations run in order and each
// sees the effects of the ones before it.
type Op struct {
	Kind       Kind   `json:"op"`
	Collection string `json:"collection"`
	// Key is the document's _key. An Insert without one gets a generated
	// key (the service fills it before the transaction is proposed).
	Key string `json:"key,omitempty"`
	// Doc is a JSON object: the document for Insert, Replace and Put (its
	// _key, _id and _rev members are ignored), the patch for Update.
	Doc json.RawMessage `json:"doc,omitempty"`
	// IfRev, when set, must be the document's current _rev when the
	// operation runs.
	IfRev string `json:"ifRev,omitempty"`
	// ExpiresAt is an absolute expiry in Unix ms for key/value entries (0:
	// none). Reads hide an expired document.
	ExpiresAt uint64 `json:"expiresAt,omitempty"`
	// KeepNull and MergeObjects tune Update (both default true, as in
	// ArangoDB).
	KeepNull     *bool `json:"keepNull,omitempty"`
	MergeObjects *bool `json:"mergeObjects,omitempty"`
}

// Precondition is checked against the state before the transaction's first
// operation. Exactly one of Rev, Exists and Equals is set.
type Precondition struct {
	Collection string `json:"collection"`
	Key        string `json:"key"`
	// Rev: the document exists and its _rev is Rev.
	Rev string `json:"rev,omitempty"`
	// Exists: the document exists (true) or does not (false).
	Exists *bool `json:"exists,omitempty"`
	// Equals: the document exists and the attribute at Path (object member
	// names from the top) equals this JSON value (numbers by value).
	Path   []string        `json:"path,omitempty"`
	Equals json.RawMessage `json:"equals,omitempty"`
}

// Txn is a transaction over the SPOT collections of one fabric that share
// a home region: it applies as a whole, serializably, or not at all.
type Txn struct {
	Ops           []Op           `json:"operations"`
	Preconditions []Precondition `json:"preconditions,omitempty"`
}

// ReadOnly reports a transaction with no write: it is served by a
// linearizable read rather than a Raft proposal.
func (t *Txn) ReadOnly() bool {
	for i := range t.Ops {
		if t.Ops[i].Kind.writes() {
			return false
		}
	}
	return true
}

// Collections returns the collections the transaction names, sorted.
func (t *Txn) Collections() []string {
	var names []string
	for i := range t.Ops {
		names = append(names, t.Ops[i].Collection)
	}
	for i := range t.Preconditions {
		names = append(names, t.Preconditions[i].Collection)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Validate checks the transaction's shape: bounds, names, that each
// operation carries what its kind needs and that each precondition asks
// exactly one thing. Every key must be set. It does not look at any state.
// The error wraps ErrBadRequest or ErrTooLarge and is a *TxnError naming
// the faulty operation or precondition.
func (t *Txn) Validate() error {
	if len(t.Ops) == 0 {
		return &TxnError{Op: -1, Precondition: -1, Err: fmt.Errorf("%w: a transaction needs at least one operation", ErrBadRequest)}
	}
	if n := len(t.Ops) + len(t.Preconditions); n > MaxTxnOps {
		return &TxnError{Op: -1, Precondition: -1, Err: fmt.Errorf("%w: %d operations and preconditions, the limit is %d", ErrTooLarge, n, MaxTxnOps)}
	}
	for i := range t.Preconditions {
		if err := t.Preconditions[i].validate(); err != nil {
			return preconditionError(i, fmt.Errorf("%w: %w", ErrBadRequest, err))
		}
	}
	for i := range t.Ops {
		if err := t.Ops[i].validate(); err != nil {
			return opError(i, fmt.Errorf("%w: %w", ErrBadRequest, err))
		}
	}
	return nil
}

func validateNames(collection, key string) error {
	if err := collections.ValidateCollectionName(collection); err != nil {
		return err
	}
	return collections.ValidateKey(key)
}

func (op *Op) validate() error {
	if !op.Kind.valid() {
		return fmt.Errorf("unknown operation %q (want read, insert, replace, update, delete or put)", op.Kind)
	}
	if err := validateNames(op.Collection, op.Key); err != nil {
		return err
	}
	switch op.Kind {
	case Read, Delete:
		if len(op.Doc) != 0 {
			return fmt.Errorf("%s takes no doc", op.Kind)
		}
		if op.ExpiresAt != 0 {
			return fmt.Errorf("%s takes no expiry", op.Kind)
		}
	default:
		if !isJSONObject(op.Doc) {
			return fmt.Errorf("%s needs a JSON object as doc", op.Kind)
		}
	}
	if op.Kind == Insert && op.IfRev != "" {
		return fmt.Errorf("insert takes no ifRev (the document must not exist)")
	}
	if (op.KeepNull != nil || op.MergeObjects != nil) && op.Kind != Update {
		return fmt.Errorf("keepNull and mergeObjects apply to update only")
	}
	return nil
}

func (p *Precondition) validate() error {
	if err := validateNames(p.Collection, p.Key); err != nil {
		return err
	}
	asked := 0
	if p.Rev != "" {
		asked++
	}
	if p.Exists != nil {
		asked++
	}
	if p.Equals != nil {
		asked++
		if err := validatePath(p.Path); err != nil {
			return err
		}
		if !json.Valid(p.Equals) {
			return fmt.Errorf("equals is not valid JSON")
		}
	} else if len(p.Path) != 0 {
		return fmt.Errorf("path goes with equals")
	}
	if asked != 1 {
		return fmt.Errorf("a precondition asks exactly one of rev, exists, equals (it asks %d)", asked)
	}
	return nil
}

func validatePath(path []string) error {
	if len(path) == 0 || len(path) > maxPathNames {
		return fmt.Errorf("path has %d names, want 1 to %d", len(path), maxPathNames)
	}
	for _, name := range path {
		if err := collections.ValidateAttributeName(name); err != nil {
			return err
		}
	}
	return nil
}

// isJSONObject reports whether raw is one valid JSON object.
func isJSONObject(raw json.RawMessage) bool {
	i := 0
	for i < len(raw) && isSpace(raw[i]) {
		i++
	}
	return i < len(raw) && raw[i] == '{' && json.Valid(raw)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
