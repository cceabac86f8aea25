package kafka

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Errors of the wire layer. Any of them closes the connection.
var (
	ErrFrameSize          = errors.New("kafka: bad request size")
	ErrMalformedRequest   = errors.New("kafka: malformed request")
	ErrUnsupportedVersion = errors.New("kafka: unsupported API version")
	ErrUnknownAPI         = errors.New("kafka: unknown API key")
	// ErrRequestTooLarge is the ErrFrameSize of a request larger than
	// the listener's bound (Config.MaxRequestBytes); it is counted in
	// limits.Metrics.KafkaTooLarge.
	ErrRequestTooLarge = fmt.Errorf("%w: larger than the limit", ErrFrameSize)
)

// maxClientIDBytes bounds the client id of a request header.
const maxClientIDBytes = 1 << 10

// readFrame reads one size-prefixed request into buf (grown as needed) and
// returns it. A size outside 8..maxBytes is ErrFrameSize (ErrRequestTooLarge
// above maxBytes); nothing of such a request is read.
func readFrame(r io.Reader, buf []byte, maxBytes int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	size := int32(binary.BigEndian.Uint32(hdr[:]))
	if int(size) > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes (limit %d)", ErrRequestTooLarge, size, maxBytes)
	}
	if size < 8 {
		return nil, fmt.Errorf("%w: %d bytes", ErrFrameSize, size)
	}
	if cap(buf) < int(size) {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("kafka: read %d-byte request: %w", size, err)
	}
	return buf, nil
}

// request is one decoded request with its header.
type request struct {
	key           int16
	version       int16
	correlationID int32
	clientID      string
	msg           kmsg.Request
}

// decodeRequest decodes a request frame (without its size prefix). An
// ApiVersions request of a version above the ones served decodes to a
// request with msg == nil so it can be answered with UNSUPPORTED_VERSION;
// any other unknown key or version is an error.
func decodeRequest(frame []byte) (request, error) {
	b := kbin.Reader{Src: frame}
	var req request
	req.key = b.Int16()
	req.version = b.Int16()
	req.correlationID = b.Int32()
	clientLen := b.Int16()
	if clientLen > maxClientIDBytes {
		return req, fmt.Errorf("%w: client id of %d bytes", ErrMalformedRequest, clientLen)
	}
	if clientLen > 0 {
		req.clientID = string(b.Span(int(clientLen)))
	}
	if !b.Ok() {
		return req, fmt.Errorf("%w: truncated header", ErrMalformedRequest)
	}
	msg := kmsg.RequestForKey(req.key)
	if msg == nil {
		return req, fmt.Errorf("%w: %d", ErrUnknownAPI, req.key)
	}
	if !supported(req.key, req.version) {
		if req.key == kmsg.ApiVersions.Int16() && req.version > supportedAPIs[req.key].max {
			return req, nil // answered with UNSUPPORTED_VERSION and our versions
		}
		return req, fmt.Errorf("%w: %s v%d", ErrUnsupportedVersion, kmsg.NameForKey(req.key), req.version)
	}
	msg.SetVersion(req.version)
	if msg.IsFlexible() {
		skipTags(&b)
		if !b.Ok() {
			return req, fmt.Errorf("%w: truncated header tags", ErrMalformedRequest)
		}
	}
	if err := msg.ReadFrom(b.Src); err != nil {
		return req, fmt.Errorf("%w: %s v%d: %v", ErrMalformedRequest, kmsg.NameForKey(req.key), req.version, err)
	}
	req.msg = msg
	return req, nil
}

// skipTags skips a tagged-field section.
func skipTags(b *kbin.Reader) {
	n := b.Uvarint()
	for i := uint32(0); i < n && b.Ok(); i++ {
		b.Uvarint()
		size := b.Uvarint()
		b.Span(int(size))
	}
}

// encodeResponse appends the size-prefixed response frame to dst. The
// response header is flexible (a tag section after the correlation id)
// when the response is, except for ApiVersions, whose header never is.
func encodeResponse(dst []byte, correlationID int32, resp kmsg.Response) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = kbin.AppendInt32(dst, correlationID)
	if resp.IsFlexible() && resp.Key() != kmsg.ApiVersions.Int16() {
		dst = append(dst, 0)
	}
	dst = resp.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}
