package segment

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/vfs"
)

// checkRecovered opens a crashed copy and checks it holds a prefix of
// final (the records at their offsets in the log that kept running) that
// covers every acknowledged offset, and that it accepts appends again.
func checkRecovered(t *testing.T, fsys vfs.FS, opts Options, final []Record, acked uint64) *Log {
	t.Helper()
	l := openLog(t, fsys, opts)
	got := readAll(t, l)
	if uint64(len(got)) < acked {
		t.Fatalf("recovered %d records, %d were acknowledged", len(got), acked)
	}
	if err := sameRecords(got, final[:len(got)]); err != nil {
		t.Fatalf("recovered records differ from those appended: %v", err)
	}
	off, err := l.Append([]Record{rec(9999, 3)})
	if err != nil || off != uint64(len(got)) {
		t.Fatalf("append after recovery = %d, %v; want %d", off, err, len(got))
	}
	return l
}

// TestCrashDuringConcurrentAppends crashes (CrashClone with random torn
// tails) while appenders run with fsync Always: every record acknowledged
// before the crash is recovered exactly once, in order.
func TestCrashDuringConcurrentAppends(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	fsys := vfs.NewMem()
	opts := Options{SegmentMaxBytes: 3000, IndexIntervalBytes: 256, MaxBatchBytes: 2000}
	l := openLog(t, fsys, opts)
	defer l.Close()

	var mu sync.Mutex
	ackedEnd := uint64(0) // every offset below it was acknowledged
	acked := map[uint64]bool{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for a := 0; a < 4; a++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				recs := []Record{rec(a*100000+i, 10+i%90)}
				if i%3 == 0 {
					recs = append(recs, rec(a*100000+i, 5))
				}
				first, err := l.Append(recs)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for j := range recs {
					acked[first+uint64(j)] = true
				}
				for acked[ackedEnd] {
					ackedEnd++
				}
				mu.Unlock()
			}
		}()
	}
	type crash struct {
		fs    *vfs.MemFS
		acked uint64
	}
	var crashes []crash
	for len(crashes) < 8 {
		ch := l.Changed()
		waitClosed(t, ch, "appends")
		mu.Lock()
		a := ackedEnd
		mu.Unlock()
		c := fsys.CrashClone(func(n int) int { return rng.IntN(n + 1) })
		crashes = append(crashes, crash{c, a})
	}
	close(stop)
	wg.Wait()
	final := readAll(t, l)
	for i, c := range crashes {
		if c.acked == 0 {
			continue
		}
		t.Logf("crash %d: %d acknowledged", i, c.acked)
		checkRecovered(t, c.fs, opts, final, c.acked).Close()
	}
}

// TestRecoverTornUnsyncedTail appends with FsyncNever after durable
// records and cuts the unsynced bytes at every length.
func TestRecoverTornUnsyncedTail(t *testing.T) {
	fsys := vfs.NewMem()
	opts := Options{SegmentMaxBytes: 1500, IndexIntervalBytes: 100}
	l := openLog(t, fsys, opts)
	final := appendN(t, l, 0, 20, 30)
	l.Close()
	never := opts
	never.Fsync = FsyncNever
	l = openLog(t, fsys, never)
	for i := 20; i < 40; i++ {
		first, err := l.Append([]Record{rec(i, 30), rec(i, 7)})
		if err != nil {
			t.Fatal(err)
		}
		r1, r2 := rec(i, 30), rec(i, 7)
		r1.Offset, r2.Offset = first, first+1
		final = append(final, r1, r2)
	}
	// Crash at every possible torn length, without closing (which syncs).
	truncated := 0
	for keep := 0; ; keep += 3 {
		unsynced := 0
		c := fsys.CrashClone(func(n int) int { unsynced = n; return keep })
		r := checkRecovered(t, c, opts, final, 20)
		truncated += int(r.Metrics().Truncations)
		r.Close()
		if keep > unsynced {
			break
		}
	}
	if truncated == 0 {
		t.Fatal("no torn tail was ever truncated")
	}
	l.Close()
}

// oneSegment appends n one-record batches and returns the records and the
// file position where each batch ends.
func oneSegment(t *testing.T, fsys vfs.FS, opts Options, n int) ([]Record, []int64) {
	t.Helper()
	l := openLog(t, fsys, opts)
	defer l.Close()
	var recs []Record
	var ends []int64
	for i := 0; i < n; i++ {
		recs = append(recs, appendN(t, l, i, 1, 40)...)
		ends = append(ends, l.Size()-l.active.idxBytes.Load())
	}
	return recs, ends
}

