package kafka

import (
	"errors"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/causeway/causeway/broker"
)

func hdr(kv ...string) []kmsg.Header {
	var out []kmsg.Header
	for i := 0; i < len(kv); i += 2 {
		h := kmsg.Header{Key: kv[i]}
		if kv[i+1] != "<null>" {
			h.Value = []byte(kv[i+1])
		}
		out = append(out, h)
	}
	return out
}

// TestHeadersRoundTrip: headers stored as properties come back as the same
// ordered list (repeated keys, order and null values kept); the property
// map holds the last value of each key; a list is stored only when the map
// cannot say the headers.
func TestHeadersRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       []kmsg.Header
		props    map[string]string
		withList bool
	}{
		{"none", nil, nil, false},
		{"sorted distinct", hdr("a", "1", "b", "2"), map[string]string{"a": "1", "b": "2"}, false},
		{"repeated key", hdr("dup", "a", "dup", "b"), map[string]string{"dup": "b"}, true},
		{"unsorted", hdr("z", "1", "a", "2"), map[string]string{"z": "1", "a": "2"}, true},
		{"null value", hdr("n", "<null>"), map[string]string{"n": ""}, true},
		{"empty value", hdr("e", ""), map[string]string{"e": ""}, false},
		{"binary", hdr("b", "\x00\xff", "a", "x"), map[string]string{"b": "\x00\xff", "a": "x"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			props := headersToProperties(tc.in)
			_, hasList := props[broker.KafkaHeadersProperty]
			if hasList != tc.withList {
				t.Fatalf("list stored: %v, want %v", hasList, tc.withList)
			}
			if got := broker.UserProperties(props); !reflect.DeepEqual(got, tc.props) && len(got)+len(tc.props) > 0 {
				t.Fatalf("properties %q, want %q", got, tc.props)
			}
			got := propertiesToHeaders(nil, props)
			if !reflect.DeepEqual(got, tc.in) {
				t.Fatalf("headers %+v, want %+v", got, tc.in)
			}
		})
	}
}

// TestHeadersFallBack: a message without a list, or whose list disagrees
// with its properties (written by hand over WebSocket, say), gets its
// properties as headers in sorted key order; internal properties are never
// headers.
func TestHeadersFallBack(t *testing.T) {
	list := string(appendHeaderList(nil, hdr("x", "1", "x", "2")))
	for _, tc := range []struct {
		name  string
		props map[string]string
		want  []kmsg.Header
	}{
		{"map only", map[string]string{"b": "2", "a": "1"}, hdr("a", "1", "b", "2")},
		{"list agrees", map[string]string{"x": "2", broker.KafkaHeadersProperty: list}, hdr("x", "1", "x", "2")},
		{"value changed", map[string]string{"x": "3", broker.KafkaHeadersProperty: list}, hdr("x", "3")},
		{"key added", map[string]string{"x": "2", "y": "1", broker.KafkaHeadersProperty: list}, hdr("x", "2", "y", "1")},
		{"garbage list", map[string]string{"x": "2", broker.KafkaHeadersProperty: "\x01\xff"}, hdr("x", "2")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := propertiesToHeaders(nil, tc.props); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("headers %+v, want %+v", got, tc.want)
			}
		})
	}
}

// FuzzDecodeHeaderList: a stored header list comes from any producer's
// properties: it decodes to a list that re-encodes to the same bytes, or is
// refused; it never panics.
func FuzzDecodeHeaderList(f *testing.F) {
	f.Add(appendHeaderList(nil, hdr("dup", "a", "dup", "b", "n", "<null>")))
	f.Add([]byte{1, 0})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		hs, err := decodeHeaderList(nil, b)
		if err != nil {
			if !errors.Is(err, errBadHeaderList) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if again := appendHeaderList(nil, hs); string(again) != string(b) {
			// Uvarints have one canonical encoding only when minimal; a
			// non-minimal one decodes but re-encodes shorter.
			hs2, err := decodeHeaderList(nil, again)
			if err != nil || !reflect.DeepEqual(hs, hs2) {
				t.Fatalf("round trip: %+v -> %+v, %v", hs, hs2, err)
			}
		}
	})
}
