package service

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/store"
)

// Replicated payloads. Every collection change that crosses regions is one
// op of the replication shell's collection kind (shell.KindCollectionOp);
// its payload is
//
//	version byte (1) | type byte
//	type 1, document op: tenant string | fabric string | collections.Op binary
//	type 2, metadata event: compact JSON of a MetaEvent
//
// (string: uvarint length then bytes). Document ops carry their own dot,
// context and HLC (collections.Op); metadata events (collection, index and
// saved-query creation and drops) are applied in every region, this one
// included, in the replicator's causal order.

const replPayloadVersion = 1

// Payload types.
const (
	payloadOp   = 1
	payloadMeta = 2
)

// maxMetaEventBytes bounds the JSON of one metadata event (a saved query
// with its text and parameters is the largest).
const maxMetaEventBytes = 1 << 20

// maxAckRegions bounds the regions of an ack (the replicator's bound).
const maxAckRegions = 1024

// Metadata event types.
const (
	MetaCreateCollection = "createCollection"
	MetaDropCollection   = "dropCollection"
	MetaCreateIndex      = "createIndex"
	MetaDropIndex        = "dropIndex"
	MetaSaveQuery        = "saveQuery"
	MetaDeleteQuery      = "deleteQuery"
	// MetaAck is what the origin has applied to a collection (Known): it
	// travels in the origin's log after its ops and drives compaction
	// (GeoSequencer).
	MetaAck = "ack"
)

// MetaEvent is a replicated change of metadata.
type MetaEvent struct {
	Type   string `json:"type"`
	Tenant string `json:"tenant"`
	Fabric string `json:"fabric"`
	// Collection names the collection (every type but the saved-query
	// ones).
	Collection string `json:"collection,omitempty"`
	// Spec and CreatedAt (Unix ms at the origin) describe a created
	// collection.
	Spec      *CollectionSpec `json:"spec,omitempty"`
	CreatedAt int64           `json:"createdAt,omitempty"`
	// Index is the index name (create and drop) and Field its path
	// (create).
	Index string `json:"index,omitempty"`
	Field string `json:"field,omitempty"`
	// Query is a saved query (save); QueryName names one (delete).
	Query     *store.SavedQuery `json:"query,omitempty"`
	QueryName string            `json:"queryName,omitempty"`
	// Known is the applied vector of an ack.
	Known map[string]uint64 `json:"known,omitempty"`
}

// validate checks the event's fields for its type.
func (m *MetaEvent) validate() error {
	if err := naming.Validate("tenant", m.Tenant); err != nil {
		return err
	}
	if err := naming.Validate("fabric", m.Fabric); err != nil {
		return err
	}
	switch m.Type {
	case MetaCreateCollection, MetaDropCollection, MetaCreateIndex, MetaDropIndex, MetaAck:
		if err := collections.ValidateCollectionName(m.Collection); err != nil {
			return err
		}
	}
	switch m.Type {
	case MetaCreateCollection:
		if m.Spec == nil || m.Spec.Name != m.Collection {
			return fmt.Errorf("create of %q without its spec", m.Collection)
		}
	case MetaDropCollection:
	case MetaCreateIndex:
		if err := checkIndexField(m.Field); err != nil {
			return err
		}
		if err := collections.ValidateCollectionName(m.Index); err != nil {
			return fmt.Errorf("index name: %w", err)
		}
	case MetaDropIndex:
		if m.Index == "" {
			return fmt.Errorf("drop index without a name")
		}
	case MetaSaveQuery:
		if m.Query == nil {
			return fmt.Errorf("save query without a query")
		}
		if err := collections.ValidateCollectionName(m.Query.Name); err != nil {
			return fmt.Errorf("saved query name: %w", err)
		}
	case MetaDeleteQuery:
		if err := collections.ValidateCollectionName(m.QueryName); err != nil {
			return fmt.Errorf("saved query name: %w", err)
		}
	case MetaAck:
		if len(m.Known) > maxAckRegions {
			return fmt.Errorf("ack of %d regions", len(m.Known))
		}
		v := collections.VectorOf(m.Known)
		if len(v) != len(m.Known) {
			return fmt.Errorf("ack with a zero entry")
		}
		if err := v.Validate(); err != nil {
			return fmt.Errorf("ack: %w", err)
		}
	default:
		return fmt.Errorf("unknown metadata event %q", m.Type)
	}
	return nil
}

