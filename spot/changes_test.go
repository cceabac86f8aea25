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
