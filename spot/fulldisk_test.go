package spot

import (
	"encoding/json"
	"errors"
	"testing"

	pvfs "github.com/cockroachdb/pebble/v2/vfs"

	bvfs "github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/internal/pebblekv"
)

// TestWritesRefusedBelowReserve: with the disk below the reserve, a SPOT
// write answers ErrUnavailable before it reaches dragonboat (whose Raft log
// ends the process when it cannot be written); reads go on; writes resume
// once space is freed.
func TestWritesRefusedBelowReserve(t *testing.T) {
	inj := &bvfs.Injector{}
	cfg := testConfig(t, "us", 1)
	cfg.DiskFS = pebblekv.FaultFS(pvfs.Default, inj)
	home := startNode(t, cfg, Options{})
	createAccounts(t, home.svc)
	if _, err := home.svc.Insert(ctxT(t), accounts, "a", json.RawMessage(`{"n":1}`), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	inj.NoSpaceAfter(1 << 20) // below the 64 MiB reserve: nothing is failing yet
	_, err := home.svc.Insert(ctxT(t), accounts, "b", json.RawMessage(`{"n":2}`), WriteOptions{})
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, pebblekv.ErrLowSpace) {
		t.Fatalf("SPOT write below the reserve: %v", err)
	}
	if err := home.svc.WritesRefused(); !errors.Is(err, pebblekv.ErrLowSpace) {
		t.Fatalf("WritesRefused (for /health) below the reserve: %v", err)
	}
	if left, _ := inj.SpaceLeft(); left != 1<<20 {
		t.Fatalf("a refused write used %d bytes", 1<<20-left)
	}
	if _, _, err := home.svc.GetWith(ctxT(t), accounts, "a", ReadOptions{}); err != nil {
		t.Fatalf("read below the reserve: %v", err)
	}
	inj.Reset()
	if err := home.svc.WritesRefused(); err != nil {
		t.Fatalf("WritesRefused with space: %v", err)
	}
	if _, err := home.svc.Insert(ctxT(t), accounts, "b", json.RawMessage(`{"n":2}`), WriteOptions{}); err != nil {
		t.Fatalf("write after space returned: %v", err)
	}
}