func TestRecoverCorruptTail(t *testing.T) {
	seg0 := logName(testDir, 0)
	for _, tc := range []struct {
		name   string
		damage func(b []byte, ends []int64) []byte
		keep   int // records that survive
	}{
		{"last batch crc", func(b []byte, ends []int64) []byte { b[ends[8]+20] ^= 1; return b }, 9},
		{"middle batch crc", func(b []byte, ends []int64) []byte { b[ends[3]+50] ^= 0x40; return b }, 4},
		{"first batch header", func(b []byte, ends []int64) []byte { b[0] = 0; return b }, 0},
		{"short last batch", func(b []byte, ends []int64) []byte { return b[:len(b)-1] }, 9},
		{"only a header left", func(b []byte, ends []int64) []byte { return b[:ends[6]+batchHeaderBytes] }, 7},
		{"zeros after the end (preallocated)", func(b []byte, ends []int64) []byte { return append(b, make([]byte, 4096)...) }, 10},
		{"garbage after the end", func(b []byte, ends []int64) []byte { return append(b, "garbage"...) }, 10},
		{"a valid batch with the wrong offset", func(b []byte, ends []int64) []byte {
			return appendBatch(b, 11, []Record{rec(11, 1)})
		}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := vfs.NewMem()
			opts := Options{IndexIntervalBytes: 1}
			want, ends := oneSegment(t, fsys, opts, 10)
			writeFile(t, fsys, seg0, tc.damage(fileBytes(t, fsys, seg0), ends))
			l := checkRecovered(t, fsys, opts, want, uint64(tc.keep))
			defer l.Close()
			if l.EndOffset() != uint64(tc.keep)+1 {
				t.Fatalf("recovered up to %d, want %d", l.EndOffset()-1, tc.keep)
			}
			clean := strings.HasSuffix(tc.name, "(preallocated)")
			if m := l.Metrics(); clean != (m.Truncations == 0 && m.Recoveries == 0) ||
				!clean && (m.Truncations != 1 || m.Recoveries != 1) {
				t.Errorf("metrics %+v: want one truncation and one recovery unless clean (%v)", m, clean)
			}
		})
	}
}

func TestRecoverIndexes(t *testing.T) {
	opts := Options{SegmentMaxBytes: 1200, IndexIntervalBytes: 150}
	sealed, tail := indexName(testDir, 0), ""
	for _, tc := range []struct {
		name     string
		damage   func(t *testing.T, fsys *vfs.MemFS)
		rebuilds uint64
	}{
		{"intact", func(*testing.T, *vfs.MemFS) {}, 0},
		{"sealed index missing", func(t *testing.T, fsys *vfs.MemFS) { fsys.Remove(sealed) }, 1},
		{"tail index missing", func(t *testing.T, fsys *vfs.MemFS) { fsys.Remove(tail) }, 1},
		{"all indexes missing", func(t *testing.T, fsys *vfs.MemFS) {
			names, _ := fsys.ReadDir(testDir)
			for _, n := range names {
				if _, ok := parseName(n, indexSuffix); ok {
					fsys.Remove(testDir + "/" + n)
				}
			}
		}, 0}, // counted below
		{"sealed index garbage", func(t *testing.T, fsys *vfs.MemFS) {
			writeFile(t, fsys, sealed, bytes.Repeat([]byte{0xAB}, 64))
		}, 1},
		{"sealed index partial entry", func(t *testing.T, fsys *vfs.MemFS) {
			b := fileBytes(t, fsys, sealed)
			writeFile(t, fsys, sealed, b[:len(b)-3])
		}, 1},
		{"sealed index points inside a batch", func(t *testing.T, fsys *vfs.MemFS) {
			b := fileBytes(t, fsys, sealed)
			b[len(b)-indexEntryBytes+4]++ // last entry's position
			writeFile(t, fsys, sealed, b)
		}, 1},
		{"sealed index too large", func(t *testing.T, fsys *vfs.MemFS) {
			writeFile(t, fsys, sealed, make([]byte, 1<<20))
		}, 1},
		{"tail index stale", func(t *testing.T, fsys *vfs.MemFS) {
			b := fileBytes(t, fsys, tail)
			writeFile(t, fsys, tail, b[:indexEntryBytes])
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := vfs.NewMem()
			l := openLog(t, fsys, opts)
			want := appendN(t, l, 0, 60, 40)
			tail = indexName(testDir, l.active.base)
			before := map[string][]byte{}
			names, _ := fsys.ReadDir(testDir)
			for _, n := range names {
				before[n] = fileBytes(t, fsys, testDir+"/"+n)
			}
			l.Close()
			tc.damage(t, fsys)
			l = checkRecovered(t, fsys, opts, want, 60)
			m := l.Metrics()
			rebuilds := tc.rebuilds
			if tc.name == "all indexes missing" {
				rebuilds = uint64(m.Segments)
			}
			if m.IndexRebuilds != rebuilds {
				t.Errorf("IndexRebuilds = %d, want %d", m.IndexRebuilds, rebuilds)
			}
			if (rebuilds > 0) != (m.Recoveries > 0) {
				t.Errorf("Recoveries = %d with %d rebuilds", m.Recoveries, rebuilds)
			}
			l.Close()
			// Rebuilt indexes are the ones the writer made (the tail's has
			// grown by checkRecovered's append).
			for n, b := range before {
				if _, ok := parseName(n, indexSuffix); !ok {
					continue
				}
				if got := fileBytes(t, fsys, testDir+"/"+n); !bytes.HasPrefix(got, b) {
					t.Errorf("%s rebuilt as %x, was %x", n, got, b)
				}
			}
		})
	}
}

