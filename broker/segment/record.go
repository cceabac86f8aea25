package segment

// Record is one message as stored in a segment log. Offset is assigned by the
// log on append; every other field is carried verbatim.
type Record struct {
	// Offset is the position of the record in its log, assigned on append,
	// dense and strictly increasing from the log's first offset.
	Offset uint64
	// PublishTime is when the origin broker accepted the message, in Unix
	// milliseconds.
	PublishTime int64
	// EventTime is an optional producer-supplied time in Unix milliseconds
	// (0 when absent).
	EventTime int64
	// Key is the message key (Pulsar key / Kafka key); may be empty.
	Key string
	// Properties are user properties (Pulsar properties / Kafka headers).
	Properties map[string]string
	// Payload is the message body.
	Payload []byte
	// Producer is the producer name, used with SequenceID for de-duplication.
	Producer string
	// SequenceID is the producer's sequence id for this message.
	SequenceID int64
	// Origin is the region that first accepted the message.
	Origin string
	// OriginSeq is the message's sequence number in its origin region's
	// replication log (the second half of its dot); 0 for local streams.
	OriginSeq uint64
	// Meta is opaque metadata owned by higher layers (for example causal
	// dependencies of a replicated operation). The log stores it verbatim.
	Meta []byte
	// PayloadRef marks a record whose payload the log does not store: it
	// is the payload of operation (Origin, OriginSeq), which the log's
	// owner keeps elsewhere (a geo-replicated node's journals). Appended
	// with PayloadRef, a record is stored without its payload's bytes
	// (Payload gives only the length; Origin and OriginSeq must be set).
	// Read and ReadFunc fill such payloads through
	// Options.ResolvePayloads, so readers get whole records (PayloadRef
	// false); ReadStored returns them as stored (PayloadRef true, Payload
	// nil).
	PayloadRef bool
	// refBytes is the payload length of a PayloadRef record read back.
	refBytes int
}

// payloadBytes is the length of the record's payload, stored or not.
func (r *Record) payloadBytes() int {
	if r.PayloadRef && r.Payload == nil {
		return r.refBytes
	}
	return len(r.Payload)
}
