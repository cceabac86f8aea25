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

// rawStreamMessage is a stream message op body split into its fields,
// each aliasing the body; props holds the properties' nProps key-value
// pairs, still encoded.
type rawStreamMessage struct {
	tenant, fabric, name   []byte
	publishTime, eventTime int64
	key                    []byte
	props                  []byte
	nProps                 uint64
	producer               []byte
	sequenceID             int64
	payload                []byte
}

// splitStreamMessage checks a stream message op body's structure and
// bounds and splits it into m's fields without copying any.
func splitStreamMessage(body []byte, m *rawStreamMessage) error {
	kind, rest, err := DecodeKind(body)
	if err != nil {
		return err
	}
	if kind != KindStreamMessage {
		return fmt.Errorf("shell: op kind %d is not a stream message: %w", kind, ErrCorruptBody)
	}
	d := decoder{buf: rest}
	m.tenant, m.fabric, m.name = d.bytes(naming.MaxNameBytes), d.bytes(naming.MaxNameBytes), d.bytes(naming.MaxNameBytes)
	m.publishTime = d.varint()
	m.eventTime = d.varint()
	m.key = d.bytes(maxBodyStringBytes)
	m.nProps = d.uvarint()
	if d.err == nil && (m.nProps > maxBodyProperties || m.nProps*2 > uint64(len(d.buf)-d.pos)) {
		d.err = fmt.Errorf("%d properties in %d bytes", m.nProps, len(d.buf)-d.pos)
	}
	propsStart := d.pos
	for i := uint64(0); i < 2*m.nProps && d.err == nil; i++ {
		d.bytes(maxBodyStringBytes)
	}
	m.props = d.buf[propsStart:d.pos]
	m.producer = d.bytes(maxBodyStringBytes)
	m.sequenceID = d.varint()
	m.payload = d.bytes(len(body))
	if d.err == nil && d.pos != len(d.buf) {
		d.err = fmt.Errorf("%d trailing bytes", len(d.buf)-d.pos)
	}
	if d.err != nil {
		return corruptStreamMessage(d.err)
	}
	return nil
}

func corruptStreamMessage(err error) error {
	return fmt.Errorf("shell: decode stream message: %v: %w", err, ErrCorruptBody)
}

// DecodeStreamMessage decodes a stream message op body. The record's
// Payload aliases body; Origin and OriginSeq are left for the caller (they
// are the op's dot).
func DecodeStreamMessage(body []byte) (naming.Stream, segment.Record, error) {
	var d streamMessageDecoder
	return d.decode(body)
}

// streamMessageDecoder decodes stream message bodies as DecodeStreamMessage
// does, and reuses the previous message's stream name, key and producer
// when the next message carries the same bytes. A replicated backlog is
// runs of one stream's messages from a few producers; without it each of
// those strings was a fresh allocation per message, and the name a fresh
// validation (together 7-8 % of a region's CPU applying a backlog).
// The zero value is ready to use; it is not safe for concurrent use.
type streamMessageDecoder struct {
	name          naming.Stream // valid once named is true
	named         bool
	key, producer string
}

func (c *streamMessageDecoder) decode(body []byte) (naming.Stream, segment.Record, error) {
	var m rawStreamMessage
	if err := splitStreamMessage(body, &m); err != nil {
		return naming.Stream{}, segment.Record{}, err
	}
	// (string conversions in comparisons copy nothing)
	if !c.named || string(m.tenant) != c.name.Tenant || string(m.fabric) != c.name.Fabric || string(m.name) != c.name.Name {
		name := naming.Stream{Persistent: true, Tenant: string(m.tenant), Fabric: string(m.fabric), Name: string(m.name)}
		if err := name.Validate(); err != nil {
			return naming.Stream{}, segment.Record{}, corruptStreamMessage(err)
		}
		c.name, c.named = name, true
	}
	if string(m.key) != c.key {
		c.key = string(m.key)
	}
	if string(m.producer) != c.producer {
		c.producer = string(m.producer)
	}
	name := c.name
	r := segment.Record{PublishTime: m.publishTime, EventTime: m.eventTime, Key: c.key,
		Producer: c.producer, SequenceID: m.sequenceID, Payload: m.payload}
	if m.nProps > 0 {
		r.Properties = make(map[string]string, m.nProps)
		d := decoder{buf: m.props} // checked by splitStreamMessage
		for range m.nProps {
			k, v := d.str(maxBodyStringBytes), d.str(maxBodyStringBytes)
			if _, dup := r.Properties[k]; dup {
				return naming.Stream{}, segment.Record{}, corruptStreamMessage(fmt.Errorf("property %q twice", k))
			}
			r.Properties[k] = v
		}
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
	var m rawStreamMessage
	if err := splitStreamMessage(body, &m); err != nil {
		return nil, false, err
	}
	// (string conversions in comparisons copy nothing)
	ofStream = string(m.tenant) == stream.Tenant && string(m.fabric) == stream.Fabric && string(m.name) == stream.Name
	return m.payload, ofStream, nil
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
