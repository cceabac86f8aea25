package streamworkers

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/causeway/causeway/internal/pebblekv"
)

func openCheckpoints(t *testing.T, fs vfs.FS) (checkpoints, *pebblekv.DB) {
	t.Helper()
	db, err := pebblekv.Open("cp", pebblekv.Options{Pebble: &pebble.Options{FS: fs}, ReserveBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	return checkpoints{db: db}, db
}

// A commit is all or nothing across a crash, rows sent are forgotten,
// and a dropped worker leaves nothing behind.
func TestCheckpointCommitSurvivesACrash(t *testing.T) {
	fs := vfs.NewCrashableMem()
	cps, db := openCheckpoints(t, fs)
	a := workerID{Tenant: "_mm", Fabric: "_system", Name: "a"}
	ab := workerID{Tenant: "_mm", Fabric: "_system", Name: "ab"} // a prefix of its name is another worker
	row := func(seq int64) pendingRow {
		return pendingRow{Seq: seq, To: toStream, Target: "out", Key: "k", Value: json.RawMessage(`{"n":1}`)}
	}
	cp := checkpoint{Version: 2, CreatedAt: 7, Positions: map[string]uint64{"in": 10}, NextSeq: 4, In: 10, Out: 3}
	if err := cps.commit(a, cp, []byte("state-1"), []pendingRow{row(1), row(2), row(3)}); err != nil {
		t.Fatal(err)
	}
	if err := cps.commit(ab, checkpoint{NextSeq: 1}, nil, []pendingRow{row(1)}); err != nil {
		t.Fatal(err)
	}
	if err := cps.sent(a, 2); err != nil { // unsynced: may be lost in a crash
		t.Fatal(err)
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	_ = db.Close()
	cps, db = openCheckpoints(t, crashed)
	defer db.Close()
	got, state, rows, found, err := cps.load(a)
	if err != nil || !found {
		t.Fatalf("load: found %v, %v", found, err)
	}
	if !reflect.DeepEqual(got, cp) || string(state) != "state-1" {
		t.Fatalf("checkpoint %+v state %q, want %+v state-1", got, state, cp)
	}
	// The forgetting of rows 1-2 was not synced: they are pending again
	// (a resend the broker drops), never lost.
	if len(rows) != 3 || rows[0].Seq != 1 || rows[2].Seq != 3 {
		t.Fatalf("rows after the crash: %+v", rows)
	}
	if err := cps.sent(a, 2); err != nil {
		t.Fatal(err)
	}
	if _, _, rows, _, _ := cps.load(a); len(rows) != 1 || rows[0].Seq != 3 {
		t.Fatalf("rows after sent(2): %+v", rows)
	}
	ids, err := cps.ids()
	if err != nil || !reflect.DeepEqual(ids, []workerID{a, ab}) {
		t.Fatalf("ids %v, %v", ids, err)
	}
	if err := cps.drop(a); err != nil {
		t.Fatal(err)
	}
	if _, _, _, found, _ := cps.load(a); found {
		t.Fatal("a dropped checkpoint is still there")
	}
	if _, _, rows, found, _ := cps.load(ab); !found || len(rows) != 1 {
		t.Fatalf("dropping a removed ab too: found %v rows %v", found, rows)
	}
}
