package ship

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/region"
)

// Wire format, version 1. Integers are uvarints; strings are a uvarint
// length and bytes.
//
//	request:  magic 'F', unit, from node, from incarnation, epoch, offset,
//	          last epoch, max wait in milliseconds
//	response: magic 'R', unit, epoch, offset, last epoch, error (1 byte),
//	          diverging (1 byte: 0 or 1), diverging epoch, diverging end,
//	          high watermark, log start, chunk count, then per chunk: its leader
//	          epoch and a segment batch (segment.EncodeBatch: header with
//	          its base offset, CRC32C, records) as length and bytes
//
// Chunks hold consecutive offsets in non-decreasing epochs.
const (
	requestMagic  = 'F'
	responseMagic = 'R'

	// MaxRequestBytes bounds an encoded request.
	MaxRequestBytes = 2 << 10
	// MaxResponseBytes bounds an encoded response.
	MaxResponseBytes = 64 << 20
	maxChunks        = 1 << 16
)

// ErrMalformed wraps every decoding failure.
var ErrMalformed = errors.New("ship: malformed message")

// Request is a fetch on the wire: the region's request and how long the
// leader may hold it while there is nothing new.
type Request struct {
	region.FetchRequest
	MaxWaitMillis uint64
}

// Response is a fetch answer on the wire: the region's answer, whose
// Entries carry no data, and the records they stand for, one per entry.
type Response struct {
	region.FetchResponse
	Records []segment.Record
}

