package wsbin

import (
	"encoding/binary"

	"github.com/causeway/causeway/broker/wsproto"
)

// AckKind says what an ack does.
type AckKind byte

// Kinds of acks.
const (
	// AckIndividual acknowledges one message.
	AckIndividual AckKind = 0
	// AckCumulative acknowledges a message and every earlier one of its
	// stream (refused on shared subscriptions).
	AckCumulative AckKind = 1
	// Nack asks for the message to be redelivered.
	Nack AckKind = 2
)

func (k AckKind) String() string {
	switch k {
	case AckIndividual:
		return "ack"
	case AckCumulative:
		return "cumulative ack"
	case Nack:
		return "negative ack"
	}
	return "unknown ack kind"
}

// Ack is one entry of an acks frame.
type Ack struct {
	Kind AckKind
	ID   wsproto.MessageID // Stream and Offset; Partition is ignored
}

const minAckBytes = 3 // kind, stream, offset delta

// AppendAcks appends an acks frame (1..MaxAcksPerFrame acks).
func AppendAcks(dst []byte, acks []Ack) []byte {
	dst = append(dst, byte(TypeAcks))
	dst = binary.AppendUvarint(dst, uint64(len(acks)))
	var prev uint64
	for _, a := range acks {
		dst = append(dst, byte(a.Kind))
		dst = binary.AppendUvarint(dst, a.ID.Stream)
		dst = binary.AppendVarint(dst, int64(a.ID.Offset-prev)) // wraps: two's complement delta
		prev = a.ID.Offset
	}
	return dst
}

// DecodeAcks decodes an acks frame.
func DecodeAcks(frame []byte) ([]Ack, error) {
	d := newDecoder(frame, TypeAcks)
	n := d.count("ack count", MaxAcksPerFrame, minAckBytes)
	if d.err != nil {
		return nil, d.err
	}
	acks := make([]Ack, n)
	var prev uint64
	for i := range acks {
		k := AckKind(d.byte("ack kind"))
		if d.err == nil && k > Nack {
			d.fail("unknown ack kind %d", k)
		}
		stream := d.uvarint("stream index")
		prev += uint64(d.varint("offset delta"))
		if d.err != nil {
			return nil, d.err
		}
		acks[i] = Ack{Kind: k, ID: wsproto.MessageID{Stream: stream, Offset: prev, Partition: -1}}
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return acks, nil
}

// AppendPermit appends a permit frame granting n messages
// (1..MaxPermitsPerFrame).
func AppendPermit(dst []byte, n int) []byte {
	dst = append(dst, byte(TypePermit))
	return binary.AppendUvarint(dst, uint64(max(n, 0)))
}

// DecodePermit decodes a permit frame.
func DecodePermit(frame []byte) (int, error) {
	d := newDecoder(frame, TypePermit)
	n := d.uvarint("permits")
	if d.err == nil && (n == 0 || n > MaxPermitsPerFrame) {
		d.fail("permits %d: want 1..%d", n, MaxPermitsPerFrame)
	}
	if err := d.end(); err != nil {
		return 0, err
	}
	return int(n), nil
}

// ErrorFrame is a decoded error frame: a command that failed, and the
// message it named when there was one.
type ErrorFrame struct {
	HasID bool
	ID    wsproto.MessageID
	Error string
}

// AppendError appends an error frame; id may be nil.
func AppendError(dst []byte, id *wsproto.MessageID, msg string) []byte {
	dst = append(dst, byte(TypeError))
	if id == nil {
		dst = append(dst, 0)
	} else {
		dst = append(dst, 1)
		dst = binary.AppendUvarint(dst, id.Stream)
		dst = binary.AppendUvarint(dst, id.Offset)
	}
	return appendString(dst, cutError(msg))
}

// DecodeError decodes an error frame.
func DecodeError(frame []byte) (ErrorFrame, error) {
	d := newDecoder(frame, TypeError)
	var e ErrorFrame
	switch has := d.byte("id flag"); {
	case d.err != nil:
	case has == 1:
		e.HasID = true
		e.ID = wsproto.MessageID{Stream: d.uvarint("stream index"), Offset: d.uvarint("offset"), Partition: -1}
	case has != 0:
		d.fail("id flag %d: want 0 or 1", has)
	}
	e.Error = d.errorText()
	if err := d.end(); err != nil {
		return ErrorFrame{}, err
	}
	return e, nil
}
