package segment

import (
	"errors"
	"fmt"
	"testing"

	"github.com/causeway/causeway/broker/vfs"
)

// refStore is a payload owner for PayloadRef records: payloads by dot.
type refStore map[string][]byte

func dotKey(origin string, seq uint64) string { return fmt.Sprintf("%s:%d", origin, seq) }

func (m refStore) resolve(recs []Record) error {
	for i := range recs {
		if !recs[i].PayloadRef {
			continue
		}
		p, ok := m[dotKey(recs[i].Origin, recs[i].OriginSeq)]
		if !ok {
			return fmt.Errorf("no payload for %s:%d", recs[i].Origin, recs[i].OriginSeq)
		}
		recs[i].Payload = p
	}
	return nil
}

// refRecords returns n records, every other one appended as a PayloadRef
// (its payload in store), and what every read must return.
func refRecords(n, payload int, store refStore) (appended, want []Record) {
	for i := range n {
		r := rec(i, payload)
		r.Origin, r.OriginSeq = "eu", uint64(100+i)
		w := r
		w.Offset = uint64(i)
		want = append(want, w)
		if i%2 == 0 {
			store[dotKey(r.Origin, r.OriginSeq)] = r.Payload
			r.PayloadRef = true
		}
		appended = append(appended, r)
	}
	return appended, want
}

func TestPayloadRefs(t *testing.T) {
	fsys := vfs.NewMem()
	store := refStore{}
	opts := Options{SegmentMaxBytes: 4000, IndexIntervalBytes: 200, ResolvePayloads: store.resolve}
	l := openLog(t, fsys, opts)
	appended, want := refRecords(60, 500, store)
	for i := 0; i < len(appended); i += 7 {
		if _, err := l.Append(appended[i:min(i+7, len(appended))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := sameRecords(readAll(t, l), want); err != nil {
		t.Fatalf("Read: %v", err)
	}
	var visited []Record
	if _, err := l.ReadFunc(0, 1000, 1<<30, func(recs []Record) {
		for _, r := range recs {
			r.Payload = append([]byte(nil), r.Payload...)
			visited = append(visited, r)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := sameRecords(visited, want); err != nil {
		t.Fatalf("ReadFunc: %v", err)
	}
	// Half the payloads are not in the files.
	if stored := l.Size(); stored > int64(len(want)*500*3/4) {
		t.Errorf("log holds %d bytes for 60 records of 500 bytes, 30 of them references", stored)
	}
	// maxBytes counts referenced payloads as if stored.
	if recs, err := l.Read(0, 1000, 3*want[0].Size()); err != nil || len(recs) != 3 {
		t.Errorf("Read within 3 records' bytes = %d records, %v", len(recs), err)
	}
	// ReadStored returns the references as stored, without the owner.
	stored, err := l.ReadStored(0, 1000, 1<<30)
	if err != nil || len(stored) != len(want) {
		t.Fatalf("ReadStored = %d records, %v", len(stored), err)
	}
	for i, r := range stored {
		ref := i%2 == 0
		if r.PayloadRef != ref || (r.Payload == nil) != ref || r.Size() != want[i].Size() || r.OriginSeq != want[i].OriginSeq {
			t.Fatalf("stored record %d: ref %v, payload %d bytes, size %d (want ref %v, size %d)",
				i, r.PayloadRef, len(r.Payload), r.Size(), ref, want[i].Size())
		}
	}
	// Recovery keeps them.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, fsys, opts)
	defer l.Close()
	if err := sameRecords(readAll(t, l), want); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
}

func TestPayloadRefFailures(t *testing.T) {
	fsys := vfs.NewMem()
	store := refStore{}
	resolve := store.resolve
	opts := Options{ResolvePayloads: func(recs []Record) error { return resolve(recs) }}
	l := openLog(t, fsys, opts)
	defer l.Close()
	appended, _ := refRecords(4, 10, store)
	if _, err := l.Append(appended); err != nil {
		t.Fatal(err)
	}
	noOrigin := rec(9, 10)
	noOrigin.PayloadRef = true
	if _, err := l.Append([]Record{noOrigin}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("append of a reference without origin: %v", err)
	}
	for _, tc := range []struct {
		name    string
		resolve func([]Record) error
		want    error
	}{
		{"owner fails", func([]Record) error { return errors.New("journal gone") }, ErrPayloadUnavailable},
		{"payload left out", func([]Record) error { return nil }, ErrCorrupt},
		{"wrong length", func(recs []Record) error {
			for i := range recs {
				if recs[i].PayloadRef {
					recs[i].Payload = []byte("short")
				}
			}
			return nil
		}, ErrCorrupt},
	} {
		resolve = tc.resolve
		if _, err := l.Read(0, 10, 1<<20); !errors.Is(err, tc.want) {
			t.Errorf("%s: Read = %v, want %v", tc.name, err, tc.want)
		}
		if _, err := l.ReadFunc(0, 10, 1<<20, func([]Record) {}); !errors.Is(err, tc.want) {
			t.Errorf("%s: ReadFunc = %v, want %v", tc.name, err, tc.want)
		}
	}
	// The record before the first reference is readable alone.
	if recs, err := l.Read(1, 1, 1<<20); err != nil || len(recs) != 1 {
		t.Errorf("Read of a stored record = %d, %v", len(recs), err)
	}
	// A log without an owner for the payloads refuses to read them.
	bare := Options{}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, fsys, bare)
	if _, err := l.Read(0, 10, 1<<20); !errors.Is(err, ErrPayloadUnavailable) {
		t.Errorf("Read without ResolvePayloads = %v", err)
	}
}
