package segment

import (
	"errors"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/vfs"
)

// sealedLog appends to a log of small segments under policy until it has
// at least segments of them, closes it cleanly and returns the records.
func sealedLog(t *testing.T, policy FsyncPolicy, segments int) (*vfs.MemFS, []Record, Options) {
	t.Helper()
	fsys := vfs.NewMem()
	opts := Options{SegmentMaxBytes: 500, Fsync: policy}
	l := openLog(t, fsys, opts)
	var want []Record
	for l.Metrics().Segments < segments {
		want = append(want, appendN(t, l, len(want), 1, 40)...)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return fsys, want, opts
}

// TestUnsyncedSealCutsTheLog: under FsyncNever and FsyncInterval a crash
// can leave a sealed segment damaged or short (its seal runs behind the
// writer) with later segments after it. Recovery cuts the log there and
// removes the later segments, as it cuts a torn tail; under FsyncAlways
// the same damage fails Open (it cannot come from a crash).
func TestUnsyncedSealCutsTheLog(t *testing.T) {
	damages := map[string]func(t *testing.T, fsys *vfs.MemFS, path string){
		"zeroed end": func(t *testing.T, fsys *vfs.MemFS, path string) {
			b := fileBytes(t, fsys, path)
			for i := len(b) / 2; i < len(b); i++ {
				b[i] = 0
			}
			writeFile(t, fsys, path, b)
		},
		"short": func(t *testing.T, fsys *vfs.MemFS, path string) {
			b := fileBytes(t, fsys, path)
			writeFile(t, fsys, path, b[:len(b)/2])
		},
	}
	for name, damage := range damages {
		for _, policy := range []FsyncPolicy{FsyncNever, FsyncInterval, FsyncAlways} {
			t.Run(name+"/"+policy.String(), func(t *testing.T) {
				fsys, want, opts := sealedLog(t, policy, 4)
				names, err := fsys.ReadDir(testDir)
				if err != nil {
					t.Fatal(err)
				}
				var bases []uint64
				for _, n := range names {
					if b, ok := parseName(n, logSuffix); ok {
						bases = append(bases, b)
					}
				}
				damaged := bases[1] // sealed, with two segments after it
				damage(t, fsys, logName(testDir, damaged))
				writeFile(t, fsys, indexName(testDir, damaged), nil) // its index was not synced either

				l, err := Open(fsys, testDir, opts)
				if policy == FsyncAlways {
					if !errors.Is(err, ErrCorrupt) {
						t.Fatalf("Open = %v, want ErrCorrupt", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				l.Close()
				r := checkRecovered(t, fsys, opts, want, damaged)
				defer r.Close()
				if end := r.EndOffset() - 1; end >= bases[2] {
					t.Fatalf("recovered up to %d, past the damaged segment (next segment at %d)", end, bases[2])
				}
				if segs := r.Metrics().Segments; segs != 2 {
					t.Fatalf("%d segments after the cut, want 2", segs)
				}
				for _, b := range bases[2:] {
					if _, err := fsys.Stat(logName(testDir, b)); err == nil {
						t.Fatalf("segment %d after the cut is still there", b)
					}
				}
			})
		}
	}
}

// TestSealBehindIsDurableAfterSyncAndClose: a rolled segment's data is
// durable once Sync returns (it waits for the seal in flight), and after
// Close, under FsyncNever.
func TestSealBehindIsDurableAfterSyncAndClose(t *testing.T) {
	for _, viaClose := range []bool{false, true} {
		fsys := vfs.NewMem()
		opts := Options{SegmentMaxBytes: 500, Fsync: FsyncNever}
		l := openLog(t, fsys, opts)
		var want []Record
		for l.Metrics().Segments < 5 {
			want = append(want, appendN(t, l, len(want), 1, 40)...)
		}
		if viaClose {
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		} else {
			if err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			defer l.Close()
		}
		c := fsys.CrashClone(nil)
		checkRecovered(t, c, opts, want, uint64(len(want))).Close()
	}
}

// TestCrashWhileSealingBehind crashes (random torn writes) at random
// moments while a FsyncNever log of small segments rolls and seals behind
// its writer: every crash image opens, holds a prefix of what was
// appended, and takes appends again.
func TestCrashWhileSealingBehind(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 11))
	for _, policy := range []FsyncPolicy{FsyncNever, FsyncInterval} {
		fsys := vfs.NewMem()
		opts := Options{SegmentMaxBytes: 400, IndexIntervalBytes: 128, Fsync: policy, FsyncInterval: time.Millisecond}
		l := openLog(t, fsys, opts)
		var want []Record
		for i := 0; i < 60; i++ {
			want = append(want, appendN(t, l, len(want), 1+rng.IntN(3), 20+rng.IntN(60))...)
			if rng.IntN(4) == 0 {
				c := fsys.CrashClone(func(unsynced int) int { return rng.IntN(unsynced + 1) })
				checkRecovered(t, c, opts, want, 0).Close()
			}
		}
		l.Close()
	}
}

// TestSealBehindFaults: under FsyncNever a failed fsync of a segment sealed
// behind the writer fails the log (Sync reports it, appends are refused,
// reads keep what was acknowledged, a reopen holds it), and a full disk
// while segments roll refuses the appends that do not fit, changes nothing
// else, and the log goes on once space is back.
func TestSealBehindFaults(t *testing.T) {
	opts := Options{SegmentMaxBytes: 200, Fsync: FsyncNever}
	t.Run("seal fsync fails", func(t *testing.T) {
		inner, inj := vfs.NewMem(), &vfs.Injector{}
		inj.SetFilter(onlyLogs)
		l := openLog(t, vfs.NewFaulty(inner, inj), opts)
		want := appendN(t, l, 0, 3, 40)
		inj.FailSync(1) // the next log fsync: the seal of the segment the next appends roll
		for l.Metrics().SegmentsRolled == 0 {
			want = append(want, appendN(t, l, len(want), 1, 40)...)
		}
		if err := l.Sync(); !errors.Is(err, vfs.ErrInjected) {
			t.Fatalf("Sync after a failed seal = %v, want the fsync error", err)
		}
		_, err := l.Append([]Record{rec(len(want), 40)})
		mustErr(t, err, ErrFailed)
		if err := sameRecords(readAll(t, l), want); err != nil {
			t.Fatalf("reads after the failure: %v", err)
		}
		l.Close()
		r := openLog(t, inner, opts)
		defer r.Close()
		if err := sameRecords(readAll(t, r), want); err != nil {
			t.Fatalf("reopened: %v", err)
		}
	})
	t.Run("disk full while rolling", func(t *testing.T) {
		inner, inj := vfs.NewMem(), &vfs.Injector{}
		l := openLog(t, vfs.NewFaulty(inner, inj), opts)
		want := appendN(t, l, 0, 8, 40)
		inj.NoSpaceAfter(300)
		refused := 0
		for i := 0; i < 40; i++ {
			r := rec(len(want), 40)
			off, err := l.Append([]Record{r})
			if err != nil {
				mustErr(t, err, syscall.ENOSPC)
				refused++
				continue
			}
			r.Offset = off
			want = append(want, r)
		}
		if refused == 0 || l.Metrics().Failed {
			t.Fatalf("refused %d appends, failed %v: want some refused and the log not failed", refused, l.Metrics().Failed)
		}
		inj.Reset()
		want = append(want, appendN(t, l, len(want), 5, 40)...)
		if err := sameRecords(readAll(t, l), want); err != nil {
			t.Fatalf("reads after the disk emptied: %v", err)
		}
		reopenExact(t, l, inner, opts, want)
	})
}