// EncodeRequest encodes r.
func EncodeRequest(r Request) []byte {
	b := []byte{requestMagic}
	b = appendString(b, string(r.Unit))
	for _, v := range []uint64{uint64(r.From.Node), r.From.Incarnation, r.Epoch, r.Offset, r.LastEpoch, r.MaxWaitMillis} {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

// DecodeRequest decodes and checks a request.
func DecodeRequest(b []byte) (Request, error) {
	var r Request
	if len(b) > MaxRequestBytes {
		return r, fmt.Errorf("%w: request of %d bytes", ErrMalformed, len(b))
	}
	d := decoder{b: b}
	if d.byte() != requestMagic {
		return r, fmt.Errorf("%w: not a fetch request", ErrMalformed)
	}
	r.Unit = region.UnitID(d.string(region.MaxUnitIDBytes))
	r.From.Node = region.NodeID(d.uvarint())
	r.From.Incarnation = d.uvarint()
	r.Epoch = d.uvarint()
	r.Offset = d.uvarint()
	r.LastEpoch = d.uvarint()
	r.MaxWaitMillis = d.uvarint()
	switch {
	case d.err != nil:
		return Request{}, d.err
	case len(d.b) != 0:
		return Request{}, fmt.Errorf("%w: %d bytes after the request", ErrMalformed, len(d.b))
	case r.Unit == "" || r.From.Node == 0:
		return Request{}, fmt.Errorf("%w: a request names its unit and node", ErrMalformed)
	}
	return r, nil
}

// EncodeResponse encodes r: its Entries give offsets and epochs, Records
// the data (the same length, in the same order).
func EncodeResponse(r Response) []byte {
	size := 64 + len(r.Unit)
	for i := range r.Records {
		size += r.Records[i].Size()
	}
	b := make([]byte, 0, size)
	b = append(b, responseMagic)
	b = appendString(b, string(r.Unit))
	b = binary.AppendUvarint(b, r.Epoch)
	b = binary.AppendUvarint(b, r.Offset)
	b = binary.AppendUvarint(b, r.LastEpoch)
	b = append(b, byte(r.Err), boolByte(r.Diverging))
	b = binary.AppendUvarint(b, r.DivergingEpoch)
	b = binary.AppendUvarint(b, r.DivergingEnd)
	b = binary.AppendUvarint(b, r.HighWatermark)
	b = binary.AppendUvarint(b, r.LogStart)
	var chunks [][2]int // [start, end) entry indexes of one epoch
	for i := 0; i < len(r.Entries); {
		j := i + 1
		for j < len(r.Entries) && r.Entries[j].Epoch == r.Entries[i].Epoch {
			j++
		}
		chunks = append(chunks, [2]int{i, j})
		i = j
	}
	b = binary.AppendUvarint(b, uint64(len(chunks)))
	var batch []byte
	for _, c := range chunks {
		b = binary.AppendUvarint(b, r.Entries[c[0]].Epoch)
		batch = segment.EncodeBatch(batch[:0], r.Entries[c[0]].Offset, r.Records[c[0]:c[1]])
		b = binary.AppendUvarint(b, uint64(len(batch)))
		b = append(b, batch...)
	}
	return b
}

// DecodeResponse decodes and checks a response: every batch's CRC and
// fields, offsets consecutive, epochs non-decreasing and within the
// response's epoch. The records alias b.
func DecodeResponse(b []byte) (Response, error) {
	var r Response
	if len(b) > MaxResponseBytes {
		return r, fmt.Errorf("%w: response of %d bytes", ErrMalformed, len(b))
	}
	d := decoder{b: b}
	if d.byte() != responseMagic {
		return r, fmt.Errorf("%w: not a fetch response", ErrMalformed)
	}
	r.Unit = region.UnitID(d.string(region.MaxUnitIDBytes))
	r.Epoch = d.uvarint()
	r.Offset = d.uvarint()
	r.LastEpoch = d.uvarint()
	r.Err = region.FetchError(d.byte())
	diverging := d.byte()
	r.DivergingEpoch = d.uvarint()
	r.DivergingEnd = d.uvarint()
	r.HighWatermark = d.uvarint()
	r.LogStart = d.uvarint()
	n := d.uvarint()
	switch {
	case d.err != nil:
		return Response{}, d.err
	case r.Err > region.FetchNotReplica:
		return Response{}, fmt.Errorf("%w: unknown fetch error %d", ErrMalformed, r.Err)
	case diverging > 1:
		return Response{}, fmt.Errorf("%w: diverging flag %d", ErrMalformed, diverging)
	case n > maxChunks:
		return Response{}, fmt.Errorf("%w: %d chunks", ErrMalformed, n)
	}
	r.Diverging = diverging == 1
	var lastEpoch uint64
	for i := uint64(0); i < n; i++ {
		epoch := d.uvarint()
		raw := d.raw()
		if d.err != nil {
			return Response{}, d.err
		}
		if epoch == 0 || epoch < lastEpoch || epoch > r.Epoch {
			return Response{}, fmt.Errorf("%w: chunk of epoch %d after %d in a response of epoch %d", ErrMalformed, epoch, lastEpoch, r.Epoch)
		}
		lastEpoch = epoch
		first := len(r.Records)
		recs, size, err := segment.DecodeBatch(raw, r.Records)
		if err != nil {
			return Response{}, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		if size != len(raw) {
			return Response{}, fmt.Errorf("%w: %d bytes after a batch", ErrMalformed, len(raw)-size)
		}
		r.Records = recs
		for _, rec := range recs[first:] {
			if len(r.Entries) > 0 && rec.Offset != r.Entries[len(r.Entries)-1].Offset+1 {
				return Response{}, fmt.Errorf("%w: offset %d after %d", ErrMalformed, rec.Offset, r.Entries[len(r.Entries)-1].Offset)
			}
			r.Entries = append(r.Entries, region.Entry{Offset: rec.Offset, Epoch: epoch})
		}
	}
	if len(d.b) != 0 {
		return Response{}, fmt.Errorf("%w: %d bytes after the response", ErrMalformed, len(d.b))
	}
	if len(r.Entries) > 0 && (r.Err != region.FetchOK || r.Diverging) {
		return Response{}, fmt.Errorf("%w: records in a refusal or divergence", ErrMalformed)
	}
	return r, nil
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads fields; the first error sticks and later reads return zero
// values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) raw() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("length %d past the end", n)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string(limit int) string {
	v := d.raw()
	if len(v) > limit {
		d.fail("string of %d bytes (at most %d)", len(v), limit)
		return ""
	}
	return string(v)
}
