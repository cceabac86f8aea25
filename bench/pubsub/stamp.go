package pubsub

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// StampBytes is the size of the stamp at the start of every payload, and so
// the smallest message size.
const StampBytes = 24

var stampMagic = [4]byte{'c', 'w', 'b', 1}

// ErrNotStamped is returned for a payload the bench did not write.
var ErrNotStamped = errors.New("pubsub: payload carries no bench stamp")

// Stamp identifies a message and when it was (meant to be) sent.
type Stamp struct {
	Producer uint32
	Seq      uint64
	Sent     time.Time
}

// Put writes s into the first StampBytes of payload, which must be at least
// that long.
func (s Stamp) Put(payload []byte) {
	_ = payload[StampBytes-1]
	copy(payload[0:4], stampMagic[:])
	binary.BigEndian.PutUint32(payload[4:8], s.Producer)
	binary.BigEndian.PutUint64(payload[8:16], s.Seq)
	binary.BigEndian.PutUint64(payload[16:24], uint64(s.Sent.UnixNano()))
}

// ReadStamp decodes the stamp at the start of payload.
func ReadStamp(payload []byte) (Stamp, error) {
	if len(payload) < StampBytes {
		return Stamp{}, fmt.Errorf("%w: %d bytes", ErrNotStamped, len(payload))
	}
	if [4]byte(payload[0:4]) != stampMagic {
		return Stamp{}, fmt.Errorf("%w: bad magic %x", ErrNotStamped, payload[0:4])
	}
	return Stamp{
		Producer: binary.BigEndian.Uint32(payload[4:8]),
		Seq:      binary.BigEndian.Uint64(payload[8:16]),
		Sent:     time.Unix(0, int64(binary.BigEndian.Uint64(payload[16:24]))),
	}, nil
}

// NewPayload returns a message of size bytes: room for the stamp, then a
// fixed filler.
func NewPayload(size int) []byte {
	b := make([]byte, max(size, StampBytes))
	for i := StampBytes; i < len(b); i++ {
		b[i] = 'a' + byte(i%26)
	}
	return b
}
