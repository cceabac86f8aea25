package spot

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/causeway/causeway/collections"
)

// memState is an in-memory reader for the pure executor.
type memState struct {
	cols map[string]CollectionInfo
	docs map[docRef][]byte
	next uint64 // next Raft index
}

func newMemState(names ...string) *memState {
	m := &memState{cols: map[string]CollectionInfo{}, docs: map[docRef][]byte{}, next: 10}
	for i, n := range names {
		m.cols[n] = CollectionInfo{Tenant: "t", Fabric: "f", Name: n, ID: uint64(i + 1), Home: "us", KeyValue: n == "kv"}
	}
	return m
}

func (m *memState) collection(tenant, fabric, name string) (CollectionInfo, bool, error) {
	if tenant != "t" || fabric != "f" {
		return CollectionInfo{}, false, nil
	}
	info, ok := m.cols[name]
	return info, ok, nil
}

func (m *memState) doc(id uint64, key string) (*collections.Doc, error) {
	b, ok := m.docs[docRef{id, key}]
	if !ok {
		return nil, nil
	}
	return collections.DecodeDoc(b)
}

// run executes t at the next index with clock nowMs and stores what it
// wrote.
func (m *memState) run(t *Txn, nowMs uint64) (*execution, error) {
	ex, err := runTxn(m, execContext{home: "us", index: m.next, nowMs: nowMs}, "t", "f", t)
	m.next++
	if err != nil {
		return nil, err
	}
	for _, w := range ex.writes {
		if w.doc == nil {
			delete(m.docs, docRef{w.collectionID, w.key})
		} else {
			m.docs[docRef{w.collectionID, w.key}] = w.doc.AppendBinary(nil)
		}
	}
	return ex, nil
}

// show returns a document's JSON without _rev ("" when absent).
func (m *memState) show(col, key string) string {
	d, _ := m.doc(m.cols[col].ID, key)
	if !visible(d, 0) {
		return ""
	}
	raw, _ := d.JSON()
	var v map[string]any
	_ = json.Unmarshal(raw, &v)
	delete(v, "_rev")
	delete(v, "_id")
	delete(v, "_key")
	b, _ := json.Marshal(v)
	return string(b)
}

func ops(o ...Op) *Txn { return &Txn{Ops: o} }

func put(col, key, doc string) Op {
	return Op{Kind: Put, Collection: col, Key: key, Doc: json.RawMessage(doc)}
}

