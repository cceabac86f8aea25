package wsbin

import (
	"encoding/binary"
	"math"

	"github.com/causeway/causeway/broker/wsproto"
)

// Status is the outcome of one published message.
type Status byte

// Outcomes of a published message.
const (
	// Stored: the message was stored at Offset.
	Stored Status = 0
	// Duplicate: a re-send of a message stored earlier at Offset (same
	// producer name and sequence id); nothing new was stored.
	Duplicate Status = 1
	// DuplicateForgotten: a re-send of a message stored earlier whose
	// offset the server no longer remembers.
	DuplicateForgotten Status = 2
	// Refused: not stored; Code and Error say why.
	Refused Status = 3
)

// Forms of a publish ack.
const (
	ackAllStored = 0
	ackEach      = 1
	ackWhole     = 2
)

// PublishResult is the answer for one message of a publish frame.
type PublishResult struct {
	Status Status
	Offset uint64 // Stored, Duplicate
	Code   int    // Refused: a wsproto.ErrCode... value
	Error  string // Refused
}

// PublishAck is a decoded publish ack.
type PublishAck struct {
	Context uint64
	// Refusal is set when the frame was refused as a whole (it was
	// malformed or past a frame limit): none of its messages was stored.
	Refusal *wsproto.PublishError
	// Count is the number of messages answered (0 with a Refusal).
	Count int
	// allStored: message i was stored at first+i.
	allStored bool
	first     uint64
	results   []PublishResult
}

// Result returns the answer for message i (0 <= i < Count).
func (a *PublishAck) Result(i int) PublishResult {
	if a.allStored {
		return PublishResult{Status: Stored, Offset: a.first + uint64(i)}
	}
	return a.results[i]
}

// AppendPublishAck appends the ack of a publish frame with one result per
// message, in the compact form when every message was stored at
// consecutive offsets.
func AppendPublishAck(dst []byte, context uint64, results []PublishResult) []byte {
	dst = append(dst, byte(TypePublishAck))
	dst = binary.AppendUvarint(dst, context)
	consecutive := len(results) > 0
	for i, r := range results {
		if r.Status != Stored || r.Offset != results[0].Offset+uint64(i) {
			consecutive = false
			break
		}
	}
	if consecutive {
		dst = append(dst, ackAllStored)
		dst = binary.AppendUvarint(dst, uint64(len(results)))
		return binary.AppendUvarint(dst, results[0].Offset)
	}
	dst = append(dst, ackEach)
	dst = binary.AppendUvarint(dst, uint64(len(results)))
	for _, r := range results {
		dst = append(dst, byte(r.Status))
		switch r.Status {
		case Stored, Duplicate:
			dst = binary.AppendUvarint(dst, r.Offset)
		case Refused:
			dst = binary.AppendUvarint(dst, uint64(max(r.Code, 0)))
			dst = appendString(dst, cutError(r.Error))
		}
	}
	return dst
}

// AppendPublishRefusal appends the ack of a publish frame refused as a
// whole.
func AppendPublishRefusal(dst []byte, context uint64, code int, msg string) []byte {
	dst = append(dst, byte(TypePublishAck))
	dst = binary.AppendUvarint(dst, context)
	dst = append(dst, ackWhole)
	dst = binary.AppendUvarint(dst, uint64(max(code, 0)))
	return appendString(dst, cutError(msg))
}

// DecodePublishAck decodes a publish ack. Results are bounded by
// MaxMessagesPerFrame.
func DecodePublishAck(frame []byte) (PublishAck, error) {
	d := newDecoder(frame, TypePublishAck)
	var a PublishAck
	a.Context = d.uvarint("context")
	switch form := d.byte("ack form"); {
	case d.err != nil:
	case form == ackAllStored:
		a.allStored = true
		n := d.uvarint("message count")
		a.first = d.uvarint("first offset")
		if d.err == nil && (n == 0 || n > MaxMessagesPerFrame || a.first > math.MaxUint64-n) {
			d.fail("%d messages from offset %d", n, a.first)
		}
		a.Count = int(n)
	case form == ackEach:
		a.Count = d.count("message count", MaxMessagesPerFrame, 1)
		a.results = make([]PublishResult, a.Count)
		for i := range a.results {
			a.results[i] = d.publishResult()
			if d.err != nil {
				break
			}
		}
	case form == ackWhole:
		code := d.uvarint("error code")
		msg := d.errorText()
		if d.err == nil && code > math.MaxInt32 {
			d.fail("error code %d", code)
		}
		a.Refusal = &wsproto.PublishError{Code: int(code), Msg: msg}
	default:
		d.fail("unknown ack form %d", form)
	}
	if err := d.end(); err != nil {
		return PublishAck{}, err
	}
	return a, nil
}

func (d *decoder) publishResult() PublishResult {
	r := PublishResult{Status: Status(d.byte("status"))}
	switch r.Status {
	case Stored, Duplicate:
		r.Offset = d.uvarint("offset")
	case DuplicateForgotten:
	case Refused:
		code := d.uvarint("error code")
		r.Error = d.errorText()
		if d.err == nil && code > math.MaxInt32 {
			d.fail("error code %d", code)
		}
		r.Code = int(code)
	default:
		d.fail("unknown status %d", r.Status)
	}
	return r
}

// errorText reads an error string bounded by MaxErrorBytes.
func (d *decoder) errorText() string {
	b := d.bytes("error")
	if d.err == nil && len(b) > MaxErrorBytes {
		d.fail("error text of %d bytes, at most %d", len(b), MaxErrorBytes)
		return ""
	}
	return string(b)
}
