// Package wsbin owns causeway-binary-v1, Causeway's opt-in binary framing
// of the WebSocket API: the frames producers, consumers and readers
// exchange once a connection asked for it with ?protocol=causeway-binary-v1
// (the server confirms with the X-Causeway-Protocol response header). It is
// pure code (no I/O, no goroutines, no clocks), shared by the server
// (broker/ws) and the Go client (clients). The JSON frames of Pulsar's
// protocol (broker/wsproto) stay the default and keep working unchanged;
// a binary connection still accepts JSON text frames (unsubscribe,
// isEndOfTopic) and answers them in JSON.
//
// Every frame is one binary WebSocket message whose first byte is its type.
// Integers are varints (encoding/binary: uvarint for unsigned, zig-zag
// varint for signed); a string or byte field is a uvarint length followed
// by the bytes.
//
//	publish      (producer →)  0x01 context:uvarint count:uvarint message*
//	  message    flags:byte [sequenceId:uvarint] [eventTime:varint] [key:string]
//	             [properties: n:uvarint (name:string value:string)*] payload:bytes
//	             flags: 1 key, 2 properties, 4 sequence id, 8 event time (Unix ms)
//	publish ack  (→ producer)  0x02 context:uvarint form:byte ...
//	  form 0     count:uvarint first:uvarint       every message stored, at first, first+1, ...
//	  form 1     count:uvarint result*             result: status:byte ...
//	             status 0 stored offset:uvarint; 1 duplicate offset:uvarint (the original's);
//	             2 duplicate whose offset is forgotten; 3 refused code:uvarint error:string
//	  form 2     code:uvarint error:string         the frame as a whole was refused
//	messages     (→ consumer, reader)  0x03 count:uvarint message*
//	  message    flags:byte stream:uvarint offset:uvarint publishTime:varint [eventTime:varint]
//	             [redeliveryCount:uvarint] [key:string] [properties] payload:bytes
//	             flags: 1 key, 2 properties, 4 event time, 8 redelivery count
//	acks         (consumer, reader →)  0x04 count:uvarint ack*
//	  ack        kind:byte stream:uvarint offsetDelta:varint
//	             kind 0 ack, 1 cumulative ack, 2 negative ack; the offset is the
//	             previous ack's offset (0 for the first) plus offsetDelta
//	permit       (consumer, reader →)  0x05 permits:uvarint      (pull mode)
//	error        (→ consumer, reader)  0x06 hasId:byte [stream:uvarint offset:uvarint] error:string
//
// A message id in binary frames is (stream index, offset): the stream index
// within a multi-stream consumer (0 otherwise) and the offset in the stream,
// the ledgerId and entryId of the JSON protocol's ids (partition -1).
//
// The producer's context is chosen by the client and echoed in the ack
// (Causeway's client sends the first sequence id of the frame); acks come
// back in the order frames were sent. Decoders refuse trailing bytes,
// unknown flags and counts the frame cannot hold, and bound every
// allocation by the frame's size and the package's limits.
package wsbin
