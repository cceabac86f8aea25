package kafka

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/causeway/causeway/broker"
)

// Headers. A Kafka record's headers are an ordered list in which a key may
// repeat and a value may be null. A message's properties are a map, which
// every front end shows; so a record's headers are stored as properties
// (the last value of each key; a null value as "") and, when the map alone
// does not say them (a repeated key, keys out of sorted order, a null
// value), also as one internal property, broker.KafkaHeadersProperty,
// holding the encoded list:
//
//	version(1)=1, uvarint count, then per header: uvarint key length, key,
//	uvarint value length + 1 (0: null), value.
//
// Fetch returns the list when it is there and agrees with the map (a
// message written before this format, or by another front end, or whose
// property was set by hand, gets its map in sorted key order).

// headerListVersion is the first byte of an encoded header list.
const headerListVersion = 1

// errBadHeaderList: an encoded header list that does not decode.
var errBadHeaderList = errors.New("kafka: bad header list")

// headersToProperties returns the properties of a record's headers (nil
// for none).
func headersToProperties(hs []kmsg.Header) map[string]string {
	if len(hs) == 0 {
		return nil
	}
	props := make(map[string]string, len(hs)+1)
	plain := true
	for i, h := range hs {
		props[h.Key] = string(h.Value)
		if h.Value == nil || (i > 0 && hs[i-1].Key >= h.Key) {
			plain = false
		}
	}
	if !plain {
		props[broker.KafkaHeadersProperty] = string(appendHeaderList(nil, hs))
	}
	return props
}

// propertiesToHeaders returns the headers of a stored message: its header
// list if it has one that agrees with its properties, else its user
// properties in sorted key order.
func propertiesToHeaders(dst []kmsg.Header, props map[string]string) []kmsg.Header {
	if enc, ok := props[broker.KafkaHeadersProperty]; ok {
		if hs, err := decodeHeaderList(dst, []byte(enc)); err == nil && agrees(hs, props) {
			return hs
		}
	}
	for _, k := range sortedKeys(props) {
		if !broker.InternalProperty(k) {
			dst = append(dst, kmsg.Header{Key: k, Value: []byte(props[k])})
		}
	}
	return dst
}

// agrees reports whether hs says the same as props' user properties.
func agrees(hs []kmsg.Header, props map[string]string) bool {
	last := make(map[string]string, len(hs))
	for _, h := range hs {
		last[h.Key] = string(h.Value)
	}
	users := 0
	for k, v := range props {
		if broker.InternalProperty(k) {
			continue
		}
		users++
		if w, ok := last[k]; !ok || w != v {
			return false
		}
	}
	return users == len(last)
}

// appendHeaderList appends the encoding of hs to dst.
func appendHeaderList(dst []byte, hs []kmsg.Header) []byte {
	dst = append(dst, headerListVersion)
	dst = binary.AppendUvarint(dst, uint64(len(hs)))
	for _, h := range hs {
		dst = binary.AppendUvarint(dst, uint64(len(h.Key)))
		dst = append(dst, h.Key...)
		if h.Value == nil {
			dst = binary.AppendUvarint(dst, 0)
			continue
		}
		dst = binary.AppendUvarint(dst, uint64(len(h.Value))+1)
		dst = append(dst, h.Value...)
	}
	return dst
}

// decodeHeaderList decodes an encoded header list, appending to dst.
func decodeHeaderList(dst []kmsg.Header, b []byte) ([]kmsg.Header, error) {
	if len(b) == 0 || b[0] != headerListVersion {
		return dst, fmt.Errorf("%w: version", errBadHeaderList)
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	// Every header takes at least two bytes.
	if k <= 0 || n > uint64(len(b)) {
		return dst, fmt.Errorf("%w: count", errBadHeaderList)
	}
	b = b[k:]
	for range n {
		kl, k := binary.Uvarint(b)
		if k <= 0 || kl > uint64(len(b)-k) {
			return dst, fmt.Errorf("%w: key", errBadHeaderList)
		}
		key := string(b[k : k+int(kl)])
		b = b[k+int(kl):]
		vl, k := binary.Uvarint(b)
		if k <= 0 || (vl > 0 && vl-1 > uint64(len(b)-k)) {
			return dst, fmt.Errorf("%w: value", errBadHeaderList)
		}
		h := kmsg.Header{Key: key}
		if vl > 0 {
			h.Value = append([]byte{}, b[k:k+int(vl-1)]...)
			b = b[k+int(vl-1):]
		} else {
			b = b[k:]
		}
		dst = append(dst, h)
	}
	if len(b) != 0 {
		return dst, fmt.Errorf("%w: %d trailing bytes", errBadHeaderList, len(b))
	}
	return dst, nil
}