func TestRunTxnOperations(t *testing.T) {
	no, yes := false, true
	cases := []struct {
		name    string
		setup   []*Txn
		txn     *Txn
		want    string // the document c/a afterwards ("" absent)
		wantErr error
		failOp  int
		failPre int
	}{
		{name: "insert", txn: ops(Op{Kind: Insert, Collection: "c", Key: "a", Doc: json.RawMessage(`{"x":1,"_key":"a","_rev":"r"}`)}), want: `{"x":1}`},
		{name: "insert existing", setup: []*Txn{ops(put("c", "a", `{"x":1}`))}, txn: ops(Op{Kind: Insert, Collection: "c", Key: "a", Doc: json.RawMessage(`{}`)}), want: `{"x":1}`, wantErr: ErrKeyExists, failOp: 0, failPre: -1},
		{name: "replace", setup: []*Txn{ops(put("c", "a", `{"x":1,"y":2}`))}, txn: ops(Op{Kind: Replace, Collection: "c", Key: "a", Doc: json.RawMessage(`{"z":3}`)}), want: `{"z":3}`},
		{name: "replace missing", txn: ops(Op{Kind: Replace, Collection: "c", Key: "a", Doc: json.RawMessage(`{}`)}), wantErr: ErrDocumentNotFound, failOp: 0, failPre: -1},
		{name: "update merges", setup: []*Txn{ops(put("c", "a", `{"x":1,"o":{"p":1,"q":2}}`))},
			txn: ops(Op{Kind: Update, Collection: "c", Key: "a", Doc: json.RawMessage(`{"y":2,"o":{"q":3,"r":4}}`)}), want: `{"o":{"p":1,"q":3,"r":4},"x":1,"y":2}`},
		{name: "update without mergeObjects", setup: []*Txn{ops(put("c", "a", `{"o":{"p":1}}`))},
			txn: ops(Op{Kind: Update, Collection: "c", Key: "a", Doc: json.RawMessage(`{"o":{"q":3}}`), MergeObjects: &no}), want: `{"o":{"q":3}}`},
		{name: "update null removes", setup: []*Txn{ops(put("c", "a", `{"x":1,"y":2}`))},
			txn: ops(Op{Kind: Update, Collection: "c", Key: "a", Doc: json.RawMessage(`{"x":null}`), KeepNull: &no}), want: `{"y":2}`},
		{name: "update null kept", setup: []*Txn{ops(put("c", "a", `{"x":1}`))},
			txn: ops(Op{Kind: Update, Collection: "c", Key: "a", Doc: json.RawMessage(`{"x":null}`), KeepNull: &yes}), want: `{"x":null}`},
		{name: "increment", setup: []*Txn{ops(put("c", "a", `{"n":10}`))},
			txn: ops(Op{Kind: Update, Collection: "c", Key: "a", Doc: json.RawMessage(`{"n":{"$inc":-3},"m":{"$inc":2}}`)}), want: `{"m":2,"n":7}`},
		{name: "increment a string", setup: []*Txn{ops(put("c", "a", `{"n":"x"}`))},
			txn: ops(Op{Kind: Update, Collection: "c", Key: "a", Doc: json.RawMessage(`{"n":{"$inc":1}}`)}), want: `{"n":"x"}`, wantErr: ErrBadRequest, failOp: 0, failPre: -1},
		{name: "delete", setup: []*Txn{ops(put("c", "a", `{"x":1}`))}, txn: ops(Op{Kind: Delete, Collection: "c", Key: "a"}), want: ""},
		{name: "delete then insert in one txn", setup: []*Txn{ops(put("c", "a", `{"x":1}`))},
			txn: ops(Op{Kind: Delete, Collection: "c", Key: "a"}, Op{Kind: Insert, Collection: "c", Key: "a", Doc: json.RawMessage(`{"y":1}`)}), want: `{"y":1}`},
		{name: "ifRev mismatch", setup: []*Txn{ops(put("c", "a", `{"x":1}`))},
			txn: ops(Op{Kind: Replace, Collection: "c", Key: "a", Doc: json.RawMessage(`{}`), IfRev: "0000"}), want: `{"x":1}`, wantErr: ErrPrecondition, failOp: 0, failPre: -1},
		{name: "second op fails, first undone", setup: []*Txn{ops(put("c", "a", `{"x":1}`))},
			txn: ops(put("c", "a", `{"x":2}`), Op{Kind: Delete, Collection: "c", Key: "missing"}), want: `{"x":1}`, wantErr: ErrDocumentNotFound, failOp: 1, failPre: -1},
		{name: "unknown collection", txn: ops(put("nope", "a", `{}`)), wantErr: ErrCollectionNotFound, failOp: 0, failPre: -1},
		{name: "exists precondition", setup: []*Txn{ops(put("c", "a", `{"x":1}`))},
			txn:  &Txn{Preconditions: []Precondition{{Collection: "c", Key: "a", Exists: &no}}, Ops: []Op{put("c", "a", `{"x":2}`)}},
			want: `{"x":1}`, wantErr: ErrPrecondition, failOp: -1, failPre: 0},
		{name: "equals by number value", setup: []*Txn{ops(put("c", "a", `{"o":{"n":1.0}}`))},
			txn:  &Txn{Preconditions: []Precondition{{Collection: "c", Key: "a", Path: []string{"o", "n"}, Equals: json.RawMessage(`1`)}}, Ops: []Op{put("c", "a", `{"x":2}`)}},
			want: `{"x":2}`},
		{name: "equals mismatch", setup: []*Txn{ops(put("c", "a", `{"o":{"n":1}}`))},
			txn:  &Txn{Preconditions: []Precondition{{Collection: "c", Key: "a", Exists: &yes}, {Collection: "c", Key: "a", Path: []string{"o", "n"}, Equals: json.RawMessage(`2`)}}, Ops: []Op{put("c", "a", `{"x":2}`)}},
			want: `{"o":{"n":1}}`, wantErr: ErrPrecondition, failOp: -1, failPre: 1},
		{name: "equals on a missing attribute", setup: []*Txn{ops(put("c", "a", `{}`))},
			txn:  &Txn{Preconditions: []Precondition{{Collection: "c", Key: "a", Path: []string{"n"}, Equals: json.RawMessage(`null`)}}, Ops: []Op{put("c", "a", `{"x":2}`)}},
			want: `{}`, wantErr: ErrPrecondition, failOp: -1, failPre: 0},
		{name: "malformed precondition", txn: &Txn{Preconditions: []Precondition{{Collection: "c", Key: "a", Rev: "r", Exists: &yes}}, Ops: []Op{put("c", "a", `{}`)}},
			wantErr: ErrBadRequest, failOp: -1, failPre: 0},
		{name: "empty", txn: &Txn{}, wantErr: ErrBadRequest, failOp: -1, failPre: -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemState("c", "d")
			for _, s := range tc.setup {
				if _, err := m.run(s, 0); err != nil {
					t.Fatal(err)
				}
			}
			before := fmt.Sprint(m.docs)
			_, err := m.run(tc.txn, 0)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				var te *TxnError
				if !errors.As(err, &te) || te.Op != tc.failOp || te.Precondition != tc.failPre {
					t.Fatalf("err %#v, want failing op %d precondition %d", err, tc.failOp, tc.failPre)
				}
				if after := fmt.Sprint(m.docs); after != before {
					t.Fatalf("a refused transaction changed the state")
				}
			}
			if got := m.show("c", "a"); got != tc.want {
				t.Fatalf("c/a = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestRunTxnResultsAndRevisions(t *testing.T) {
	m := newMemState("c")
	ex, err := m.run(ops(put("c", "a", `{"x":1}`), Op{Kind: Read, Collection: "c", Key: "a"}, Op{Kind: Read, Collection: "c", Key: "b"}), 0)
	if err != nil {
		t.Fatal(err)
	}
	w, r, missing := ex.results[0], ex.results[1], ex.results[2]
	if !w.Found || w.Rev == "" || w.OldRev != "" || r.Rev != w.Rev || !r.Found || missing.Found || missing.Doc != nil {
		t.Fatalf("results %+v", ex.results)
	}
	if len(ex.changes) != 1 || ex.changes[0].Op != "replace" || ex.changes[0].Rev != w.Rev || ex.changes[0].Index != m.next-1 {
		t.Fatalf("changes %+v", ex.changes)
	}
	// Every write makes a new revision, and the old one is reported.
	ex2, err := m.run(ops(Op{Kind: Update, Collection: "c", Key: "a", Doc: json.RawMessage(`{"x":1}`)}), 0)
	if err != nil {
		t.Fatal(err)
	}
	if ex2.results[0].Rev == w.Rev || ex2.results[0].OldRev != w.Rev {
		t.Fatalf("update result %+v after rev %s", ex2.results[0], w.Rev)
	}
	// A delete leaves no state behind and a deleted change.
	ex3, err := m.run(ops(Op{Kind: Delete, Collection: "c", Key: "a"}), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.docs) != 0 || !ex3.changes[0].Deleted || ex3.changes[0].Op != "delete" {
		t.Fatalf("after delete: docs %v changes %+v", m.docs, ex3.changes)
	}
}

func TestRunTxnExpiry(t *testing.T) {
	m := newMemState("kv")
	if _, err := m.run(ops(Op{Kind: Put, Collection: "kv", Key: "k", Doc: json.RawMessage(`{"value":1}`), ExpiresAt: 1000}), 500); err != nil {
		t.Fatal(err)
	}
	read := ops(Op{Kind: Read, Collection: "kv", Key: "k"})
	ex, err := m.run(read, 999)
	if err != nil || !ex.results[0].Found || ex.results[0].ExpiresAt != 1000 {
		t.Fatalf("before expiry: %+v %v", ex, err)
	}
	if ex, err = m.run(read, 1000); err != nil || ex.results[0].Found {
		t.Fatalf("at expiry: %+v %v", ex, err)
	}
	// An expired key is free for an insert.
	if _, err := m.run(ops(Op{Kind: Insert, Collection: "kv", Key: "k", Doc: json.RawMessage(`{"value":2}`)}), 2000); err != nil {
		t.Fatal(err)
	}
	if got := m.show("kv", "k"); got != `{"value":2}` {
		t.Fatalf("after re-insert %s", got)
	}
}

func TestRunTxnDeterministic(t *testing.T) {
	txn := ops(put("c", "a", `{"b":{"c":[1,2,{"d":null}]},"e":"é","f":1e3}`),
		Op{Kind: Update, Collection: "c", Key: "a", Doc: json.RawMessage(`{"b":{"x":{"$inc":4}},"g":true}`)})
	var first string
	for i := 0; i < 5; i++ {
		m := newMemState("c")
		if _, err := m.run(txn, 0); err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(m.docs)
		if i == 0 {
			first = got
		} else if got != first {
			t.Fatalf("run %d stored %s, run 0 %s", i, got, first)
		}
	}
}

func TestTxnValidateBounds(t *testing.T) {
	big := &Txn{}
	for i := 0; i <= MaxTxnOps; i++ {
		big.Ops = append(big.Ops, Op{Kind: Read, Collection: "c", Key: "k"})
	}
	if err := big.Validate(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized: %v", err)
	}
	bad := []Op{
		{Kind: "frob", Collection: "c", Key: "k"},
		{Kind: Read, Collection: "c", Key: ""},
		{Kind: Read, Collection: "1c", Key: "k"},
		{Kind: Read, Collection: "c", Key: "k/x"},
		{Kind: Read, Collection: "c", Key: "k", Doc: json.RawMessage(`{}`)},
		{Kind: Put, Collection: "c", Key: "k", Doc: json.RawMessage(`[1]`)},
		{Kind: Put, Collection: "c", Key: "k", Doc: json.RawMessage(`{"a":`)},
		{Kind: Insert, Collection: "c", Key: "k", Doc: json.RawMessage(`{}`), IfRev: "x"},
		{Kind: Delete, Collection: "c", Key: "k", ExpiresAt: 5},
	}
	for i, op := range bad {
		if err := (&Txn{Ops: []Op{op}}).Validate(); !errors.Is(err, ErrBadRequest) {
			t.Errorf("op %d %+v: %v, want a bad request", i, op, err)
		}
	}
}
