package collections

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// sampleStates returns encoded states from a few simulated histories,
// compacted and not.
func sampleStates(t testing.TB) [][]byte {
	var out [][]byte
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, seed))
		s := newSim(t, rng, 3)
		s.run(80)
		rp := newReplica()
		for _, op := range s.ops {
			rp.deliver(t, op)
		}
		for _, d := range rp.docs {
			out = append(out, d.AppendBinary(nil))
		}
		rp.compact(t, rp.delivered)
		for _, d := range rp.docs {
			out = append(out, d.AppendBinary(nil))
		}
	}
	return out
}

func TestDocBinaryRoundTrip(t *testing.T) {
	states := sampleStates(t)
	empty := NewDoc(testCollection, testKey).AppendBinary(nil)
	for _, enc := range append(states, empty) {
		d, err := DecodeDoc(enc)
		if err != nil {
			t.Fatalf("DecodeDoc: %v", err)
		}
		if !bytes.Equal(d.AppendBinary(nil), enc) {
			t.Fatal("round trip differs")
		}
		for i := range enc {
			if _, err := DecodeDoc(enc[:i]); !errors.Is(err, ErrCorruptState) {
				t.Fatalf("prefix of %d bytes: err %v, want ErrCorruptState", i, err)
			}
		}
		if _, err := DecodeDoc(append(bytes.Clone(enc), 0)); !errors.Is(err, ErrCorruptState) {
			t.Fatal("trailing byte accepted")
		}
	}
}

func TestDecodeDocRejects(t *testing.T) {
	d := NewDoc(testCollection, testKey)
	mustApply(t, d, insert("us:1", "", 1, `{"a":{"b":1}}`))
	good := d.AppendBinary(nil)
	// A hand-built state: regions [us], applied us:1, no expiry, then the
	// root node with one marker and one child.
	prefix := []byte{1, 1, 'c', 1, 'k', 1, 2, 'u', 's', 1, 0, 1, 0}
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"version 3", append([]byte{3}, good[1:]...)},
		{"unsorted heads", []byte{2, 1, 'c', 1, 'k', 1, 2, 'u', 's', 1, 0, 1, 2, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 1, 1, 'a', 0, 1, 1, 1, 1, 1, '1', 0, 0}},
		{"stable dot as a head", []byte{2, 1, 'c', 1, 'k', 1, 2, 'u', 's', 1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 'a', 0, 1, 1, 1, 1, 1, '1', 0, 0}},
		{"bad collection", append([]byte{1, 1, '1'}, good[3:]...)},
		{"unused region", []byte{1, 1, 'c', 1, 'k', 1, 2, 'u', 's', 0, 0, 0, 0, 0, 0}},
		{"unsorted regions", []byte{1, 1, 'c', 1, 'k', 2, 1, 'b', 1, 'a', 2, 0, 1, 1, 1, 0, 0, 0, 0, 0}},
		{"children under a non-object", append(bytes.Clone(prefix), 0, 0, 0, 1, 1, 'a', 1, 1, 1)},
		{"empty child", append(bytes.Clone(prefix), 1, 1, 1, 0, 0, 1, 1, 'a', 0, 0, 0, 0)},
		{"root holding a value", append(bytes.Clone(prefix), 1, 1, 1, 1, 1, 1, 1, 1, '1', 0, 0)},
		{"object as a value", append(bytes.Clone(prefix), 1, 1, 1, 0, 0, 1, 1, 'a', 0, 1, 1, 1, 1, 2, '{', '}', 0, 0)},
		{"stable dot on a value", append(bytes.Clone(prefix), 1, 1, 1, 0, 0, 1, 1, 'a', 0, 1, 0, 1, 1, '1', 0, 0)},
		{"reserved attribute", append(bytes.Clone(prefix), 1, 1, 1, 0, 0, 1, 4, '_', 'k', 'e', 'y', 0, 1, 1, 1, 1, 1, '1', 0, 0)},
		{"dot seq 0", append(bytes.Clone(prefix), 1, 1, 0, 0, 0, 0)},
		{"region index out of range", append(bytes.Clone(prefix), 1, 2, 1, 0, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeDoc(tt.b)
			t.Log(err)
			if !errors.Is(err, ErrCorruptState) {
				t.Fatalf("DecodeDoc = %v, want ErrCorruptState", err)
			}
		})
	}
	// The hand-built prefix itself is right: with a valid root it decodes.
	valid := append(bytes.Clone(prefix), 1, 1, 1, 0, 0, 1, 1, 'a', 0, 1, 1, 1, 1, 1, '1', 0, 0)
	if _, err := DecodeDoc(valid); err != nil {
		t.Fatalf("hand-built valid state rejected: %v", err)
	}
}

// FuzzDecodeDoc: phase 2 reads states back from disk. Whatever the bytes,
// DecodeDoc never panics; what it accepts re-encodes to the same bytes and
// can be viewed, compacted and written to.
func FuzzDecodeDoc(f *testing.F) {
	for _, enc := range sampleStates(f) {
		f.Add(enc)
	}
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeDoc(b)
		if err != nil {
			if !errors.Is(err, ErrCorruptState) {
				t.Fatalf("error %v does not wrap ErrCorruptState", err)
			}
			return
		}
		if !bytes.Equal(d.AppendBinary(nil), b) {
			t.Fatal("re-encoding differs")
		}
		d.AppendJSON(nil)
		d.Conflicts()
		d.ExpiresAt()
		d.Clone().Compact(d.applied)
		op := set("zz:1000", "", 1, "a.b", `{"c":1}`)
		op.Collection, op.Key = d.Collection(), d.Key()
		if _, err := d.Apply(&op); err != nil {
			t.Fatalf("apply to a decoded state: %v", err)
		}
	})
}
