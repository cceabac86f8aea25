package shell

import (
	"encoding/binary"
	"fmt"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
)

// Kind is the type of a replicated operation: how its body is applied.
type Kind byte

// Kinds. KindStreamMessage is built in; other kinds are registered by the
// services that replicate through the shell (RegisterKind).
const (
	KindStreamMessage Kind = 1
	// KindCollectionOp is reserved for collection operations.
	KindCollectionOp Kind = 2
	// KindAuthEvent is reserved for API key events (broker/auth: key
	// creations, grant changes and revocations).
	KindAuthEvent Kind = 3
	// KindTopicMeta is reserved for Kafka topic metadata events
	// (broker/kafka: topic creations, partition increases, deletions).
	KindTopicMeta Kind = 4
	// KindFabricMeta is reserved for pinned fabrics' region lists
	// (geo-fabrics: server's geofabrics.go).
	KindFabricMeta Kind = 5
	// KindFabricCut is reserved for a region's cut of a pinned fabric's
	// list version (the end of its ops under the previous version).
	KindFabricCut Kind = 6
	// KindFabricBackfill is reserved for the parts of a pinned fabric's
	// copy sent by its home to regions added to its list.
	KindFabricBackfill Kind = 7
)

// bodyVersion is the first byte of every op body.
const bodyVersion = 1

// Body bounds, checked before allocating.
const (
	// maxBodyProperties bounds the properties of one stream message.
	maxBodyProperties = 4096
	// maxBodyStringBytes bounds a key, property name or value, or producer
	// name inside a body (the payload is bounded by the body itself).
	maxBodyStringBytes = 1 << 20
)

// An op body is: version(1) kind(1) then the kind's payload. A stream
// message's payload is the stream (tenant, fabric, name), then the
// record's publish time, event time, key, properties, producer, sequence
// id and payload; strings and bytes are uvarint-length-prefixed, times and
// the sequence id zig-zag varints. Only persistent streams replicate, so
// the name carries no domain.

// AppendStreamMessage appends the body of a stream message op to dst.
func AppendStreamMessage(dst []byte, name naming.Stream, r *segment.Record) []byte {
	dst = append(dst, bodyVersion, byte(KindStreamMessage))
	dst = appendString(dst, name.Tenant)
	dst = appendString(dst, name.Fabric)
	dst = appendString(dst, name.Name)
	dst = binary.AppendVarint(dst, r.PublishTime)
	dst = binary.AppendVarint(dst, r.EventTime)
	dst = appendString(dst, r.Key)
	dst = binary.AppendUvarint(dst, uint64(len(r.Properties)))
	for k, v := range r.Properties {
		dst = appendString(dst, k)
		dst = appendString(dst, v)
	}
	dst = appendString(dst, r.Producer)
	dst = binary.AppendVarint(dst, r.SequenceID)
	dst = binary.AppendUvarint(dst, uint64(len(r.Payload)))
	return append(dst, r.Payload...)
}

// streamMessageSize is at least the length of AppendStreamMessage's body
// for r (varints counted at their largest).
func streamMessageSize(name naming.Stream, r *segment.Record) int {
	n := 2 + 5*binary.MaxVarintLen64 + len(name.Tenant) + len(name.Fabric) + len(name.Name) +
		len(r.Key) + len(r.Producer) + len(r.Payload) + 5*binary.MaxVarintLen32
	for k, v := range r.Properties {
		n += len(k) + len(v) + 2*binary.MaxVarintLen32
	}
	return n
}

// AppendOp appends the body of an op of a registered kind to dst.
func AppendOp(dst []byte, kind Kind, payload []byte) []byte {
	dst = append(dst, bodyVersion, byte(kind))
	return append(dst, payload...)
}

// DecodeKind returns an op body's kind and its kind-specific payload.
func DecodeKind(body []byte) (Kind, []byte, error) {
	if len(body) < 2 {
		return 0, nil, fmt.Errorf("shell: op body of %d bytes: %w", len(body), ErrCorruptBody)
	}
	if body[0] != bodyVersion {
		return 0, nil, fmt.Errorf("shell: op body version %d: %w", body[0], ErrCorruptBody)
	}
	if body[1] == 0 {
		return 0, nil, fmt.Errorf("shell: op body kind 0: %w", ErrCorruptBody)
	}
	return Kind(body[1]), body[2:], nil
}

