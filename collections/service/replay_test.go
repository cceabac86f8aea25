package service

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections/query"
)

// TestReplayRebuildsView makes the view lose what a crash between the op
// log's fsync and the view's commit would lose (documents, applied vector,
// change-feed position), then restarts: the op log tail brings every
// document back with the same revision, and the change feed gets no
// duplicate events.
func TestReplayRebuildsView(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.CreateCollection(naming.DefaultTenant, naming.SystemFabric, CollectionSpec{Name: "users"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.CreateIndex(users, "", "n"); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		e.write(Write{Kind: Insert, Key: fmt.Sprintf("k%02d", i), Doc: map[string]any{"n": json.Number(fmt.Sprint(i))}})
	}
	e.write(Write{Kind: Update, Key: "k03", Doc: map[string]any{"n": map[string]any{"$inc": json.Number("100")}}, MergeObjects: true})
	e.write(Write{Kind: Delete, Key: "k04"})
	before := map[string]string{}
	for i := range 20 {
		k := fmt.Sprintf("k%02d", i)
		if d := e.doc(k); d != nil {
			before[k] = fmt.Sprint(d)
		}
	}
	c, err := e.svc.collection(users)
	if err != nil {
		t.Fatal(err)
	}
	info := c.info.Load()
	c.mu.Lock()
	c.pending.Wait() // change events are published after the writes return
	c.mu.Unlock()
	changesEnd := c.chgStream.Source().EndOffset()
	if changesEnd != 22 {
		t.Fatalf("change feed has %d events, want 22", changesEnd)
	}

	// Forget the view's side of everything.
	b := e.svc.store.NewBatch()
	for i := range 20 {
		k := fmt.Sprintf("k%02d", i)
		cur, err := e.svc.store.Doc(info.ID, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.PutDoc(info, k, cur, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.SetApplied(info.ID, nil, 0); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if err := e.svc.store.SetPosition(info.ID, 0); err != nil {
		t.Fatal(err)
	}
	if e.doc("k01") != nil {
		t.Fatal("the view still has k01")
	}

	e.restart()
	for i := range 20 {
		k := fmt.Sprintf("k%02d", i)
		got := ""
		if d := e.doc(k); d != nil {
			got = fmt.Sprint(d)
		}
		if got != before[k] {
			t.Fatalf("%s after replay: %s, before %s", k, got, before[k])
		}
	}
	// The index was rebuilt with the documents.
	batch, err := e.svc.Query(naming.DefaultTenant, naming.SystemFabric, QueryRequest{Query: "SELECT _key FROM users WHERE n >= 100", Params: query.Params{}})
	if err != nil || len(batch.Result) != 1 || string(batch.Result[0]) != `{"_key":"k03"}` || batch.Extra.Plan.Access != "index-range" {
		t.Fatalf("index after replay: %v %s %+v", err, batch.Result, batch.Extra.Plan)
	}
	c, _ = e.svc.collection(users)
	if end := c.chgStream.Source().EndOffset(); end != changesEnd {
		t.Fatalf("change feed grew from %d to %d events: replay published duplicates", changesEnd, end)
	}
	// New writes continue the dot sequence.
	res := e.write(Write{Kind: Update, Key: "k05", Doc: map[string]any{"m": true}, MergeObjects: true})
	if d := e.doc("k05"); d["m"] != true || d["_rev"] != res[0].Rev {
		t.Fatalf("write after replay: %v", d)
	}
}

// TestConcurrentWriters runs writers on one collection in parallel: every
// increment counts, every insert lands, and each acknowledged write is
// visible when its call returns.
func TestConcurrentWriters(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.CreateCollection(naming.DefaultTenant, naming.SystemFabric, CollectionSpec{Name: "users"}); err != nil {
		t.Fatal(err)
	}
	e.write(Write{Kind: Insert, Key: "counter", Doc: map[string]any{"n": json.Number("0")}})
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*2)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				key := fmt.Sprintf("w%d-%d", w, i)
				res, err := e.svc.Write(users, []Write{
					{Kind: Insert, Key: key, Doc: map[string]any{"w": json.Number(fmt.Sprint(w))}},
					{Kind: Update, Key: "counter", Doc: map[string]any{"n": map[string]any{"$inc": json.Number("1")}}, MergeObjects: true},
				})
				if err == nil && (res[0].Err != nil || res[1].Err != nil) {
					err = fmt.Errorf("%v / %v", res[0].Err, res[1].Err)
				}
				if err != nil {
					errs <- err
					return
				}
				if _, _, err := e.svc.Document(users, key); err != nil {
					errs <- fmt.Errorf("acknowledged %s not visible: %w", key, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if d := e.doc("counter"); d["n"] != float64(writers*each) {
		t.Fatalf("counter %v, want %d", d["n"], writers*each)
	}
	if n, err := e.svc.Count(users); err != nil || n != writers*each+1 {
		t.Fatalf("count %d %v", n, err)
	}
}

// TestChangeFeedOutlivingItsCollection recreates a collection whose
// change-feed stream survived (with higher sequence ids than the new op
// log's offsets): its events must still be published, not dropped as
// duplicates.
func TestChangeFeedOutlivingItsCollection(t *testing.T) {
	e := newEnv(t)
	sn := naming.Stream{Persistent: true, Tenant: users.Tenant, Fabric: users.Fabric, Name: ChangeFeedStream("users")}
	st, err := e.node.StreamForUse(sn, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.AttachInternalProducer(changesProducer, 40)
	if err != nil {
		t.Fatal(err)
	}
	if r := p.Publish([]broker.Message{{Payload: []byte("old"), SequenceID: 41}}); r[0].Err != nil || r[0].Duplicate {
		t.Fatalf("publish %+v", r[0])
	}
	p.Close()
	if _, err := e.svc.CreateCollection(users.Tenant, users.Fabric, CollectionSpec{Name: "users"}); err != nil {
		t.Fatal(err)
	}
	e.write(Write{Kind: Insert, Key: "a"})
	c, _ := e.svc.collection(users)
	c.mu.Lock()
	c.pending.Wait()
	c.mu.Unlock()
	if end := st.Source().EndOffset(); end != 2 {
		t.Fatalf("change feed holds %d messages, want 2 (the old one and the insert)", end)
	}
}
