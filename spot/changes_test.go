package spot

import (
	"encoding/json"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections/service"
)

// TestChangeFeed: every applied write reaches the collection's change-feed
// stream once, in order, although three local replicas apply it.
func TestChangeFeed(t *testing.T) {
	node, err := broker.Open(broker.Config{Region: "us", DataDir: t.TempDir(), Fsync: "never"}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	if _, err := node.EnsureFabric(naming.DefaultTenant, naming.SystemFabric); err != nil {
		t.Fatal(err)
	}
	feed := NewBrokerFeed(node, nil)
	n := startNode(t, testConfig(t, "us", 3), Options{Feed: feed})
	ctx := ctxT(t)
	createAccounts(t, n.svc)
	var revs []string
	for i := 0; i < 10; i++ {
		res, err := n.svc.Transaction(ctx, accounts.Tenant, accounts.Fabric, &Txn{Ops: []Op{
			put("accounts", "a", `{"i":`+itoa(i)+`}`),
			put("accounts", "b", `{"i":`+itoa(i)+`}`),
		}}, TxnOptions{})
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, res.Results[0].Rev, res.Results[1].Rev)
	}
	if _, err := n.svc.Delete(ctx, accounts, "a", WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	sn := naming.Stream{Persistent: true, Tenant: accounts.Tenant, Fabric: accounts.Fabric, Name: service.ChangeFeedStream("accounts")}
	var st *broker.Stream
	waitFor(t, "the change feed", 10*time.Second, func() bool {
		st, err = node.Stream(sn)
		return err == nil && st.Source().EndOffset() >= 21
	})
	n.svc.Close()
	feed.Close()
	recs, err := st.Source().Read(0, 100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 21 {
		t.Fatalf("%d change events, want 21 (20 writes and a delete)", len(recs))
	}
	for i, r := range recs {
		var c Change
		if err := json.Unmarshal(r.Payload, &c); err != nil {
			t.Fatal(err)
		}
		if i < 20 && (c.Rev != revs[i] || c.Deleted || r.Key != []string{"a", "b"}[i%2]) {
			t.Fatalf("event %d: %+v key %s, want rev %s", i, c, r.Key, revs[i])
		}
		if i == 20 && (!c.Deleted || c.Op != "delete" || string(c.Doc) != "null") {
			t.Fatalf("delete event %+v", c)
		}
		if r.Properties["spot"] != "true" || r.Producer != changesProducer {
			t.Fatalf("event %d properties %v producer %s", i, r.Properties, r.Producer)
		}
	}
}

// TestChangeFeedRetriesRefusedEvents: events the stream refuses (here: its
// producer limit is taken, as a stream led by another node refuses them)
// wait in the feed's backlog and reach the stream once it takes them:
// every one, once, in order.
func TestChangeFeedRetriesRefusedEvents(t *testing.T) {
	node, err := broker.Open(broker.Config{Region: "us", DataDir: t.TempDir(), Fsync: "never", MaxProducersPerStream: 1}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	if _, err := node.EnsureFabric(naming.DefaultTenant, naming.SystemFabric); err != nil {
		t.Fatal(err)
	}
	sn := naming.Stream{Persistent: true, Tenant: accounts.Tenant, Fabric: accounts.Fabric, Name: service.ChangeFeedStream("accounts")}
	st, err := node.CreateStream(sn, broker.StreamInfo{})
	if err != nil {
		t.Fatal(err)
	}
	blocker, err := st.AttachInternalProducer("blocker", -1)
	if err != nil {
		t.Fatal(err)
	}
	feed := NewBrokerFeed(node, nil)
	n := startNode(t, testConfig(t, "us", 1), Options{Feed: feed})
	ctx := ctxT(t)
	createAccounts(t, n.svc)
	var revs []string
	for i := 0; i < 20; i++ {
		res, err := n.svc.Transaction(ctx, accounts.Tenant, accounts.Fabric, &Txn{Ops: []Op{put("accounts", "a", `{"i":`+itoa(i)+`}`)}}, TxnOptions{})
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, res.Results[0].Rev)
	}
	time.Sleep(300 * time.Millisecond) // several retries, all refused
	if end := st.Source().EndOffset(); end != 0 {
		t.Fatalf("%d events published while the stream refused its producer", end)
	}
	blocker.Close()
	waitFor(t, "the refused events", 10*time.Second, func() bool { return st.Source().EndOffset() >= 20 })
	n.svc.Close()
	feed.Close()
	recs, err := st.Source().Read(0, 100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 20 || feed.Dropped() != 0 {
		t.Fatalf("%d events, %d dropped; want 20 and 0", len(recs), feed.Dropped())
	}
	for i, r := range recs {
		var c Change
		if err := json.Unmarshal(r.Payload, &c); err != nil {
			t.Fatal(err)
		}
		if c.Rev != revs[i] || r.Producer != changesProducer {
			t.Fatalf("event %d: rev %s producer %s, want %s", i, c.Rev, r.Producer, revs[i])
		}
	}
}
