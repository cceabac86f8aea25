package segment

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/vfs"
)

func TestAppendRead(t *testing.T) {
	fsys := vfs.NewMem()
	l := openLog(t, fsys, Options{SegmentMaxBytes: 2000, IndexIntervalBytes: 300})
	defer func() {
		// Close leaves no preallocated space behind: the files hold Size().
		size := l.Size()
		l.Close()
		names, _ := fsys.ReadDir(testDir)
		var onDisk int64
		for _, n := range names {
			st, _ := fsys.Stat(testDir + "/" + n)
			onDisk += st.Size()
		}
		if onDisk != size {
			t.Errorf("files hold %d bytes after Close, Size() was %d", onDisk, size)
		}
	}()
	if l.StartOffset() != 0 || l.EndOffset() != 0 {
		t.Fatalf("new log spans [%d, %d)", l.StartOffset(), l.EndOffset())
	}
	if recs, err := l.Read(0, 10, 100); err != nil || len(recs) != 0 {
		t.Fatalf("Read of empty log = %v, %v", recs, err)
	}
	want := appendN(t, l, 0, 50, 100)
	batch := []Record{rec(50, 10), rec(51, 0), {Offset: 12345}}
	first, err := l.Append(batch)
	if err != nil || first != 50 {
		t.Fatalf("Append batch = %d, %v", first, err)
	}
	for i, r := range batch {
		r.Offset = 50 + uint64(i)
		want = append(want, r)
	}
	if l.EndOffset() != 53 {
		t.Fatalf("EndOffset = %d", l.EndOffset())
	}
	if m := l.Metrics(); m.Segments < 3 || m.AppendedRecords != 53 || m.Fsyncs < 51 {
		t.Fatalf("expected several segments and one fsync per append: %+v", m)
	}
	if err := sameRecords(readAll(t, l), want); err != nil {
		t.Fatal(err)
	}
	size := want[0].Size()
	for _, tc := range []struct {
		name                 string
		from                 uint64
		maxRecords, maxBytes int
		want                 []Record
	}{
		{"one", 7, 1, 1 << 20, want[7:8]},
		{"records limit across segments", 10, 30, 1 << 20, want[10:40]},
		{"bytes limit", 3, 100, 3 * size, want[3:6]},
		{"bytes limit just under", 3, 100, 3*size - 1, want[3:5]},
		{"first record above maxBytes", 3, 100, 1, want[3:4]},
		{"zero maxBytes", 3, 100, 0, want[3:4]},
		{"to the end", 40, 1000, 1 << 20, want[40:]},
		{"at the end", 53, 10, 100, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := l.Read(tc.from, tc.maxRecords, tc.maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			if err := sameRecords(got, tc.want); err != nil {
				t.Fatal(err)
			}
		})
	}
	_, err = l.Read(54, 1, 1)
	mustErr(t, err, ErrOffsetOutOfRange)
	_, err = l.Read(0, 0, 1)
	mustErr(t, err, ErrInvalidArgument)

	// Returned records share nothing with the log or other reads.
	a, _ := l.Read(0, 2, 1<<20)
	a[0].Payload[0] ^= 0xff
	a[0].Payload = append(a[0].Payload, 1, 2, 3) // must not overwrite a[1]
	b, _ := l.Read(0, 2, 1<<20)
	if err := sameRecords(b, want[:2]); err != nil {
		t.Fatalf("a caller's change leaked into the log: %v", err)
	}
	if err := sameRecords(a[1:], want[1:2]); err != nil {
		t.Fatalf("appending to one payload changed the next record: %v", err)
	}
}

func TestAppendRejectsBadInput(t *testing.T) {
	l := openLog(t, vfs.NewMem(), Options{MaxRecordBytes: 1000})
	defer l.Close()
	appendN(t, l, 0, 2, 10)
	for _, tc := range []struct {
		name string
		recs []Record
		want error
	}{
		{"nil", nil, ErrInvalidArgument},
		{"empty", []Record{}, ErrInvalidArgument},
		{"record too large", []Record{rec(1, 10), rec(2, 1000)}, ErrRecordTooLarge},
		{"too large by properties", []Record{{Properties: map[string]string{"k": strings.Repeat("v", 1000)}}}, ErrRecordTooLarge},
	} {
		_, err := l.Append(tc.recs)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
		var asyncErr error
		l.AppendAsync(tc.recs, func(_ uint64, err error) { asyncErr = err })
		if !errors.Is(asyncErr, tc.want) {
			t.Errorf("%s: async err = %v, want %v", tc.name, asyncErr, tc.want)
		}
	}
	if l.EndOffset() != 2 || l.Metrics().Failed {
		t.Fatalf("bad input changed the log: end %d, %+v", l.EndOffset(), l.Metrics())
	}
	if _, err := l.Append([]Record{rec(2, 10)}); err != nil {
		t.Fatalf("append after rejected input: %v", err)
	}
}

