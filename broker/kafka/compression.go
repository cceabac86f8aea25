package kafka

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// ErrCompression reports a batch that does not decompress, or uses an
// unknown codec.
var ErrCompression = errors.New("kafka: bad compressed batch")

// compressionCodec is the low 3 bits of a batch's attributes.
type compressionCodec int16

const (
	codecNone compressionCodec = iota
	codecGzip
	codecSnappy
	codecLZ4
	codecZstd
)

// xerialMagic starts snappy data framed the way the Java client (and
// librdkafka) frame it: magic, version and compat ints, then blocks each
// prefixed with its int32 length.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

// maxDecompressedBatchBytes bounds a batch's decompressed records.
const maxDecompressedBatchBytes = 128 << 20

// maxPooledBodyBytes bounds the decompressed bodies kept for reuse.
const maxPooledBodyBytes = 4 << 20

// decoders holds the stateful decompressors shared by every connection of
// a server (zstd's DecodeAll is safe for concurrent use), and the buffers
// snappy and zstd batches are decompressed into: a body is given back
// (release) once the messages made from it are stored, so the next batch
// decodes into memory that is neither allocated nor zeroed again.
type decoders struct {
	zstd   *zstd.Decoder
	bodies sync.Pool // of *[]byte
}

func newDecoders() (*decoders, error) {
	z, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(2), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxMemory(maxDecompressedBatchBytes))
	if err != nil {
		return nil, fmt.Errorf("kafka: zstd decoder: %w", err)
	}
	return &decoders{zstd: z}, nil
}

// close releases the decoders.
func (d *decoders) close() { d.zstd.Close() }

// decompress returns the records bytes of a batch, at most maxBytes long,
// and the pooled buffer holding them (nil when they are not in one), to be
// released once nothing refers to them.
func (d *decoders) decompress(codec compressionCodec, src []byte, maxBytes int) ([]byte, *[]byte, error) {
	switch codec {
	case codecNone:
		return src, nil, nil
	case codecGzip:
		r, err := gzip.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: gzip: %v", ErrCompression, err)
		}
		b, err := readBounded(r, maxBytes, "gzip")
		return b, nil, err
	case codecSnappy:
		pooled := d.body()
		b, err := unsnappy((*pooled)[:0], src, maxBytes)
		return d.keep(pooled, b, err)
	case codecLZ4:
		b, err := readBounded(lz4.NewReader(bytes.NewReader(src)), maxBytes, "lz4")
		return b, nil, err
	case codecZstd:
		pooled := d.body()
		b, err := d.zstd.DecodeAll(src, (*pooled)[:0])
		if err != nil {
			err = fmt.Errorf("%w: zstd: %v", ErrCompression, err)
		} else if len(b) > maxBytes {
			err = fmt.Errorf("%w: zstd batch decompresses past %d bytes", ErrBatchTooLarge, maxBytes)
		}
		return d.keep(pooled, b, err)
	}
	return nil, nil, fmt.Errorf("%w: codec %d", ErrCompression, codec)
}

// body returns a pooled buffer to decompress into.
func (d *decoders) body() *[]byte {
	if b, ok := d.bodies.Get().(*[]byte); ok {
		return b
	}
	return new([]byte)
}

// keep records b, decoded into pooled, as pooled's content; on err the
// buffer goes back at once.
func (d *decoders) keep(pooled *[]byte, b []byte, err error) ([]byte, *[]byte, error) {
	if err != nil {
		d.release(pooled)
		return nil, nil, err
	}
	*pooled = b
	return b, pooled, nil
}

// release gives back a buffer decompress returned (nil: nothing), once no
// message refers to its bytes.
func (d *decoders) release(pooled *[]byte) {
	if pooled == nil || cap(*pooled) > maxPooledBodyBytes {
		return
	}
	*pooled = (*pooled)[:0]
	d.bodies.Put(pooled)
}

func readBounded(r io.Reader, maxBytes int, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(maxBytes)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCompression, what, err)
	}
	if len(b) > maxBytes {
		return nil, fmt.Errorf("%w: %s batch decompresses past %d bytes", ErrBatchTooLarge, what, maxBytes)
	}
	return b, nil
}

// unsnappy decodes raw or xerial-framed snappy, appended to dst.
func unsnappy(dst, src []byte, maxBytes int) ([]byte, error) {
	if !bytes.HasPrefix(src, xerialMagic) {
		return snappyBlock(dst, src, maxBytes)
	}
	if len(src) < 16 {
		return nil, fmt.Errorf("%w: short xerial header", ErrCompression)
	}
	src = src[16:]
	out := dst
	for len(src) > 0 {
		if len(src) < 4 {
			return nil, fmt.Errorf("%w: truncated xerial block length", ErrCompression)
		}
		n := binary.BigEndian.Uint32(src)
		src = src[4:]
		if uint64(n) > uint64(len(src)) {
			return nil, fmt.Errorf("%w: xerial block of %d bytes, %d left", ErrCompression, n, len(src))
		}
		var err error
		if out, err = snappyBlock(out, src[:n], maxBytes-(len(out)-len(dst))); err != nil {
			return nil, err
		}
		src = src[n:]
	}
	return out, nil
}

// snappyBlock appends the decoding of one snappy block to dst.
func snappyBlock(dst, block []byte, maxBytes int) ([]byte, error) {
	n, err := snappy.DecodedLen(block)
	if err != nil {
		return nil, fmt.Errorf("%w: snappy: %v", ErrCompression, err)
	}
	if n > maxBytes {
		return nil, fmt.Errorf("%w: snappy batch decompresses past the limit", ErrBatchTooLarge)
	}
	// Decode into dst's tail: one buffer, no copy (Decode uses the slice
	// it is given when it is long enough).
	at := len(dst)
	dst = slices.Grow(dst, n)[:at+n]
	if _, err := snappy.Decode(dst[at:], block); err != nil {
		return nil, fmt.Errorf("%w: snappy: %v", ErrCompression, err)
	}
	return dst, nil
}