func TestRecoverEmptySegments(t *testing.T) {
	t.Run("empty directory file", func(t *testing.T) {
		fsys := vfs.NewMem()
		fsys.MkdirAll(testDir, 0o755)
		writeFile(t, fsys, logName(testDir, 0), nil)
		checkRecovered(t, fsys, Options{}, nil, 0).Close()
	})
	t.Run("empty log at a base offset", func(t *testing.T) {
		fsys := vfs.NewMem()
		fsys.MkdirAll(testDir, 0o755)
		writeFile(t, fsys, logName(testDir, 500), nil)
		l := openLog(t, fsys, Options{})
		defer l.Close()
		if l.StartOffset() != 500 || l.EndOffset() != 500 {
			t.Fatalf("[%d, %d)", l.StartOffset(), l.EndOffset())
		}
		if off, err := l.Append([]Record{{}}); err != nil || off != 500 {
			t.Fatalf("Append = %d, %v", off, err)
		}
	})
	t.Run("crash right after a roll", func(t *testing.T) {
		fsys := vfs.NewMem()
		opts := Options{SegmentMaxBytes: 500, Fsync: FsyncNever}
		l := openLog(t, fsys, opts)
		defer l.Close()
		var want []Record
		for l.Metrics().Segments < 3 {
			want = append(want, appendN(t, l, len(want), 1, 40)...)
		}
		// The roll created the new segment's name and sealed the old
		// segment behind the writer; Sync waits for that seal and flushes
		// the active segment, so the crash loses nothing.
		if err := l.Sync(); err != nil {
			t.Fatal(err)
		}
		c := fsys.CrashClone(nil)
		r := checkRecovered(t, c, opts, want, uint64(len(want)))
		defer r.Close()
		if r.EndOffset() != uint64(len(want))+1 || r.Metrics().Segments != 3 {
			t.Fatalf("recovered end %d with %d segments", r.EndOffset(), r.Metrics().Segments)
		}
	})
}

func TestRecoverDirectoryProblems(t *testing.T) {
	build := func(t *testing.T) (*vfs.MemFS, []Record) {
		fsys := vfs.NewMem()
		l := openLog(t, fsys, Options{SegmentMaxBytes: 500})
		want := appendN(t, l, 0, 30, 40)
		l.Close()
		return fsys, want
	}
	t.Run("orphan index and foreign files", func(t *testing.T) {
		fsys, want := build(t)
		writeFile(t, fsys, indexName(testDir, 123456), []byte("orphan"))
		writeFile(t, fsys, testDir+"/README", []byte("not a segment"))
		writeFile(t, fsys, testDir+"/12.log", []byte("short name"))
		checkRecovered(t, fsys, Options{}, want, 30).Close()
		if _, err := fsys.Stat(indexName(testDir, 123456)); err == nil {
			t.Error("orphan index kept")
		}
		if _, err := fsys.Stat(testDir + "/README"); err != nil {
			t.Error("foreign file removed")
		}
	})
	t.Run("missing middle segment", func(t *testing.T) {
		fsys, _ := build(t)
		names, _ := fsys.ReadDir(testDir)
		fsys.Remove(testDir + "/" + names[3]) // the second segment's log
		_, err := Open(fsys, testDir, Options{})
		mustErr(t, err, ErrCorrupt)
	})
	t.Run("damaged sealed segment without index", func(t *testing.T) {
		fsys, _ := build(t)
		b := fileBytes(t, fsys, logName(testDir, 0))
		b[len(b)/2] ^= 1
		writeFile(t, fsys, logName(testDir, 0), b)
		fsys.Remove(indexName(testDir, 0))
		_, err := Open(fsys, testDir, Options{})
		mustErr(t, err, ErrCorrupt)
	})
	t.Run("damaged sealed segment with index", func(t *testing.T) {
		fsys, want := build(t)
		b := fileBytes(t, fsys, logName(testDir, 0))
		b[60] ^= 1 // inside the first record's batch body
		writeFile(t, fsys, logName(testDir, 0), b)
		l := openLog(t, fsys, Options{})
		defer l.Close()
		_, err := l.Read(0, 1, 1)
		mustErr(t, err, ErrCorrupt)
		got, err := l.Read(5, 100, 1<<20)
		if err != nil || sameRecords(got, want[5:]) != nil {
			t.Fatalf("reading past the damage: %d records, %v", len(got), err)
		}
	})
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(vfs.NewMem(), testDir, Options{SegmentMaxBytes: -1}); err == nil {
		t.Error("Open accepted invalid options")
	}
	fsys := vfs.NewMem()
	fsys.MkdirAll("/x", 0o755)
	writeFile(t, fsys, "/x/file", nil)
	if _, err := Open(fsys, "/x/file/log", Options{}); err == nil || errors.Is(err, ErrCorrupt) {
		t.Errorf("Open under a file: %v", err)
	}
}
