package segment

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/vfs"
)

const testDir = "/streams/t1"

// rec returns a recognisable record numbered i with a payload of n bytes.
func rec(i, n int) Record {
	p := make([]byte, n)
	for j := range p {
		p[j] = byte(i + j)
	}
	return Record{PublishTime: int64(1000 + i), Key: fmt.Sprint("k", i), Payload: p, Producer: "p", SequenceID: int64(i)}
}

func openLog(t testing.TB, fsys vfs.FS, opts Options) *Log {
	t.Helper()
	l, err := Open(fsys, testDir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

// appendN appends records start..start+n-1 one per call and returns them.
func appendN(t testing.TB, l *Log, start, n, payloadBytes int) []Record {
	t.Helper()
	var out []Record
	for i := start; i < start+n; i++ {
		r := rec(i, payloadBytes)
		off, err := l.Append([]Record{r})
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		r.Offset = off
		out = append(out, r)
	}
	return out
}

// readAll reads every record of l in chunks.
func readAll(t testing.TB, l *Log) []Record {
	t.Helper()
	var out []Record
	for from := l.StartOffset(); from < l.EndOffset(); {
		recs, err := l.Read(from, 7, 3000)
		if err != nil {
			t.Fatalf("Read(%d): %v", from, err)
		}
		if len(recs) == 0 {
			t.Fatalf("Read(%d) returned nothing before EndOffset %d", from, l.EndOffset())
		}
		out = append(out, recs...)
		from = recs[len(recs)-1].Offset + 1
	}
	return out
}

// sameRecords reports the first difference between two record lists,
// treating nil and empty maps and slices as they are (exactly).
func sameRecords(got, want []Record) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			return fmt.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	return nil
}

// waitClosed waits for ch with a deadline.
func waitClosed(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func fileBytes(t testing.TB, fsys vfs.FS, name string) []byte {
	t.Helper()
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && st.Size() > 0 {
		t.Fatal(err)
	}
	return b
}

func writeFile(t testing.TB, fsys vfs.FS, name string, data []byte) {
	t.Helper()
	f, err := fsys.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := fsys.SyncDir(filepath.Dir(name)); err != nil {
		t.Fatal(err)
	}
}

func mustErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}
