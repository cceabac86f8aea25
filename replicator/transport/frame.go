package transport

import (
	"encoding/binary"
	"fmt"
	"io"
)

// frameHeaderBytes is the length prefix of a frame (big endian).
const frameHeaderBytes = 4

// AppendFrame appends msg with its length prefix to dst.
func AppendFrame(dst, msg []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(msg)))
	return append(dst, msg...)
}

// ReadFrame reads one frame from r into a new buffer. A length above
// maxFrameBytes, or an empty frame, is an error and nothing more is read.
func ReadFrame(r io.Reader, maxFrameBytes int) ([]byte, error) {
	var h [frameHeaderBytes]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(h[:])
	if n == 0 || uint64(n) > uint64(maxFrameBytes) {
		return nil, fmt.Errorf("transport: frame of %d bytes, want 1..%d: %w", n, maxFrameBytes, ErrFrameTooLarge)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("transport: frame body: %w", err)
	}
	return buf, nil
}
