package segment

import (
	"errors"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/vfs"
)

func onlyLogs(name string) bool { return strings.HasSuffix(name, logSuffix) }

// reopenExact closes l, reopens the log from inner as it is and after a
// crash, and checks both hold exactly want.
func reopenExact(t *testing.T, l *Log, inner *vfs.MemFS, opts Options, want []Record) {
	t.Helper()
	l.Close()
	for _, fsys := range []vfs.FS{inner.CrashClone(nil), inner} {
		r := openLog(t, fsys, opts)
		if err := sameRecords(readAll(t, r), want); err != nil {
			t.Fatalf("after reopen: %v", err)
		}
		r.Close()
	}
}

func TestWriteFaults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		arm     func(*vfs.Injector)
		wantErr error
	}{
		{"write error", func(i *vfs.Injector) { i.FailWrite(1, 0) }, vfs.ErrInjected},
		{"torn write", func(i *vfs.Injector) { i.FailWrite(1, 25) }, vfs.ErrInjected},
		{"disk full", func(i *vfs.Injector) { i.NoSpaceAfter(30) }, syscall.ENOSPC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inner, inj := vfs.NewMem(), &vfs.Injector{}
			inj.SetFilter(onlyLogs)
			opts := Options{SegmentMaxBytes: 800}
			l := openLog(t, vfs.NewFaulty(inner, inj), opts)
			want := appendN(t, l, 0, 10, 40)
			// The writer preallocates after answering, so an armed fault
			// may hit that write instead (it is only logged): retry.
			var err error
			var sizeBefore int64
			for attempt := 0; attempt < 10 && err == nil; attempt++ {
				tc.arm(inj)
				sizeBefore = l.Size()
				r := rec(len(want), 40)
				if r.Offset, err = l.Append([]Record{r}); err == nil {
					want = append(want, r)
				}
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Append under fault: %v, want %v", err, tc.wantErr)
			}
			end := l.EndOffset()
			if tc.name == "disk full" {
				_, err := l.Append([]Record{rec(100, 40)})
				mustErr(t, err, tc.wantErr)
			}
			m := l.Metrics()
			if m.Failed || m.WriteErrors == 0 {
				t.Fatalf("a write error that was undone must not fail the log: %+v", m)
			}
			if l.Size() != sizeBefore || end != uint64(len(want)) {
				t.Fatalf("size %d end %d after a failed write, want %d and %d", l.Size(), end, sizeBefore, len(want))
			}
			if err := sameRecords(readAll(t, l), want); err != nil {
				t.Fatal(err)
			}
			inj.Reset()
			n := len(want)
			want = append(want, appendN(t, l, n, 10, 40)...)
			if want[n].Offset != uint64(n) {
				t.Fatalf("append after the fault got offset %d, want %d", want[n].Offset, n)
			}
			reopenExact(t, l, inner, opts, want)
		})
	}
}

func TestSyncFaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"fsync after write", Options{}},
		{"fsync of the segment being rolled", Options{SegmentMaxBytes: 1}},
		{"interval fsync", Options{Fsync: FsyncInterval, FsyncInterval: time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inner, inj := vfs.NewMem(), &vfs.Injector{}
			inj.SetFilter(onlyLogs)
			l := openLog(t, vfs.NewFaulty(inner, inj), tc.opts)
			want := appendN(t, l, 0, 5, 40)
			inj.FailSync(1)
			if tc.opts.Fsync == FsyncInterval {
				// The ticker's fsync fails; the append after it is refused.
				deadline := time.Now().Add(10 * time.Second)
				for !l.Metrics().Failed && time.Now().Before(deadline) {
					if _, err := l.Append([]Record{rec(5, 1)}); err != nil {
						break
					}
					want = append(want, rec(5, 1))
					want[len(want)-1].Offset = uint64(len(want) - 1)
				}
			} else if _, err := l.Append([]Record{rec(5, 40)}); !errors.Is(err, vfs.ErrInjected) {
				t.Fatalf("Append with failing fsync: %v", err)
			}
			if !l.Metrics().Failed {
				t.Fatal("log not failed after an fsync error")
			}
			_, err := l.Append([]Record{rec(6, 40)})
			mustErr(t, err, ErrFailed)
			var asyncErr error
			l.AppendAsync([]Record{rec(6, 40)}, func(_ uint64, err error) { asyncErr = err })
			mustErr(t, asyncErr, ErrFailed)
			if err := sameRecords(readAll(t, l), want); err != nil {
				t.Fatalf("reads after the failure: %v", err)
			}
			if tc.opts.Fsync == FsyncInterval {
				// Acknowledged but never synced: a crash may lose them; a
				// reopen without crash keeps them.
				l.Close()
				r := openLog(t, inner, tc.opts)
				if err := sameRecords(readAll(t, r), want); err != nil {
					t.Fatal(err)
				}
				r.Close()
				return
			}
			reopenExact(t, l, inner, tc.opts, want)
		})
	}
}