func TestAppendAsyncOrderAndClose(t *testing.T) {
	fsys := vfs.NewMem()
	l := openLog(t, fsys, Options{MaxBatchBytes: 500})
	const n = 300
	firsts := make([]uint64, n)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		l.AppendAsync([]Record{rec(i, 20), rec(i, 20)}, func(first uint64, err error) {
			defer wg.Done()
			if err != nil {
				t.Errorf("async %d: %v", i, err)
			}
			firsts[i] = first
		})
	}
	// Close flushes everything queued before it.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i := range firsts {
		if firsts[i] != uint64(2*i) {
			t.Fatalf("call %d got offset %d, want %d (call order)", i, firsts[i], 2*i)
		}
	}
	if _, err := l.Append([]Record{{}}); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
	if _, err := l.Read(0, 1, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	waitClosed(t, l.Changed(), "Changed after Close")
	// Everything acknowledged is on disk.
	l2 := openLog(t, fsys.CrashClone(nil), Options{})
	defer l2.Close()
	if l2.EndOffset() != 2*n {
		t.Fatalf("after crash EndOffset = %d, want %d", l2.EndOffset(), 2*n)
	}
}

func TestChanged(t *testing.T) {
	l := openLog(t, vfs.NewMem(), Options{})
	defer l.Close()
	ch := l.Changed()
	select {
	case <-ch:
		t.Fatal("Changed closed before any append")
	default:
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := l.Append([]Record{rec(0, 1)}); err != nil {
			t.Error(err)
		}
	}()
	waitClosed(t, ch, "Changed after Append")
	if l.EndOffset() != 1 {
		t.Fatalf("Changed fired with EndOffset %d", l.EndOffset())
	}
	waitClosed(t, done, "Append")
	if ch2 := l.Changed(); ch2 == ch {
		t.Fatal("Changed returned the already closed channel")
	}
}

// TestTailingReaders has readers follow the log with Changed while
// appenders write: each reader sees every record exactly once, in order.
func TestTailingReaders(t *testing.T) {
	l := openLog(t, vfs.NewMem(), Options{SegmentMaxBytes: 4000, IndexIntervalBytes: 200})
	defer l.Close()
	const appenders, perAppender, readers = 4, 100, 3
	var wg sync.WaitGroup
	for a := 0; a < appenders; a++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perAppender; i++ {
				if _, err := l.Append([]Record{rec(a*perAppender+i, 30)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	total := uint64(appenders * perAppender)
	results := make([][]Record, readers)
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for from := uint64(0); from < total; {
				ch := l.Changed()
				if l.EndOffset() <= from {
					waitClosed(t, ch, "new records")
					continue
				}
				recs, err := l.Read(from, 1+r*5, 500)
				if err != nil {
					t.Error(err)
					return
				}
				results[r] = append(results[r], recs...)
				from = recs[len(recs)-1].Offset + 1
			}
		}()
	}
	wg.Wait()
	all := readAll(t, l)
	for r := range results {
		if err := sameRecords(results[r], all); err != nil {
			t.Fatalf("reader %d: %v", r, err)
		}
	}
}

func TestOffsetAtTime(t *testing.T) {
	l := openLog(t, vfs.NewMem(), Options{SegmentMaxBytes: 600, IndexIntervalBytes: 100})
	defer l.Close()
	if got := l.OffsetAtTime(0); got != 0 {
		t.Fatalf("empty log: %d", got)
	}
	// Publish times are not monotonic: replicated records keep their origin's.
	times := []int64{10, 20, 20, 15, 30, 40, 35, 50, 60, 55, 70, 80, 80, 90, 100, 95, 110, 120, 5, 130}
	for i, pt := range times {
		r := rec(i, 40)
		r.PublishTime = pt
		if _, err := l.Append([]Record{r}); err != nil {
			t.Fatal(err)
		}
	}
	if l.Metrics().Segments < 3 {
		t.Fatalf("want several segments, have %d", l.Metrics().Segments)
	}
	for _, tc := range []struct {
		ms   int64
		want uint64
	}{
		{math.MinInt64, 0}, {0, 0}, {10, 0}, {11, 1}, {16, 1}, {20, 1}, {21, 4}, {31, 5},
		{36, 5}, {41, 7}, {56, 8}, {61, 10}, {100, 14}, {101, 16}, {121, 19}, {130, 19},
		{131, 20}, {math.MaxInt64, 20},
	} {
		if got := l.OffsetAtTime(tc.ms); got != tc.want {
			t.Errorf("OffsetAtTime(%d) = %d, want %d", tc.ms, got, tc.want)
		}
	}
}

func TestRetention(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		now  int64
	}{
		{"by size", Options{RetentionBytes: 3000}, 0},
		{"by age", Options{RetentionAge: 100 * time.Second}, 1000 + 60 + 100_000}, // records 0..59 are older
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.SegmentMaxBytes = 1000
			fsys := vfs.NewMem()
			l := openLog(t, fsys, tc.opts)
			defer l.Close()
			want := appendN(t, l, 0, 100, 50)
			segsBefore, sizeBefore := l.Metrics().Segments, l.Size()
			removed, err := l.EnforceRetention(tc.now)
			if err != nil || removed == 0 {
				t.Fatalf("EnforceRetention = %d, %v", removed, err)
			}
			m := l.Metrics()
			if m.Segments != segsBefore-removed || m.SegmentsDeleted != uint64(removed) || l.Size() >= sizeBefore {
				t.Fatalf("after removing %d: %+v, size %d (was %d)", removed, m, l.Size(), sizeBefore)
			}
			start := l.StartOffset()
			if start == 0 || start >= l.EndOffset() {
				t.Fatalf("StartOffset = %d, EndOffset %d", start, l.EndOffset())
			}
			switch {
			case tc.opts.RetentionBytes > 0 && l.Size() > tc.opts.RetentionBytes:
				t.Errorf("size %d still above retention", l.Size())
			case tc.opts.RetentionAge > 0 && want[start].PublishTime < tc.now-100_000 && start < 60:
				// The first kept segment must hold a record young enough.
				recs, _ := l.Read(start, 1000, 1<<20)
				young := false
				for _, r := range recs {
					if r.PublishTime >= tc.now-100_000 {
						young = true
					}
				}
				if !young {
					t.Errorf("kept segment at %d has no record younger than the cutoff", start)
				}
			}
			_, err = l.Read(start-1, 1, 1)
			mustErr(t, err, ErrOffsetOutOfRange)
			if err := sameRecords(readAll(t, l), want[start:]); err != nil {
				t.Fatal(err)
			}
			names, _ := fsys.ReadDir(testDir)
			if len(names) != 2*m.Segments {
				t.Errorf("files %v for %d segments", names, m.Segments)
			}
			// Idempotent, and the active segment always stays.
			if n, err := l.EnforceRetention(math.MaxInt64); err != nil || (tc.opts.RetentionAge > 0) != (n > 0) {
				t.Fatalf("second EnforceRetention = %d, %v", n, err)
			}
			if l.Metrics().Segments < 1 || l.EndOffset() != 100 {
				t.Fatalf("active segment deleted: %+v", l.Metrics())
			}
			l.Close()
			l2 := openLog(t, fsys.CrashClone(nil), tc.opts)
			defer l2.Close()
			if l2.StartOffset() != l.StartOffset() || l2.EndOffset() != 100 {
				t.Fatalf("after reopen [%d, %d), want [%d, 100)", l2.StartOffset(), l2.EndOffset(), l.StartOffset())
			}
		})
	}
}

