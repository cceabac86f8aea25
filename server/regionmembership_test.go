package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/clients"
	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/server/regionapi"
)

// callSettled sends a request again while it is answered 503 (the region's
// metadata group is busy or electing: a client retries), within regionWait.
func (c *regionCluster) callSettled(t *testing.T, method, base, path string) (int, []byte) {
	t.Helper()
	for start := time.Now(); ; {
		code, body := c.call(t, method, base, path, nil)
		if code != http.StatusServiceUnavailable || time.Since(start) > regionWait {
			return code, body
		}
		time.Sleep(100 * time.Millisecond) // a client's backoff before retrying a 503
	}
}

// holds reports whether node id holds a replica of any unit of v.
func holds(v regionapi.View, id region.NodeID) bool {
	for _, u := range v.Units {
		if slices.Contains(u.Replicas, id) {
			return true
		}
	}
	return false
}

// TestRegionGrowsAndShrinksUnderLoad: under publish load a fourth node
// joins a region of three and the controller moves replicas to it; then
// node 1 is drained through the admin API (its replicas move away, its
// removal is refused until then) and removed. Producers keep publishing
// throughout and a consumer receives every acknowledged message in each
// producer's order. Bad requests change nothing.
func TestRegionGrowsAndShrinksUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a region of four nodes")
	}
	c := newRegionCluster(t, 3)
	c.startAll(t)
	c.awaitViews(t, "three active nodes", c.nodes, func(vs []regionapi.View) bool { return allActive(vs[0], 3) })
	ctx, cancel := context.WithTimeout(context.Background(), 4*regionWait)
	defer cancel()
	// Streams enough for the controller to balance four nodes.
	for i := range 6 {
		name := naming.Stream{Persistent: true, Tenant: "_mm", Fabric: "_system", Name: fmt.Sprintf("s%d", i)}
		for start := time.Now(); ; {
			_, err := c.nodes[i%3].srv.Node.CreateStream(name, broker.StreamInfo{})
			if err == nil || errors.Is(err, broker.ErrStreamExists) {
				break
			}
			if time.Since(start) > regionWait {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond) // the metadata group busy: retry
		}
	}
	// A stream created over HTTP with its own factor: one replica.
	if code, body := c.callSettled(t, http.MethodPost, c.nodes[0].url, "/_fabric/_system/_api/streams/one-copy?replicas=1"); code != http.StatusCreated {
		t.Fatalf("create with replicas=1: %d %s", code, body)
	}
	c.awaitViews(t, "the one-copy stream with one replica", c.nodes[:1], func(vs []regionapi.View) bool {
		for _, u := range vs[0].Units {
			if u.ID == "stream:_mm/_system/one-copy" {
				return u.Factor == 1 && len(u.Replicas) == 1
			}
		}
		return false
	})
	addrs := c.freeAddrs(t, 3)
	joiner := c.node(t, 4, addrs[0], addrs[1], addrs[2], c.nodes[0].opts.Region.Meta.Bootstrap)
	joiner.opts.Region.Meta.Bootstrap = nil
	joiner.opts.Region.Meta.Peers = []string{c.nodes[0].url, c.nodes[1].url, c.nodes[2].url}
	all := append(slices.Clone(c.nodes), joiner)
	urls := []string{c.nodes[1].url, c.nodes[2].url, joiner.url, c.nodes[0].url} // node 1 last: it leaves

	client := func(url string) *clients.Client {
		cl, err := clients.New(url, clients.WithToken(c.key), clients.WithReconnectBackoff(20*time.Millisecond, 200*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cl.Close() })
		return cl
	}
	var (
		cmu      sync.Mutex
		received = map[string]int{}
		last     = map[string]int{}
		orderErr error
	)
	cons, err := client(strings.Join(urls, ",")).Subscribe(ctx, clients.ConsumerOptions{Streams: []string{"s0"}, Subscription: "audit",
		InitialPosition: clients.Earliest})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			m, err := cons.Receive(ctx)
			if err != nil {
				return
			}
			p, seqText, _ := strings.Cut(string(m.Payload), "-")
			var seq int
			fmt.Sscan(seqText, &seq)
			cmu.Lock()
			if l, ok := last[p]; ok && seq < l && received[string(m.Payload)] == 0 && orderErr == nil {
				orderErr = fmt.Errorf("%s: %d after %d", p, seq, l)
			}
			last[p] = max(last[p], seq)
			received[string(m.Payload)]++
			cmu.Unlock()
			_ = cons.Ack(m)
		}
	}()
	type producer struct {
		name  string
		acked atomic.Int64
		seqs  []int
	}
	var producers []*producer
	var stop atomic.Bool
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range 3 {
		pr := &producer{name: fmt.Sprintf("p%d", i+1)}
		rot := append(slices.Clone(urls[i:]), urls[:i]...)
		p, err := client(strings.Join(rot, ",")).CreateProducer(ctx, clients.ProducerOptions{Stream: "s0", Name: pr.name})
		if err != nil {
			t.Fatal(err)
		}
		producers = append(producers, pr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
				_, err := p.Send(sctx, clients.ProducerMessage{Payload: fmt.Appendf(nil, "%s-%d", pr.name, i)})
				scancel()
				if err != nil {
					t.Errorf("%s: send %d: %v", pr.name, i, err)
					return
				}
				mu.Lock()
				pr.seqs = append(pr.seqs, i)
				mu.Unlock()
				pr.acked.Add(1)
				time.Sleep(2 * time.Millisecond) // a steady load, not a flood
			}
		}()
	}
	progress := func(what string) {
		t.Helper()
		base := map[*producer]int64{}
		for _, pr := range producers {
			base[pr] = pr.acked.Load()
		}
		deadline := time.Now().Add(regionWait)
		for {
			ok := true
			for _, pr := range producers {
				ok = ok && pr.acked.Load() >= base[pr]+30
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("producers stalled %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	progress("at start")

	// Grow: node 4 joins and gets replicas.
	if err := joiner.start(t); err != nil {
		t.Fatal(err)
	}
	c.nodes = all
	c.awaitViews(t, "node 4 holding in-sync replicas", all, func(vs []regionapi.View) bool {
		if !allActive(vs[0], 4) || !sameView(vs) {
			return false
		}
		for _, u := range vs[0].Units {
			for _, m := range u.InSync {
				if m.Node == 4 {
					return true
				}
			}
		}
		return false
	})
	progress("after node 4 joined")

	// Bad requests change nothing.
	for _, bad := range []struct {
		method, path string
		want         int
	}{
		{http.MethodDelete, regionapi.NodePath + "2", http.StatusConflict}, // holds replicas
		{http.MethodDelete, regionapi.NodePath + "9", http.StatusNotFound},
		{http.MethodPost, regionapi.NodePath + "9/drain", http.StatusNotFound},
		{http.MethodPost, regionapi.NodePath + "x/drain", http.StatusBadRequest},
		{http.MethodDelete, regionapi.NodePath + "0", http.StatusBadRequest},
	} {
		if code, body := c.callSettled(t, bad.method, c.nodes[1].url, bad.path); code != bad.want {
			t.Fatalf("%s %s: %d %s, want %d", bad.method, bad.path, code, body, bad.want)
		}
	}

	// Shrink: drain node 1, then remove it.
	if code, body := c.callSettled(t, http.MethodPost, c.nodes[1].url, regionapi.NodePath+"1/drain"); code != http.StatusOK {
		t.Fatalf("drain node 1: %d %s", code, body)
	}
	live := all[1:]
	c.awaitViews(t, "node 1 holding nothing", live, func(vs []regionapi.View) bool {
		return !holds(vs[0], 1) && sameView(vs)
	})
	progress("after node 1 was drained")
	for retried := false; ; retried = true {
		code, body := c.callSettled(t, http.MethodDelete, c.nodes[1].url, regionapi.NodePath+"1")
		if code == http.StatusOK || (retried && code == http.StatusNotFound) {
			break // a 404 after a 503: the first try removed it
		}
		if code != http.StatusServiceUnavailable {
			t.Fatalf("remove node 1: %d %s", code, body)
		}
	}
	all[0].stop()
	c.nodes = live
	views := c.awaitViews(t, "three nodes left", live, func(vs []regionapi.View) bool {
		return len(vs[0].Nodes) == 3 && allActive(vs[0], 3) && sameView(vs)
	})
	if _, ok := views[0].NodeByID(1); ok {
		t.Fatal("node 1 is still in the region")
	}
	progress("after node 1 left")
	stop.Store(true)
	wg.Wait()

	mu.Lock()
	want := map[string]bool{}
	for _, pr := range producers {
		for _, i := range pr.seqs {
			want[fmt.Sprintf("%s-%d", pr.name, i)] = true
		}
	}
	mu.Unlock()
	deadline := time.Now().Add(regionWait)
	for {
		cmu.Lock()
		missing, example := 0, ""
		for m := range want {
			if received[m] == 0 {
				missing, example = missing+1, m
			}
		}
		err := orderErr
		cmu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged messages never received (e.g. %s)", missing, len(want), example)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d acknowledged messages received through a join, a drain and a removal", len(want))
}
