package kafka

import (
	"fmt"
	"testing"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/subscription"
)

// copyingSource hides a log's ReadFunc: its records are read with Read.
type copyingSource struct{ subscription.Source }

// A fetch from a segment log encodes one record batch per stored batch,
// straight from the log's buffers; from any other source one batch. Both
// decode to the same records, from any offset and within the byte bound.
func TestReadFetchBatches(t *testing.T) {
	d := testDecoders(t)
	log, err := segment.Open(vfs.NewMem(), "log", segment.Options{SegmentMaxBytes: 3000})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	var all []segment.Record
	for b := range 6 {
		var recs []segment.Record
		for i := range b + 1 {
			recs = append(recs, segment.Record{PublishTime: int64(1000 + b), Key: fmt.Sprint("k", b, i),
				Payload: []byte(fmt.Sprintf("payload %d/%d", b, i)), Properties: map[string]string{"b": fmt.Sprint(b)}})
		}
		first, err := log.Append(recs)
		if err != nil {
			t.Fatal(err)
		}
		for i := range recs {
			recs[i].Offset = first + uint64(i)
		}
		all = append(all, recs...)
	}
	for from := range uint64(len(all)) {
		for _, maxBytes := range []int{1, 200, 1 << 20} {
			want, err := log.Read(from, maxFetchRecords, maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			for _, src := range []subscription.Source{log, copyingSource{log}} {
				_, visits := src.(visitSource)
				buf, n, err := readFetchBatches(src, from, maxBytes, []byte("x"))
				if err != nil || n != len(want) || string(buf[:1]) != "x" {
					t.Fatalf("from %d, %d bytes, visit %v: %d records, %v; want %d", from, maxBytes, visits, n, err, len(want))
				}
				bs, err := d.readBatches(buf[1:], 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				if !visits && len(bs) != 1 {
					t.Fatalf("%d batches from a copying source, want 1", len(bs))
				}
				var got []string
				next := int64(from)
				for _, b := range bs {
					if b.hdr.FirstOffset != next {
						t.Fatalf("batch at offset %d, want %d", b.hdr.FirstOffset, next)
					}
					next += int64(len(b.records))
					for _, m := range toMessages(&b) {
						got = append(got, m.Key+"="+string(m.Payload)+"/"+m.Properties["b"])
					}
				}
				if len(got) != len(want) {
					t.Fatalf("%d records decoded, want %d", len(got), len(want))
				}
				for i, r := range want {
					if w := r.Key + "=" + string(r.Payload) + "/" + r.Properties["b"]; got[i] != w {
						t.Fatalf("from %d record %d: %q, want %q", from, i, got[i], w)
					}
				}
				if visits && maxBytes == 1<<20 && from == 0 && len(bs) != 6 {
					t.Fatalf("%d batches for the 6 stored ones", len(bs))
				}
			}
		}
	}
	if _, _, err := readFetchBatches(log, uint64(len(all))+1, 100, nil); err == nil {
		t.Fatal("a read past the end: no error")
	}
}
