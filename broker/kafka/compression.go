package kafka

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

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

// decoders holds the stateful decompressors shared by every connection of
// a server (zstd's DecodeAll is safe for concurrent use).
type decoders struct {
	zstd *zstd.Decoder
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

// decompress returns the records bytes of a batch, at most maxBytes long.
func (d *decoders) decompress(codec compressionCodec, src []byte, maxBytes int) ([]byte, error) {
	switch codec {
	case codecNone:
		return src, nil
	case codecGzip:
		r, err := gzip.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %v", ErrCompression, err)
		}
		return readBounded(r, maxBytes, "gzip")
	case codecSnappy:
		return unsnappy(src, maxBytes)
	case codecLZ4:
		return readBounded(lz4.NewReader(bytes.NewReader(src)), maxBytes, "lz4")
	case codecZstd:
		dst, err := d.zstd.DecodeAll(src, nil)
		if err != nil {
			return nil, fmt.Errorf("%w: zstd: %v", ErrCompression, err)
		}
		if len(dst) > maxBytes {
			return nil, fmt.Errorf("%w: zstd batch decompresses past %d bytes", ErrBatchTooLarge, maxBytes)
		}
		return dst, nil
	}
	return nil, fmt.Errorf("%w: codec %d", ErrCompression, codec)
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

// unsnappy decodes raw or xerial-framed snappy.
func unsnappy(src []byte, maxBytes int) ([]byte, error) {
	if !bytes.HasPrefix(src, xerialMagic) {
		return snappyBlock(nil, src, maxBytes)
	}
	if len(src) < 16 {
		return nil, fmt.Errorf("%w: short xerial header", ErrCompression)
	}
	src = src[16:]
	var out []byte
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
		if out, err = snappyBlock(out, src[:n], maxBytes-len(out)); err != nil {
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