// TestReadDuringRetention reads a segment while retention deletes it.
func TestReadDuringRetention(t *testing.T) {
	l := openLog(t, vfs.NewMem(), Options{SegmentMaxBytes: 500, RetentionBytes: 1})
	defer l.Close()
	want := appendN(t, l, 0, 40, 40)
	v, err := l.view(0)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := l.EnforceRetention(0); err != nil || n == 0 {
		t.Fatalf("EnforceRetention = %d, %v", n, err)
	}
	var st readState
	_, err = l.readSegment(v, 0, 100, 1<<20, &st)
	got := st.out
	v.seg.release()
	if err != nil {
		t.Fatalf("read of a deleted segment in flight: %v", err)
	}
	if err := sameRecords(got, want[:len(got)]); err != nil || len(got) == 0 {
		t.Fatalf("%d records: %v", len(got), err)
	}
}

func TestDelete(t *testing.T) {
	fsys := vfs.NewMem()
	l := openLog(t, fsys, Options{})
	appendN(t, l, 0, 3, 10)
	if err := l.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Stat(testDir); err == nil {
		t.Fatal("directory still there")
	}
	if err := l.Delete(); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
}

// TestBaseOffset: a log created in an empty directory starts at
// Options.BaseOffset; reopened, it keeps its offsets whatever the option.
func TestBaseOffset(t *testing.T) {
	fsys := vfs.NewMem()
	l, err := Open(fsys, "d", Options{BaseOffset: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if l.StartOffset() != 1000 || l.EndOffset() != 1000 {
		t.Fatalf("empty log spans [%d, %d)", l.StartOffset(), l.EndOffset())
	}
	first, err := l.Append([]Record{{Payload: []byte("a")}, {Payload: []byte("b")}})
	if err != nil || first != 1000 {
		t.Fatalf("first offset %d, %v", first, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = Open(fsys, "d", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	recs, err := l.Read(1000, 10, 1<<20)
	if err != nil || len(recs) != 2 || recs[1].Offset != 1001 || l.EndOffset() != 1002 {
		t.Fatalf("reopened: %d records, end %d, %v", len(recs), l.EndOffset(), err)
	}
}
