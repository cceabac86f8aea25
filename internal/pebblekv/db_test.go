package pebblekv

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"go.uber.org/zap/zaptest"

	bvfs "github.com/causeway/causeway/broker/vfs"
)

// open opens a store in a fresh directory on the disk, through inj.
func open(t *testing.T, dir string, inj *bvfs.Injector, reserve int64) *DB {
	t.Helper()
	d, err := Open(dir, Options{Name: "test", Logger: zaptest.NewLogger(t),
		Pebble: &pebble.Options{FS: FaultFS(vfs.Default, inj)}, ReserveBytes: reserve,
		RetryInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func mustGet(t *testing.T, d *DB, key string) string {
	t.Helper()
	v, c, err := d.Get([]byte(key))
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer c.Close()
	return string(v)
}

// waitWritable waits (bounded) for the store to accept writes again.
func waitWritable(t *testing.T, d *DB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !d.Health().Writable {
		if time.Now().After(deadline) {
			t.Fatalf("store still refuses writes: %+v", d.Health())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFullDiskWAL fills the disk under Pebble's WAL (no reserve, so Pebble
// itself meets ENOSPC): the write is an error, not the end of the process;
// reads go on; writes are refused until the disk has room, then resume by
// themselves; what was acknowledged before is kept.
func TestFullDiskWAL(t *testing.T) {
	for _, kind := range []string{"set", "batch", "delete", "logdata"} {
		t.Run(kind, func(t *testing.T) {
			inj := &bvfs.Injector{}
			dir := t.TempDir()
			d := open(t, dir, inj, -1)
			for i := range 100 {
				if err := d.Set(fmt.Appendf(nil, "k%03d", i), []byte("v"), pebble.Sync); err != nil {
					t.Fatal(err)
				}
			}
			inj.NoSpaceAfter(0)
			var err error
			switch kind {
			case "set":
				err = d.Set([]byte("full"), []byte("v"), pebble.Sync)
			case "batch":
				b := d.NewBatch()
				_ = b.Set([]byte("full"), []byte("v"), nil)
				err = b.Commit(pebble.Sync)
				_ = b.Close()
			case "delete":
				err = d.Delete([]byte("k000"), pebble.Sync)
			case "logdata":
				err = d.LogData(nil, pebble.Sync)
			}
			if !errors.Is(err, ErrWritesRefused) || !IsNoSpace(err) {
				t.Fatalf("write on a full disk: %v, want ErrWritesRefused with ENOSPC", err)
			}
			if h := d.Health(); h.Writable || !h.NoSpace || h.Error == "" {
				t.Fatalf("health on a full disk: %+v", h)
			}
			// Later writes are refused without reaching Pebble; reads go on.
			for range 1000 {
				if err := d.Set([]byte("again"), []byte("v"), pebble.Sync); !errors.Is(err, ErrWritesRefused) {
					t.Fatalf("write while failed: %v", err)
				}
			}
			if v := mustGet(t, d, "k042"); v != "v" {
				t.Fatalf("read while failed: %q", v)
			}
			it, err := d.NewIter(nil)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for it.First(); it.Valid(); it.Next() {
				n++
			}
			_ = it.Close()
			if n < 99 {
				t.Fatalf("iterated %d keys while failed", n)
			}
			inj.Reset()
			waitWritable(t, d)
			if err := d.Set([]byte("after"), []byte("v2"), pebble.Sync); err != nil {
				t.Fatalf("write after space returned: %v", err)
			}
			if h := d.Health(); h.Stats.Failures != 1 || h.Stats.Recoveries != 1 {
				t.Fatalf("stats: %+v", h.Stats)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			d2 := open(t, dir, inj, -1)
			for _, k := range []string{"k000", "k099", "after"} {
				if _, c, err := d2.Get([]byte(k)); err != nil && !(kind == "delete" && k == "k000") {
					t.Fatalf("after reopen, %s: %v", k, err)
				} else if err == nil {
					_ = c.Close()
				}
			}
		})
	}
}

// TestReserve: below the reserve, writes are refused before Pebble is
// involved, and accepted again once space is freed.
func TestReserve(t *testing.T) {
	inj := &bvfs.Injector{}
	d := open(t, t.TempDir(), inj, 64<<20)
	if err := d.Set([]byte("a"), []byte("1"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	inj.NoSpaceAfter(1 << 20)
	time.Sleep(spaceCheckInterval) // let the cached free-space answer expire (not synchronisation)
	err := d.Set([]byte("b"), []byte("2"), pebble.Sync)
	if !errors.Is(err, ErrWritesRefused) || !errors.Is(err, ErrLowSpace) {
		t.Fatalf("write below the reserve: %v", err)
	}
	if left, _ := inj.SpaceLeft(); left != 1<<20 {
		t.Fatalf("a refused write used %d bytes of the disk", 1<<20-left)
	}
	if h := d.Health(); h.Writable || !h.NoSpace {
		t.Fatalf("health below the reserve: %+v", h)
	}
	inj.Reset()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err = d.Set([]byte("b"), []byte("2"), pebble.Sync); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes still refused after space was freed: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOpenOnFullDisk: a store restarted on a full disk opens read-only,
// serves reads, says why writes are refused, and becomes writable once
// there is room.
func TestOpenOnFullDisk(t *testing.T) {
	inj := &bvfs.Injector{}
	dir := t.TempDir()
	d := open(t, dir, inj, -1)
	if err := d.Set([]byte("a"), []byte("1"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	inj.NoSpaceAfter(0)
	d = open(t, dir, inj, -1)
	if v := mustGet(t, d, "a"); v != "1" {
		t.Fatalf("read on a full disk: %q", v)
	}
	h := d.Health()
	if h.Writable || !h.ReadOnly || h.Error == "" {
		t.Fatalf("health after opening on a full disk: %+v", h)
	}
	if err := d.Set([]byte("b"), []byte("2"), pebble.Sync); !errors.Is(err, ErrWritesRefused) {
		t.Fatalf("write on a read-only store: %v", err)
	}
	inj.Reset()
	waitWritable(t, d)
	if err := d.Set([]byte("b"), []byte("2"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if v := mustGet(t, d, "a"); v != "1" {
		t.Fatalf("read after reopening: %q", v)
	}
}

// TestConcurrentWritersFillDisk: writers and readers run while the disk
// fills and empties again; nothing panics, every write either succeeds or
// is refused, and acknowledged writes are all there at the end.
func TestConcurrentWritersFillDisk(t *testing.T) {
	inj := &bvfs.Injector{}
	dir := t.TempDir()
	d := open(t, dir, inj, -1)
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprintf("w%d-%06d", w, i)
				err := d.Set([]byte(k), make([]byte, 512), pebble.Sync)
				switch {
				case err == nil:
					mu.Lock()
					acked[k] = true
					mu.Unlock()
				case errors.Is(err, ErrWritesRefused), errors.Is(err, ErrUnavailable), errors.Is(err, ErrReopened):
				default:
					t.Errorf("write %s: unexpected error %v", k, err)
					return
				}
				if v, c, err := d.Get([]byte(k)); err == nil {
					_ = v
					_ = c.Close()
				}
			}
		}()
	}
	for round := range 5 {
		inj.NoSpaceAfter(int64(round) * 4096)
		deadline := time.Now().Add(10 * time.Second)
		for d.Health().Writable && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		inj.Reset()
		waitWritable(t, d)
	}
	close(stop)
	wg.Wait()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = open(t, dir, inj, -1)
	for k := range acked {
		if _, c, err := d.Get([]byte(k)); err != nil {
			t.Fatalf("acknowledged %s lost: %v", k, err)
		} else {
			_ = c.Close()
		}
	}
	t.Logf("%d writes acknowledged across 5 fills", len(acked))
}
