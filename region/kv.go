package region

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The region's key-value map (State.KV): small pieces of metadata that must
// outlive any one node, such as the cursors of a stream's subscriptions
// (Pulsar keeps those in its metadata store for the same reason). Keys and
// values are UTF-8 strings; binary values are the caller's to encode.
//
// Every bound below is part of the replicated state machine: changing one
// changes which commands every replica refuses.
const (
	// MaxKVKeyBytes bounds a key (and a prefix).
	MaxKVKeyBytes = 512
	// MaxKVEntryBytes bounds a key and its value together, measured as
	// JSON strings (KVEntryBytes), so that a KindPutKV command always
	// encodes within MaxCommandBytes. For a key and value of plain
	// printable ASCII without quotes, backslashes, '<', '>' or '&' (base64,
	// for example) it is the sum of their lengths.
	MaxKVEntryBytes = MaxCommandBytes - kvEnvelopeBytes
	// MaxKVEntries bounds the number of keys in the map.
	MaxKVEntries = 100_000
	// MaxKVTotalBytes bounds the sum of KVEntryBytes over the map, which
	// bounds what the map adds to a snapshot of the state.
	MaxKVTotalBytes = 32 << 20

	// kvEnvelopeBytes is room for what a KV command holds besides its key
	// and value: {"kind":NN,"key":"","value":""} is 31 bytes.
	kvEnvelopeBytes = 64
)

// ErrKVFull: a put would take the map past MaxKVEntries or MaxKVTotalBytes.
var ErrKVFull = errors.New("region: the key-value map is full")

// KVEntryBytes is the size a key and value take in a command and in a
// snapshot, as JSON strings without their quotes. It is an upper bound of
// what encoding/json writes (every character it may escape as \uXXXX is
// counted as 6 bytes), and it does not depend on the Go version.
func KVEntryBytes(key, value string) int {
	return jsonStringBytes(key) + jsonStringBytes(value)
}

func jsonStringBytes(s string) int {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t':
			n += 2
		case r < 0x20 || r == '<' || r == '>' || r == '&' || r == '\u2028' || r == '\u2029' || (r == utf8.RuneError && size == 1):
			n += 6
		default:
			n += size
		}
	}
	return n
}

// validateKV checks a KV command's own fields: a key-value command carries
// nothing but its key (a prefix, for KindDeletePrefix) and, for a put, its
// value.
func (c Command) validateKV(bad func(string, ...any) error) error {
	if c.Member != (Member{}) || c.Addrs != (Addrs{}) || c.Unit != "" || c.Epoch != 0 || c.Factor != 0 ||
		len(c.Replicas) != 0 || len(c.InSync) != 0 || c.Info != "" || c.Version != 0 || c.RaftReplica != 0 || c.Group != "" {
		return bad("carries fields other than key and value")
	}
	if c.Key == "" || len(c.Key) > MaxKVKeyBytes || strings.ContainsRune(c.Key, 0) || !utf8.ValidString(c.Key) {
		return bad("key must be 1-%d bytes of UTF-8 without NUL", MaxKVKeyBytes)
	}
	if c.Kind != KindPutKV {
		if c.Value != "" {
			return bad("carries a value")
		}
		return nil
	}
	if !utf8.ValidString(c.Value) {
		return bad("value is not UTF-8")
	}
	if n := KVEntryBytes(c.Key, c.Value); n > MaxKVEntryBytes {
		return bad("key and value take %d bytes (at most %d)", n, MaxKVEntryBytes)
	}
	return nil
}

// kvSize returns the map's total KVEntryBytes, counting it again after the
// state was decoded from a snapshot or built by hand.
func (s *State) kvSize() int {
	if !s.kvCounted {
		s.kvBytes = 0
		for k, v := range s.KV {
			s.kvBytes += KVEntryBytes(k, v)
		}
		s.kvCounted = true
	}
	return s.kvBytes
}

func (s *State) putKV(key, value string) error {
	total := s.kvSize()
	old, exists := s.KV[key]
	if exists {
		total -= KVEntryBytes(key, old)
	} else if len(s.KV) >= MaxKVEntries {
		return fmt.Errorf("%w: %d keys (at most %d)", ErrKVFull, len(s.KV), MaxKVEntries)
	}
	total += KVEntryBytes(key, value)
	if total > MaxKVTotalBytes && total > s.kvBytes {
		return fmt.Errorf("%w: %d bytes (at most %d)", ErrKVFull, total, MaxKVTotalBytes)
	}
	if s.KV == nil {
		s.KV = map[string]string{}
	}
	s.KV[key] = value
	s.kvBytes = total
	return nil
}

// deleteKV removes key; a missing key is not an error (a retried delete).
func (s *State) deleteKV(key string) {
	if v, ok := s.KV[key]; ok {
		s.kvBytes = s.kvSize() - KVEntryBytes(key, v)
		delete(s.KV, key)
	}
}

// deletePrefix removes every key that begins with prefix.
func (s *State) deletePrefix(prefix string) {
	total := s.kvSize()
	for k, v := range s.KV {
		if strings.HasPrefix(k, prefix) {
			total -= KVEntryBytes(k, v)
			delete(s.KV, k)
		}
	}
	s.kvBytes = total
}