// replPayload is a decoded payload: Op set for a document op, Meta for a
// metadata event.
type replPayload struct {
	Tenant, Fabric string
	Op             *collections.Op
	Meta           *MetaEvent
}

// PayloadFabric returns the tenant and fabric of a replicated payload (a
// document op or a metadata event): the node routes it to its fabric's
// replication domain (geo-fabrics).
func PayloadFabric(payload []byte) (tenant, fabric string, err error) {
	p, err := decodeReplPayload(payload)
	if err != nil {
		return "", "", err
	}
	if p.Meta != nil {
		return p.Meta.Tenant, p.Meta.Fabric, nil
	}
	return p.Tenant, p.Fabric, nil
}

// appendOpPayload appends the payload of a document op whose binary form
// is opBinary.
func appendOpPayload(dst []byte, tenant, fabric string, opBinary []byte) []byte {
	dst = append(dst, replPayloadVersion, payloadOp)
	dst = binary.AppendUvarint(dst, uint64(len(tenant)))
	dst = append(dst, tenant...)
	dst = binary.AppendUvarint(dst, uint64(len(fabric)))
	dst = append(dst, fabric...)
	return append(dst, opBinary...)
}

// appendMetaPayload appends the payload of a metadata event.
func appendMetaPayload(dst []byte, m *MetaEvent) ([]byte, error) {
	if err := m.validate(); err != nil {
		return dst, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	j, err := json.Marshal(m)
	if err != nil {
		return dst, fmt.Errorf("collections: encode metadata event: %w", err)
	}
	if len(j) > maxMetaEventBytes {
		return dst, fmt.Errorf("%w: metadata event of %d bytes, the limit is %d", ErrTooLarge, len(j), maxMetaEventBytes)
	}
	dst = append(dst, replPayloadVersion, payloadMeta)
	return append(dst, j...), nil
}

// decodeReplPayload decodes a payload from another region (or this
// region's journal). Anything but the exact encoding of a valid op or
// event is refused with ErrCorruptPayload.
func decodeReplPayload(b []byte) (replPayload, error) {
	p, err := decodeReplPayloadRaw(b)
	if err != nil {
		return replPayload{}, fmt.Errorf("%w: %w", ErrCorruptPayload, err)
	}
	return p, nil
}

func decodeReplPayloadRaw(b []byte) (replPayload, error) {
	if len(b) < 2 {
		return replPayload{}, fmt.Errorf("%d bytes", len(b))
	}
	if b[0] != replPayloadVersion {
		return replPayload{}, fmt.Errorf("version %d", b[0])
	}
	switch b[1] {
	case payloadOp:
		rest := b[2:]
		tenant, rest, err := payloadString(rest)
		if err != nil {
			return replPayload{}, fmt.Errorf("tenant: %w", err)
		}
		fabric, rest, err := payloadString(rest)
		if err != nil {
			return replPayload{}, fmt.Errorf("fabric: %w", err)
		}
		if err := naming.Validate("tenant", tenant); err != nil {
			return replPayload{}, err
		}
		if err := naming.Validate("fabric", fabric); err != nil {
			return replPayload{}, err
		}
		op, err := collections.DecodeOp(rest)
		if err != nil {
			return replPayload{}, err
		}
		return replPayload{Tenant: tenant, Fabric: fabric, Op: &op}, nil
	case payloadMeta:
		if len(b)-2 > maxMetaEventBytes {
			return replPayload{}, fmt.Errorf("metadata event of %d bytes", len(b)-2)
		}
		var m MetaEvent
		dec := json.NewDecoder(bytes.NewReader(b[2:]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return replPayload{}, fmt.Errorf("metadata event: %w", err)
		}
		if dec.More() {
			return replPayload{}, fmt.Errorf("metadata event: trailing data")
		}
		if err := m.validate(); err != nil {
			return replPayload{}, err
		}
		return replPayload{Tenant: m.Tenant, Fabric: m.Fabric, Meta: &m}, nil
	}
	return replPayload{}, fmt.Errorf("type %d", b[1])
}

// payloadString reads a uvarint-prefixed name.
func payloadString(b []byte) (string, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return "", nil, fmt.Errorf("bad length")
	}
	if n > naming.MaxNameBytes || n > uint64(len(b)-k) {
		return "", nil, fmt.Errorf("length %d with %d bytes left", n, len(b)-k)
	}
	return string(b[k : k+int(n)]), b[k+int(n):], nil
}
