package segment

import (
	"testing"

	"github.com/causeway/causeway/broker/vfs"
)

// ReadFunc hands over exactly what Read returns, one call per stored batch
// the records come from, whatever the start, record and byte limits.
func TestReadFuncSameAsRead(t *testing.T) {
	l := openLog(t, vfs.NewMem(), Options{SegmentMaxBytes: 4000, IndexIntervalBytes: 300})
	defer l.Close()
	appendN(t, l, 0, 10, 100)
	var batches [][]Record // the stored batches, as appended
	for b := range 12 {
		var recs []Record
		for i := range b%5 + 1 {
			recs = append(recs, rec(100+10*b+i, 40*i))
		}
		if _, err := l.Append(recs); err != nil {
			t.Fatal(err)
		}
		batches = append(batches, recs)
	}
	end := l.EndOffset()
	r0 := rec(0, 100)
	size := r0.Size()
	for from := uint64(0); from <= end; from++ {
		for _, maxRecords := range []int{1, 2, 3, 7, 100} {
			for _, maxBytes := range []int{0, 1, size, 3 * size, 1 << 20} {
				want, err := l.Read(from, maxRecords, maxBytes)
				if err != nil {
					t.Fatal(err)
				}
				var got []Record
				calls := 0
				n, err := l.ReadFunc(from, maxRecords, maxBytes, func(recs []Record) {
					calls++
					if len(recs) == 0 {
						t.Fatal("an empty call")
					}
					for i := 1; i < len(recs); i++ {
						if recs[i].Offset != recs[i-1].Offset+1 {
							t.Fatalf("a call's records are not dense: %d after %d", recs[i].Offset, recs[i-1].Offset)
						}
					}
					cp := append([]Record(nil), recs...)
					detach(cp)
					got = append(got, cp...)
				})
				if err != nil || n != len(want) {
					t.Fatalf("ReadFunc(%d, %d, %d) = %d, %v; Read has %d", from, maxRecords, maxBytes, n, err, len(want))
				}
				if err := sameRecords(got, want); err != nil {
					t.Fatalf("ReadFunc(%d, %d, %d): %v", from, maxRecords, maxBytes, err)
				}
				if calls > len(want) {
					t.Fatalf("%d calls for %d records", calls, len(want))
				}
			}
		}
	}
	// A whole multi-record batch comes in one call.
	first := uint64(10 + 1 + 2) // the third stored batch (3 records)
	var sizes []int
	if _, err := l.ReadFunc(first, 3, 1<<20, func(recs []Record) { sizes = append(sizes, len(recs)) }); err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 1 || sizes[0] != 3 || len(batches[2]) != 3 {
		t.Fatalf("calls of %v for one stored batch of 3", sizes)
	}
	if _, err := l.ReadFunc(end+1, 1, 1, func([]Record) { t.Fatal("called past the end") }); err == nil {
		t.Fatal("ReadFunc past the end: no error")
	}
	mustErrReadFunc := func(maxRecords int) {
		if _, err := l.ReadFunc(0, maxRecords, 1, func([]Record) {}); err == nil {
			t.Fatalf("ReadFunc of %d records: no error", maxRecords)
		}
	}
	mustErrReadFunc(0)
}