// DecodeStreamMessage decodes a stream message op body. The record's
// Payload aliases body; Origin and OriginSeq are left for the caller (they
// are the op's dot).
func DecodeStreamMessage(body []byte) (naming.Stream, segment.Record, error) {
	kind, rest, err := DecodeKind(body)
	if err != nil {
		return naming.Stream{}, segment.Record{}, err
	}
	if kind != KindStreamMessage {
		return naming.Stream{}, segment.Record{}, fmt.Errorf("shell: op kind %d is not a stream message: %w", kind, ErrCorruptBody)
	}
	d := decoder{buf: rest}
	name := naming.Stream{Persistent: true, Tenant: d.str(naming.MaxNameBytes), Fabric: d.str(naming.MaxNameBytes),
		Name: d.str(naming.MaxNameBytes)}
	var r segment.Record
	r.PublishTime = d.varint()
	r.EventTime = d.varint()
	r.Key = d.str(maxBodyStringBytes)
	n := d.uvarint()
	if d.err == nil && (n > maxBodyProperties || n*2 > uint64(len(d.buf)-d.pos)) {
		d.err = fmt.Errorf("%d properties in %d bytes", n, len(d.buf)-d.pos)
	}
	if d.err == nil && n > 0 {
		r.Properties = make(map[string]string, n)
		for range n {
			k, v := d.str(maxBodyStringBytes), d.str(maxBodyStringBytes)
			if d.err != nil {
				break
			}
			if _, dup := r.Properties[k]; dup {
				d.err = fmt.Errorf("property %q twice", k)
				break
			}
			r.Properties[k] = v
		}
	}
	r.Producer = d.str(maxBodyStringBytes)
	r.SequenceID = d.varint()
	r.Payload = d.bytes(len(body))
	if d.err == nil && d.pos != len(d.buf) {
		d.err = fmt.Errorf("%d trailing bytes", len(d.buf)-d.pos)
	}
	if d.err == nil {
		d.err = name.Validate()
	}
	if d.err != nil {
		return naming.Stream{}, segment.Record{}, fmt.Errorf("shell: decode stream message: %v: %w", d.err, ErrCorruptBody)
	}
	return name, r, nil
}

// StreamMessagePayload returns the payload of a stream message op body,
// aliasing body, and whether the message is one of stream, without
// decoding the rest of the message: the read path resolves stored
// references with it, once per message read (payloads.go). The body's
// structure and bounds are checked as DecodeStreamMessage checks them, not
// its properties' names nor the stream name's characters (a body with
// either wrong was refused when it was applied, so no stream record refers
// to one).
func StreamMessagePayload(body []byte, stream naming.Stream) (payload []byte, ofStream bool, err error) {
	kind, rest, err := DecodeKind(body)
	if err != nil {
		return nil, false, err
	}
	if kind != KindStreamMessage {
		return nil, false, fmt.Errorf("shell: op kind %d is not a stream message: %w", kind, ErrCorruptBody)
	}
	d := decoder{buf: rest}
	same := string(d.bytes(naming.MaxNameBytes)) == stream.Tenant // (no copy: compared in place)
	same = string(d.bytes(naming.MaxNameBytes)) == stream.Fabric && same
	same = string(d.bytes(naming.MaxNameBytes)) == stream.Name && same
	d.varint() // publish time
	d.varint() // event time
	d.bytes(maxBodyStringBytes)
	n := d.uvarint()
	if d.err == nil && (n > maxBodyProperties || n*2 > uint64(len(d.buf)-d.pos)) {
		d.err = fmt.Errorf("%d properties in %d bytes", n, len(d.buf)-d.pos)
	}
	for i := uint64(0); i < 2*n && d.err == nil; i++ {
		d.bytes(maxBodyStringBytes)
	}
	d.bytes(maxBodyStringBytes) // producer
	d.varint()                  // sequence id
	payload = d.bytes(len(body))
	if d.err == nil && d.pos != len(d.buf) {
		d.err = fmt.Errorf("%d trailing bytes", len(d.buf)-d.pos)
	}
	if d.err != nil {
		return nil, false, fmt.Errorf("shell: decode stream message: %v: %w", d.err, ErrCorruptBody)
	}
	return payload, same, nil
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decoder reads varints and strings, remembering the first error.
type decoder struct {
	buf []byte
	pos int
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf[d.pos:])
	if n <= 0 {
		d.err = fmt.Errorf("bad uvarint at %d", d.pos)
		return 0
	}
	d.pos += n
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf[d.pos:])
	if n <= 0 {
		d.err = fmt.Errorf("bad varint at %d", d.pos)
		return 0
	}
	d.pos += n
	return v
}

func (d *decoder) bytes(maxBytes int) []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(maxBytes) || n > uint64(len(d.buf)-d.pos) {
		d.err = fmt.Errorf("%d bytes claimed at %d, %d left", n, d.pos, len(d.buf)-d.pos)
		return nil
	}
	b := d.buf[d.pos : d.pos+int(n) : d.pos+int(n)]
	d.pos += int(n)
	return b
}

func (d *decoder) str(maxBytes int) string { return string(d.bytes(maxBytes)) }
