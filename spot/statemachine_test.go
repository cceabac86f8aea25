package spot

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	sm "github.com/lni/dragonboat/v4/statemachine"
	"go.uber.org/zap"
)

func openSM(t *testing.T, dir string) (*stateMachine, uint64) {
	t.Helper()
	m := newStateMachine(dir, "us", zap.NewNop(), nil)
	applied, err := m.Open(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, applied
}

func entry(t *testing.T, index uint64, c *command) sm.Entry {
	t.Helper()
	b, err := encodeCommand(c)
	if err != nil {
		t.Fatal(err)
	}
	return sm.Entry{Index: index, Cmd: b}
}

func createCmd(name string) *command {
	return &command{Tenant: "t", Fabric: "f", Create: &CollectionInfo{Name: name, Home: "us"}}
}

func txnCmd(id string, o ...Op) *command {
	return &command{ID: id, Tenant: "t", Fabric: "f", Txn: &Txn{Ops: o}}
}

func apply(t *testing.T, m *stateMachine, entries ...sm.Entry) []*outcome {
	t.Helper()
	res, err := m.Update(entries)
	if err != nil {
		t.Fatal(err)
	}
	outs := make([]*outcome, len(res))
	for i, e := range res {
		if outs[i], err = decodeOutcome(e.Result.Data); err != nil {
			t.Fatal(err)
		}
		if (e.Result.Value == 1) != (outs[i].Err == nil) {
			t.Fatalf("entry %d: result value %d with error %v", e.Index, e.Result.Value, outs[i].Err)
		}
	}
	return outs
}

func state(t *testing.T, m *stateMachine) ReplicaState {
	t.Helper()
	v, err := m.Lookup(stateQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return v.(ReplicaState)
}

func TestStateMachineAppliesAndReopens(t *testing.T) {
	dir := t.TempDir()
	m, applied := openSM(t, dir)
	if applied != 0 {
		t.Fatalf("fresh state applied %d", applied)
	}
	outs := apply(t, m,
		entry(t, 1, createCmd("c")),
		entry(t, 2, txnCmd("r1", put("c", "a", `{"n":1}`))),
		sm.Entry{Index: 3, Cmd: []byte("garbage")},
		entry(t, 4, txnCmd("r2", Op{Kind: Insert, Collection: "c", Key: "a", Doc: json.RawMessage(`{}`)})),
	)
	if outs[0].Err != nil || outs[0].Info.ID != 1 || outs[1].Err != nil {
		t.Fatalf("outcomes %+v %+v", outs[0], outs[1])
	}
	if !errors.Is(outs[2].Err.err(), ErrCorruptCommand) || !errors.Is(outs[3].Err.err(), ErrKeyExists) {
		t.Fatalf("refusals %+v %+v", outs[2].Err, outs[3].Err)
	}
	before := state(t, m)
	if before.Applied != 4 {
		t.Fatalf("applied %d", before.Applied)
	}
	if err := m.Sync(); err != nil {
		t.Fatal(err)
	}
	m.Close()
	m2, applied := openSM(t, dir)
	if applied != 4 || state(t, m2) != before {
		t.Fatalf("reopened at %d with %+v, want 4 and %+v", applied, state(t, m2), before)
	}
}

func TestStateMachineDeduplicatesRequests(t *testing.T) {
	m, _ := openSM(t, t.TempDir())
	inc := Op{Kind: Update, Collection: "c", Key: "a", Doc: json.RawMessage(`{"n":{"$inc":1}}`)}
	outs := apply(t, m,
		entry(t, 1, createCmd("c")),
		entry(t, 2, txnCmd("", put("c", "a", `{"n":0}`))),
		entry(t, 3, txnCmd("same", inc)),
		entry(t, 4, txnCmd("same", inc)), // a retry of entry 3
		entry(t, 5, txnCmd("other", inc)),
	)
	if outs[3].Index != 3 || outs[3].Results[0].Rev != outs[2].Results[0].Rev {
		t.Fatalf("the retry answered %+v, want entry 3's answer %+v", outs[3], outs[2])
	}
	res := apply(t, m, entry(t, 6, txnCmd("", Op{Kind: Read, Collection: "c", Key: "a"})))
	if got := string(res[0].Results[0].Doc); !bytes.Contains([]byte(got), []byte(`"n":2`)) {
		t.Fatalf("after a retried and a fresh increment: %s, want n=2", got)
	}
	// Past the window the id is new again, whatever pruning did.
	far := uint64(3 + dedupWindowEntries)
	outs = apply(t, m, entry(t, far, txnCmd("same", inc)))
	if outs[0].Index != far {
		t.Fatalf("request id past the window answered from index %d", outs[0].Index)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	src, _ := openSM(t, t.TempDir())
	apply(t, src, entry(t, 1, createCmd("c")), entry(t, 2, createCmd("d")))
	var es []sm.Entry
	for i := 0; i < 300; i++ {
		es = append(es, entry(t, uint64(3+i), txnCmd("id"+itoa(i), put("c", "k"+itoa(i), `{"i":`+itoa(i)+`}`), put("d", "k", `{"last":`+itoa(i)+`}`))))
	}
	apply(t, src, es...)
	want := state(t, src)

	snap, err := src.PrepareSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := src.SaveSnapshot(snap, &buf, nil); err != nil {
		t.Fatal(err)
	}
	dst, _ := openSM(t, t.TempDir())
	apply(t, dst, entry(t, 1, createCmd("other")))
	if err := dst.RecoverFromSnapshot(bytes.NewReader(buf.Bytes()), nil); err != nil {
		t.Fatal(err)
	}
	got := state(t, dst)
	if got.Applied != want.Applied || got.Digest != want.Digest || got.Restores != 1 {
		t.Fatalf("restored %+v, want %+v", got, want)
	}
	// The restored state survives a reopen (CURRENT names the new db).
	dir := dst.dir
	dst.Close()
	again, applied := openSM(t, dir)
	if applied != want.Applied || state(t, again).Digest != want.Digest {
		t.Fatalf("reopened restored state: applied %d digest %d", applied, state(t, again).Digest)
	}

	// A damaged stream is refused and the state stays whole.
	for _, cut := range []int{0, 5, buf.Len() / 2, buf.Len() - 1} {
		bad := append([]byte(nil), buf.Bytes()[:cut]...)
		if err := again.RecoverFromSnapshot(bytes.NewReader(bad), nil); !errors.Is(err, ErrCorruptSnapshot) {
			t.Fatalf("stream cut at %d: %v", cut, err)
		}
	}
	flipped := append([]byte(nil), buf.Bytes()...)
	flipped[len(flipped)/3] ^= 0x40
	if err := again.RecoverFromSnapshot(bytes.NewReader(flipped), nil); err == nil {
		t.Fatal("a flipped bit went unnoticed")
	}
	if state(t, again).Digest != want.Digest {
		t.Fatal("a refused snapshot changed the state")
	}
}

func TestSaveSnapshotStops(t *testing.T) {
	m, _ := openSM(t, t.TempDir())
	var es []sm.Entry
	es = append(es, entry(t, 1, createCmd("c")))
	for i := 0; i < 3*stopCheckRecords; i++ {
		es = append(es, entry(t, uint64(2+i), txnCmd("", put("c", "k"+itoa(i), `{}`))))
	}
	apply(t, m, es...)
	snap, _ := m.PrepareSnapshot()
	stop := make(chan struct{})
	close(stop)
	if err := m.SaveSnapshot(snap, io.Discard, stop); !errors.Is(err, sm.ErrSnapshotStopped) {
		t.Fatalf("stopped snapshot: %v", err)
	}
}

func TestLookupList(t *testing.T) {
	m, _ := openSM(t, t.TempDir())
	apply(t, m, entry(t, 1, createCmd("c")),
		entry(t, 2, txnCmd("", put("c", "a", `{}`), put("c", "b", `{}`), put("c", "c", `{}`))),
		entry(t, 3, txnCmd("", Op{Kind: Delete, Collection: "c", Key: "b"})))
	ref := Ref{Tenant: "t", Fabric: "f", Collection: "c"}
	v, err := m.Lookup(listQuery{ref: ref, limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	page := v.(*ListResult)
	if len(page.Docs) != 1 || !page.More || page.Next != "a" {
		t.Fatalf("first page %+v", page)
	}
	v, _ = m.Lookup(listQuery{ref: ref, after: page.Next, limit: 5})
	page = v.(*ListResult)
	if len(page.Docs) != 1 || page.More || !bytes.Contains(page.Docs[0], []byte(`"_key":"c"`)) {
		t.Fatalf("second page %+v", page)
	}
}

// TestRequestIDsAreScoped: a request id answers only a retry of the same
// request of the same tenant and fabric.
func TestRequestIDsAreScoped(t *testing.T) {
	m, _ := openSM(t, t.TempDir())
	apply(t, m, entry(t, 1, createCmd("c")))
	other := createCmd("c")
	other.Tenant = "u"
	apply(t, m, entry(t, 2, other))
	mine := txnCmd("id", put("c", "a", `{"secret":1}`))
	theirs := txnCmd("id", Op{Kind: Read, Collection: "c", Key: "a"})
	theirs.Tenant = "u"
	reused := txnCmd("id", put("c", "b", `{}`))
	outs := apply(t, m, entry(t, 3, mine), entry(t, 4, theirs), entry(t, 5, reused))
	if outs[1].Err != nil || outs[1].Index != 4 || outs[1].Results[0].Found {
		t.Fatalf("another tenant's request with the same id: %+v", outs[1])
	}
	if outs[2].Err == nil || !errors.Is(outs[2].Err.err(), ErrBadRequest) {
		t.Fatalf("a different request reusing an id: %+v", outs[2])
	}
}
