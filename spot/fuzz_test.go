package spot

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecodeTxn feeds transaction bodies through the whole pure path: the
// HTTP decoder, validation and execution. Nothing may panic; a refused
// transaction changes nothing.
func FuzzDecodeTxn(f *testing.F) {
	for _, s := range []string{
		`{"operations":[{"op":"read","collection":"c","key":"a"}]}`,
		`{"operations":[{"op":"put","collection":"c","key":"a","doc":{"n":1}}],"preconditions":[{"collection":"c","key":"a","exists":false}]}`,
		`{"operations":[{"op":"update","collection":"c","key":"a","doc":{"n":{"$inc":5},"o":{"p":null}},"keepNull":false}]}`,
		`{"operations":[{"op":"insert","collection":"c","key":"b","doc":{}}],"preconditions":[{"collection":"c","key":"a","path":["n"],"equals":1}]}`,
		`{"operations":[{"op":"delete","collection":"c","key":"a","ifRev":"x"}]}`,
		`{"operations":[]}`, `[]`, `{"operations":[{"op":"put"}]}`, `{"unknown":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		txn, err := decodeTxn(b)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("decode error without a sentinel: %v", err)
			}
			return
		}
		m := newMemState("c")
		if _, err := m.run(ops(put("c", "a", `{"n":1,"o":{"p":2}}`)), 0); err != nil {
			t.Fatal(err)
		}
		before := m.show("c", "a")
		if _, err := m.run(txn, 0); err != nil {
			var te *TxnError
			if !errors.As(err, &te) {
				t.Fatalf("refusal is not a *TxnError: %v", err)
			}
			if m.show("c", "a") != before || len(m.docs) != 1 {
				t.Fatalf("a refused transaction changed the state")
			}
		}
	})
}

// FuzzDecodeCommand checks that any Raft entry decodes to a valid command
// or an error, and that valid ones re-encode.
func FuzzDecodeCommand(f *testing.F) {
	for _, c := range []*command{
		txnCmd("id", put("c", "a", `{"x":1}`)),
		createCmd("c"),
		{Tenant: "t", Fabric: "f", Drop: "c"},
	} {
		b, _ := encodeCommand(c)
		f.Add(b)
	}
	f.Add([]byte{commandVersion})
	f.Add([]byte("\x01{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeCommand(b)
		if err != nil {
			if !errors.Is(err, ErrCorruptCommand) {
				t.Fatalf("error without the sentinel: %v", err)
			}
			return
		}
		if err := c.validate(); err != nil {
			t.Fatalf("decoded command does not validate: %v", err)
		}
		if _, err := encodeCommand(c); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
	})
}

// FuzzReadSnapshot checks that a damaged snapshot stream is refused, never
// a panic, and that records come in strictly increasing key order.
func FuzzReadSnapshot(f *testing.F) {
	var buf bytes.Buffer
	sw := newSnapshotWriter(&buf)
	_ = sw.record([]byte{1}, []byte{0, 0, 0, 0, 0, 0, 0, 9})
	_ = sw.record([]byte{2, 'x'}, []byte(`{"name":"x"}`))
	_ = sw.finish()
	f.Add(buf.Bytes())
	f.Add([]byte("SPOTSNAP\x01\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var prev []byte
		err := readSnapshot(bytes.NewReader(b), func(k, v []byte) error {
			if prev != nil && bytes.Compare(prev, k) >= 0 {
				t.Fatalf("keys out of order")
			}
			prev = append(prev[:0], k...)
			return nil
		})
		if err != nil && !errors.Is(err, ErrCorruptSnapshot) {
			t.Fatalf("error without the sentinel: %v", err)
		}
	})
}

// FuzzDecodeKVEntries checks key/value put bodies.
func FuzzDecodeKVEntries(f *testing.F) {
	for _, s := range []string{
		`{"_key":"a","value":1}`,
		`[{"_key":"a","value":{"x":1},"expireAt":1700000000},{"_key":"b","value":"s","ttl":60}]`,
		`{"_key":"a"}`, `[]`, `{"_key":"a","value":1,"ttl":-1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := decodeKVEntries(b, 1_000_000)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error without the sentinel: %v", err)
			}
			return
		}
		for _, e := range es {
			if !json.Valid(e.Value) {
				t.Fatalf("entry %q with invalid value %q", e.Key, e.Value)
			}
		}
	})
}