func TestSegmentCreationFault(t *testing.T) {
	inner, inj := vfs.NewMem(), &vfs.Injector{}
	opts := Options{SegmentMaxBytes: 1}
	l := openLog(t, vfs.NewFaulty(inner, inj), opts)
	want := appendN(t, l, 0, 3, 10)
	inj.SetFilter(func(string) bool { return false }) // only directory syncs count
	inj.FailSync(1)
	_, err := l.Append([]Record{rec(3, 10)})
	mustErr(t, err, vfs.ErrInjected)
	if l.Metrics().Failed {
		t.Fatal("a failed segment creation wrote nothing and must not fail the log")
	}
	want = append(want, appendN(t, l, 3, 3, 10)...)
	reopenExact(t, l, inner, opts, want)
}

func TestIndexWriteFault(t *testing.T) {
	inner, inj := vfs.NewMem(), &vfs.Injector{}
	inj.SetFilter(func(name string) bool { return strings.HasSuffix(name, indexSuffix) })
	opts := Options{IndexIntervalBytes: 1}
	l := openLog(t, vfs.NewFaulty(inner, inj), opts)
	inj.FailWrite(3, 5) // a torn index entry
	want := appendN(t, l, 0, 10, 10)
	if m := l.Metrics(); m.Failed || inj.Injected() != 1 {
		t.Fatalf("index failure must only cost the index: %+v, injected %d", m, inj.Injected())
	}
	reopenExact(t, l, inner, opts, want)
}

// TestRandomWriteFaultsUnderConcurrency injects write faults while four
// appenders run: every call either fails or is stored, and a reopened log
// holds exactly the stored records, densely numbered.
func TestRandomWriteFaultsUnderConcurrency(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 11))
	inner, inj := vfs.NewMem(), &vfs.Injector{}
	inj.SetFilter(onlyLogs)
	opts := Options{SegmentMaxBytes: 2000, MaxBatchBytes: 300}
	l := openLog(t, vfs.NewFaulty(inner, inj), opts)
	var mu sync.Mutex
	var stored []Record
	var failures int
	var wg sync.WaitGroup
	for a := 0; a < 4; a++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 60; i++ {
				recs := []Record{rec(a*1000+i, 30), rec(a*1000+i, 3)}
				first, err := l.Append(recs)
				mu.Lock()
				if err == nil {
					for j, r := range recs {
						r.Offset = first + uint64(j)
						stored = append(stored, r)
					}
				} else if errors.Is(err, vfs.ErrInjected) {
					failures++
				} else {
					t.Errorf("unexpected error: %v", err)
				}
				mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		inj.FailWrite(1+rng.IntN(5), rng.IntN(100))
		select {
		case <-l.Changed():
		case <-done:
			running = false
		case <-time.After(10 * time.Second):
			t.Fatal("timed out waiting for appends")
		}
	}
	if failures == 0 || l.Metrics().Failed {
		t.Fatalf("failures %d, metrics %+v", failures, l.Metrics())
	}
	sort.Slice(stored, func(i, j int) bool { return stored[i].Offset < stored[j].Offset })
	for i, r := range stored {
		if r.Offset != uint64(i) {
			t.Fatalf("stored offsets not dense at %d: %d", i, r.Offset)
		}
	}
	inj.Reset()
	reopenExact(t, l, inner, opts, stored)
}

// TestReadFaults: a read error is reported, never taken for corruption: Open
// fails without cutting anything, and Read returns the error.
func TestReadFaults(t *testing.T) {
	inner, inj := vfs.NewMem(), &vfs.Injector{}
	inj.SetFilter(onlyLogs)
	opts := Options{SegmentMaxBytes: 1000}
	l := openLog(t, inner, opts)
	want := appendN(t, l, 0, 40, 30)
	l.Close()
	for nth := 1; nth <= 6; nth++ { // each read Open makes in turn
		inj.FailRead(nth)
		before := inj.Injected()
		if r, err := Open(vfs.NewFaulty(inner, inj), testDir, opts); err == nil {
			r.Close()
			if inj.Injected() == before {
				continue // that many reads were not needed
			}
			t.Fatalf("Open with read fault %d succeeded", nth)
		} else {
			mustErr(t, err, vfs.ErrInjected)
		}
		inj.Reset()
	}
	inj.Reset()
	l = openLog(t, vfs.NewFaulty(inner, inj), opts)
	if m := l.Metrics(); m.Truncations != 0 {
		t.Fatalf("a read error cut the log: %+v", m)
	}
	if err := sameRecords(readAll(t, l), want); err != nil {
		t.Fatal(err)
	}
	inj.FailRead(1)
	_, err := l.Read(0, 1, 1)
	mustErr(t, err, vfs.ErrInjected)
	l.Close()
}
