package service

import (
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/shell"
)

// heldReplication is a one-region Replication that records what the
// shipper publishes, in order, and can hold the answer to the next
// document op until the test releases it (a slow journal).
type heldReplication struct {
	t    *testing.T
	name string
	svc  *Service

	mu        sync.Mutex
	published []replPayload
	seq       uint64
	holdNext  bool
	held      chan struct{}
	release   chan struct{}
}

func (r *heldReplication) PublishOp(kind shell.Kind, payload []byte, done func(replicator.Dot, error)) {
	p, err := decodeReplPayload(payload)
	if err != nil {
		r.t.Errorf("shipper published a corrupt payload: %v", err)
		done(replicator.Dot{}, err)
		return
	}
	r.mu.Lock()
	r.seq++
	seq := r.seq
	r.published = append(r.published, p)
	hold := r.holdNext && p.Op != nil
	if hold {
		r.holdNext = false
	}
	r.mu.Unlock()
	err = r.svc.ApplyReplicated(r.name, seq, payload)
	if !hold {
		done(replicator.Dot{Origin: r.name, Seq: seq}, err)
		return
	}
	r.held <- struct{}{}
	go func() {
		<-r.release
		done(replicator.Dot{Origin: r.name, Seq: seq}, err)
	}()
}

func (r *heldReplication) Status() (shell.Status, error) {
	return shell.Status{Region: r.name, Regions: []string{"eu", "us"}}, nil
}

func (r *heldReplication) Joined() bool { return true }

func (r *heldReplication) snapshot() []replPayload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.published)
}

// TestAckTravelsAfterOpsThatMissedItsVector: an ack tells the other
// regions that every op this region makes from now on has seen the acked
// ops (they compact below the meet of those promises). An own op written
// before a remote op arrived, but shipped after it, has not seen it: the
// ack must not get ahead of it. The shipper is held on its first op while
// a second own op is written and a concurrent remote op applied; every
// ack published must then be covered by the contexts of the own ops
// published after it.
func TestAckTravelsAfterOpsThatMissedItsVector(t *testing.T) {
	node, svc := openGeoNode(t, "eu", []string{"eu", "us"}, t.TempDir(), &fakeClock{t: time.Unix(1_700_000_000, 0)})
	defer node.Close()
	defer svc.Close()
	repl := &heldReplication{t: t, name: "eu", svc: svc, held: make(chan struct{}), release: make(chan struct{})}
	svc.AttachReplication(repl)
	ref := sysRef("docs")
	if _, err := svc.CreateCollection(ref.Tenant, ref.Fabric, CollectionSpec{Name: "docs"}); err != nil {
		t.Fatal(err)
	}
	write := func(w Write) {
		t.Helper()
		res, err := svc.Write(ref, []Write{w})
		if err != nil || res[0].Err != nil {
			t.Fatalf("%+v: %v %v", w, err, res)
		}
	}

	repl.mu.Lock()
	repl.holdNext = true
	repl.mu.Unlock()
	write(Write{Kind: Insert, Key: "k", Doc: map[string]any{"a": json.Number("1")}}) // eu:1
	select {
	case <-repl.held:
	case <-time.After(10 * time.Second):
		t.Fatal("the shipper never published the first op")
	}
	write(Write{Kind: Update, Key: "k", Doc: map[string]any{"b": json.Number("2")}, KeepNull: true, MergeObjects: true}) // eu:2, context eu:1
	remote := collections.Op{Collection: "docs", Key: "k", Kind: collections.KindSet, Path: []string{"c"}, Value: json.RawMessage("3"),
		Dot: collections.Dot{Region: "us", Seq: 1}, Context: collections.Vector{{Region: "eu", Seq: 1}}, HLC: 1_700_000_000_000 << hlcShift}
	opBinary, err := remote.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.ApplyReplicated("us", 1, appendOpPayload(nil, ref.Tenant, ref.Fabric, opBinary)); err != nil {
		t.Fatal(err)
	}
	close(repl.release)

	// Wait until the second op and an ack of the remote one went out.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var shipped2, acked bool
		for _, p := range repl.snapshot() {
			shipped2 = shipped2 || (p.Op != nil && p.Op.Dot == collections.Dot{Region: "eu", Seq: 2})
			acked = acked || (p.Meta != nil && p.Meta.Type == MetaAck && p.Meta.Known["us"] >= 1)
		}
		if shipped2 && acked {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("shipped eu:2 %v, acked us:1 %v: %+v", shipped2, acked, repl.snapshot())
		}
		time.Sleep(10 * time.Millisecond)
	}
	published := repl.snapshot()
	for i, p := range published {
		if p.Meta == nil || p.Meta.Type != MetaAck {
			continue
		}
		known := collections.VectorOf(p.Meta.Known)
		for _, later := range published[i+1:] {
			if later.Op == nil || later.Op.Dot.Region != "eu" {
				continue
			}
			seen := later.Op.Context.Merge(collections.Vector{{Region: "eu", Seq: later.Op.Dot.Seq}})
			if !seen.Dominates(known) {
				t.Fatalf("ack %v published before %s, whose context %v does not cover it", known, later.Op.Dot, later.Op.Context)
			}
		}
	}
}
