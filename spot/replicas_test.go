package spot

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

var accounts = Ref{Tenant: "_mm", Fabric: "_system", Collection: "accounts"}

func createAccounts(t *testing.T, svc *Service) {
	t.Helper()
	if _, err := svc.CreateCollection(ctxT(t), accounts.Tenant, accounts.Fabric, CollectionSpec{Name: accounts.Collection}); err != nil {
		t.Fatal(err)
	}
}

func waitLeader(t *testing.T, svc *Service) uint64 {
	t.Helper()
	var id uint64
	waitFor(t, "a leader", 20*time.Second, func() bool { id = svc.Leader(); return id != 0 })
	return id
}

// TestReplicaLoss: with one of three replicas down no acknowledged write is
// lost and writes go on; with two down writes fail "unavailable" within
// the retry bound; once they are back, service resumes with every
// acknowledged write.
func TestReplicaLoss(t *testing.T) {
	cfg := testConfig(t, "us", 3)
	cfg.RetryTimeout = time.Second
	n := startNode(t, cfg, Options{})
	ctx := ctxT(t)
	createAccounts(t, n.svc)
	acked := map[string]string{} // key -> rev
	write := func(i int) error {
		res, err := n.svc.Insert(ctx, accounts, "k"+itoa(i), json.RawMessage(`{"i":`+itoa(i)+`}`), WriteOptions{})
		if err == nil {
			acked[res.Key] = res.Rev
		}
		return err
	}
	for i := 0; i < 20; i++ {
		if err := write(i); err != nil {
			t.Fatal(err)
		}
	}
	first := waitLeader(t, n.svc)
	if err := n.svc.StopReplica(first); err != nil {
		t.Fatal(err)
	}
	// One down: writes go on (the election is retried inside the server).
	for i := 20; i < 40; i++ {
		if err := write(i); err != nil {
			t.Fatalf("write %d with one replica down: %v", i, err)
		}
	}
	checkAcked(t, n.svc, acked)

	second := waitLeader(t, n.svc)
	if err := n.svc.StopReplica(second); err != nil {
		t.Fatal(err)
	}
	// Two down: a clear "unavailable", before the caller's own deadline.
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, err := n.svc.Insert(wctx, accounts, "lost", json.RawMessage(`{}`), WriteOptions{})
	if !errors.Is(err, ErrUnavailable) || wctx.Err() != nil {
		t.Fatalf("write with two replicas down: %v (caller deadline passed: %v)", err, wctx.Err())
	}
	if status, _ := Codes(err); status != http.StatusServiceUnavailable {
		t.Fatalf("status %d", status)
	}
	t.Logf("two replicas down: %v", err)
	// The same over HTTP.
	resp, err := http.Post(n.url()+"/_fabric/_system/_api/transaction", "application/json",
		strings.NewReader(`{"operations":[{"op":"put","collection":"accounts","key":"x","doc":{}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("HTTP status %d with two replicas down", resp.StatusCode)
	}

	// Recovery.
	for _, id := range []uint64{first, second} {
		if err := n.svc.RestartReplica(id); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "writes to resume", 20*time.Second, func() bool { return write(1000) == nil })
	for i := 40; i < 50; i++ {
		if err := write(i); err != nil {
			t.Fatalf("write %d after recovery: %v", i, err)
		}
	}
	checkAcked(t, n.svc, acked)
}

func checkAcked(t *testing.T, svc *Service, acked map[string]string) {
	t.Helper()
	for key, rev := range acked {
		res, err := svc.Get(ctxT(t), accounts, key)
		if err != nil {
			t.Fatalf("acknowledged %s: %v", key, err)
		}
		if res.Rev != rev {
			t.Fatalf("acknowledged %s at rev %s, now %s", key, rev, res.Rev)
		}
	}
}

// TestReplicaCatchesUpBySnapshot: a replica away while the log moved past
// a snapshot and compaction comes back with the same state.
func TestReplicaCatchesUpBySnapshot(t *testing.T) {
	cfg := testConfig(t, "us", 3)
	cfg.SnapshotEntries = 50
	cfg.CompactionOverhead = 5
	n := startNode(t, cfg, Options{})
	ctx := ctxT(t)
	createAccounts(t, n.svc)
	leader := waitLeader(t, n.svc)
	away := uint64(1)
	if away == leader {
		away = 2
	}
	if err := n.svc.StopReplica(away); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 150; i++ {
		if _, err := n.svc.Transaction(ctx, accounts.Tenant, accounts.Fabric, &Txn{Ops: []Op{
			{Kind: Put, Collection: "accounts", Key: "k" + itoa(i%40), Doc: json.RawMessage(`{"i":` + itoa(i) + `}`)},
		}}, TxnOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.svc.RestartReplica(away); err != nil {
		t.Fatal(err)
	}
	// Write after the restart: the replica must apply the log tail too.
	if _, err := n.svc.Insert(ctx, accounts, "after", json.RawMessage(`{}`), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	var want ReplicaState
	waitFor(t, "the returning replica to catch up", 30*time.Second, func() bool {
		l, err := n.svc.ReplicaState(waitLeader(t, n.svc))
		if err != nil {
			return false
		}
		got, err := n.svc.ReplicaState(away)
		want = l
		return err == nil && got.Applied == l.Applied && got.Digest == l.Digest
	})
	got, _ := n.svc.ReplicaState(away)
	if got.Restores == 0 {
		t.Fatalf("replica %d caught up without a snapshot (%+v); the log was compacted, so it should have needed one", away, got)
	}
	t.Logf("replica %d: %+v, leader %+v", away, got, want)
}
