package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/causeway/causeway/broker/naming"
)

// Key events: what travels between regions to make API keys fabric-wide
// (replication.go publishes them, merge.go applies them). An event is
//
//	version byte (1) | compact JSON of an Event
//
// and names one key id. A create and a grant change carry the key's whole
// record: its SHA-256 and SCRAM credential, never the key itself.

// EventType is what an event does to its key.
type EventType string

// Event types.
const (
	EventCreate EventType = "create"
	EventGrants EventType = "grants"
	EventRevoke EventType = "revoke"
)

// eventVersion is the first byte of every encoded event.
const eventVersion = 1

// Bounds on an event, checked before anything is allocated for it.
const (
	// maxEventBytes bounds an encoded event: a record with
	// maxGrantsPerKey grants of maxGrantBytes each fits with room to
	// spare.
	maxEventBytes = 256 << 10
	// maxCreatedByBytes bounds the creator's name in a record.
	maxCreatedByBytes = 256
	// SCRAM credentials: salt length and iteration count.
	minSCRAMSaltBytes = 8
	maxSCRAMSaltBytes = 64
	maxSCRAMIters     = 1 << 20
)

// Event is one change of a key, made in one region and applied in every
// region.
type Event struct {
	Type EventType `json:"type"`
	// Key is the key's id and Tenant its tenant.
	Key    string `json:"key"`
	Tenant string `json:"tenant"`
	// Stamp orders the key's events (Region is the region that made the
	// event: the op's origin).
	Stamp Stamp `json:"stamp"`
	// Record is the key, with its permissions after the event (create and
	// grants; its own Stamp is unset: the event's applies).
	Record *KeyRecord `json:"record,omitempty"`
	// At is when the key was revoked (revoke; Unix ms at the origin).
	At int64 `json:"at,omitempty"`
}

// Validate checks that ev is an event one region may send another.
func (ev Event) Validate() error {
	if !validKeyID(ev.Key) {
		return fmt.Errorf("%w: key id %q", ErrBadEvent, ev.Key)
	}
	if err := naming.Validate("tenant", ev.Tenant); err != nil {
		return fmt.Errorf("%w: key %s: %v", ErrBadEvent, ev.Key, err)
	}
	if err := naming.Validate("region", ev.Stamp.Region); err != nil {
		return fmt.Errorf("%w: key %s: stamp: %v", ErrBadEvent, ev.Key, err)
	}
	if ev.Stamp.Wall <= 0 {
		return fmt.Errorf("%w: key %s: stamp %s", ErrBadEvent, ev.Key, ev.Stamp)
	}
	switch ev.Type {
	case EventCreate, EventGrants:
		if ev.At != 0 {
			return fmt.Errorf("%w: %s of key %s with a revocation time", ErrBadEvent, ev.Type, ev.Key)
		}
		return ev.validateRecord()
	case EventRevoke:
		if ev.Record != nil || ev.At < 0 {
			return fmt.Errorf("%w: revocation of key %s with a record or a negative time", ErrBadEvent, ev.Key)
		}
		return nil
	}
	return fmt.Errorf("%w: event type %q", ErrBadEvent, ev.Type)
}

func (ev Event) validateRecord() error {
	k := ev.Record
	switch {
	case k == nil:
		return fmt.Errorf("%w: %s of key %s without its record", ErrBadEvent, ev.Type, ev.Key)
	case k.ID != ev.Key || k.Tenant != ev.Tenant:
		return fmt.Errorf("%w: %s of key %s/%s carries key %s/%s", ErrBadEvent, ev.Type, ev.Tenant, ev.Key, k.Tenant, k.ID)
	case k.Origin == "":
		return fmt.Errorf("%w: %s of key %s without its origin region", ErrBadEvent, ev.Type, ev.Key)
	case k.Stamp != nil:
		return fmt.Errorf("%w: %s of key %s: the record carries a stamp", ErrBadEvent, ev.Type, ev.Key)
	case k.Superuser && k.Tenant != naming.DefaultTenant:
		return fmt.Errorf("%w: superuser key %s of tenant %s (superuser keys are %s's)", ErrBadEvent, ev.Key, k.Tenant, naming.DefaultTenant)
	case len(k.Permissions) > maxGrantsPerKey:
		return fmt.Errorf("%w: key %s has %d permissions, the limit is %d", ErrBadEvent, ev.Key, len(k.Permissions), maxGrantsPerKey)
	case !utf8.ValidString(k.Name) || len(k.CreatedBy) > maxCreatedByBytes || !utf8.ValidString(k.CreatedBy):
		return fmt.Errorf("%w: key %s: name or creator is not short UTF-8", ErrBadEvent, ev.Key)
	case k.CreatedAt < 0 || k.ExpiresAt < 0:
		return fmt.Errorf("%w: key %s: negative times", ErrBadEvent, ev.Key)
	}
	if err := k.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadEvent, err)
	}
	if sc := k.SCRAM; sc != nil && (len(sc.Salt) < minSCRAMSaltBytes || len(sc.Salt) > maxSCRAMSaltBytes ||
		sc.Iters < scramIters || sc.Iters > maxSCRAMIters || len(sc.StoredKey) != sha256.Size || len(sc.ServerKey) != sha256.Size) {
		return fmt.Errorf("%w: key %s: malformed SCRAM credential", ErrBadEvent, ev.Key)
	}
	return nil
}

// AppendEvent appends the encoding of ev to dst; ev must be valid.
func AppendEvent(dst []byte, ev Event) ([]byte, error) {
	if err := ev.Validate(); err != nil {
		return dst, err
	}
	j, err := json.Marshal(ev)
	if err != nil {
		return dst, fmt.Errorf("auth: encode key event: %w", err)
	}
	if 1+len(j) > maxEventBytes {
		return dst, fmt.Errorf("%w: key event of %d bytes, the limit is %d", ErrBadEvent, 1+len(j), maxEventBytes)
	}
	dst = append(dst, eventVersion)
	return append(dst, j...), nil
}

// DecodeEvent decodes an event from another region (or this region's
// journal). Anything but the encoding of a valid event (unknown fields,
// trailing bytes, more than maxEventBytes included) is ErrBadEvent.
func DecodeEvent(b []byte) (Event, error) {
	switch {
	case len(b) > maxEventBytes:
		return Event{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrBadEvent, len(b), maxEventBytes)
	case len(b) < 2:
		return Event{}, fmt.Errorf("%w: %d bytes", ErrBadEvent, len(b))
	case b[0] != eventVersion:
		return Event{}, fmt.Errorf("%w: version %d", ErrBadEvent, b[0])
	}
	dec := json.NewDecoder(bytes.NewReader(b[1:]))
	dec.DisallowUnknownFields()
	var ev Event
	if err := dec.Decode(&ev); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrBadEvent, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Event{}, fmt.Errorf("%w: data after the event", ErrBadEvent)
	}
	if err := ev.Validate(); err != nil {
		return Event{}, err
	}
	return ev, nil
}
