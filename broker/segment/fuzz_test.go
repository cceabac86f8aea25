package segment

import (
	"errors"
	"reflect"
	"testing"

	"github.com/causeway/causeway/broker/vfs"
)

func seedBatches() [][]byte {
	full := appendBatch(nil, 5, []Record{fullRecord(), {Key: "k"}, {Payload: []byte{}}})
	corrupt := append([]byte(nil), full...)
	corrupt[40] ^= 1
	return [][]byte{
		appendBatch(nil, 0, []Record{{}}),
		full,
		corrupt,
		full[:len(full)/2],
		rawBatch(0, 1, 0, 0, make([]byte, minRecordBytes)),
		rawBatch(0, 1, 0, 0, []byte{1, 0, 0, 0, 0xff, 0xff, 0x03, 0, 0, 0, 0, 0, 0}),
		appendBatch(nil, 7, []Record{{PayloadRef: true, Payload: []byte("abc"), Origin: "o", OriginSeq: 3}, fullRecord()}),
		{},
	}
}

// FuzzDecodeBatch: the decoder never panics, fails without touching dst,
// and whatever it accepts re-encodes to a batch that decodes the same.
func FuzzDecodeBatch(f *testing.F) {
	for _, b := range seedBatches() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		keep := []Record{{Key: "keep"}}
		recs, h, err := decodeBatch(b, keep)
		if verr := validateBatch(b); (verr == nil) != (err == nil) {
			t.Fatalf("validateBatch = %v, decodeBatch = %v", verr, err)
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			if len(recs) != 1 {
				t.Fatalf("dst changed on error")
			}
			return
		}
		recs = recs[1:]
		if len(recs) != int(h.count) || recs[0].Offset != h.baseOffset {
			t.Fatalf("header %+v, %d records", h, len(recs))
		}
		again, _, err := decodeBatch(appendBatch(nil, h.baseOffset, recs), nil)
		if err != nil {
			t.Fatalf("re-encoded batch does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, recs) {
			t.Fatalf("round trip changed records:\n%+v\n%+v", again, recs)
		}
	})
}

// FuzzSegmentRecovery: arbitrary bytes as the only segment file. Open must
// not panic; the recovered log holds exactly the valid batches at the start
// of the file, and accepts appends after them.
func FuzzSegmentRecovery(f *testing.F) {
	var valid []byte
	for i := 0; i < 4; i++ {
		valid = appendBatch(valid, uint64(i), []Record{rec(i, 10*i)})
	}
	f.Add(valid, []byte(nil))
	f.Add(valid[:len(valid)-3], []byte(nil))
	f.Add(append(append([]byte(nil), valid...), 0, 0, 0, 0), encodeIndex([]indexEntry{{0, 0, -1 << 63}}))
	f.Add(valid, []byte("garbage index"))
	for _, b := range seedBatches() {
		f.Add(b, []byte(nil))
	}
	f.Fuzz(func(t *testing.T, data, index []byte) {
		// The model: the valid batches at the start, numbered from 0.
		var want []Record
		for pos := 0; pos < len(data); {
			recs, h, err := decodeBatch(data[pos:], nil)
			if err != nil || h.baseOffset != uint64(len(want)) {
				break
			}
			want = append(want, recs...)
			pos += int(h.size())
		}
		fsys := vfs.NewMem()
		fsys.MkdirAll(testDir, 0o755)
		writeFile(t, fsys, logName(testDir, 0), data)
		if index != nil {
			writeFile(t, fsys, indexName(testDir, 0), index)
		}
		l, err := Open(fsys, testDir, Options{IndexIntervalBytes: 64})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer l.Close()
		got, err := l.ReadStored(0, 1<<20, 1<<30) // the model holds records as stored
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if err := sameRecords(got, want); err != nil {
			t.Fatal(err)
		}
		if off, err := l.Append([]Record{{Key: "after"}}); err != nil || off != uint64(len(want)) {
			t.Fatalf("Append after recovery = %d, %v", off, err)
		}
	})
}
