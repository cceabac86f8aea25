package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/clients"
	"github.com/causeway/causeway/replicator/shell"
	"github.com/causeway/causeway/server"
	"github.com/causeway/causeway/server/regionapi"
)

const geoTestSecret = "geo-test-fabric-secret-0123456789"

// geoRunner returns the node of c running the region's replication, nil
// while none does.
func (c *regionCluster) geoRunner() *regionNode {
	for _, n := range c.nodes {
		if n.srv != nil && n.srv.Standby != nil && n.srv.Standby.Active() != nil {
			return n
		}
	}
	return nil
}

// startGeoFabric starts us-east, three nodes, and eu-west, one node, of
// one fabric, and waits until a us-east node runs the region's
// replication.
func startGeoFabric(t *testing.T) (*regionCluster, *server.Server) {
	t.Helper()
	c := newRegionCluster(t, 3)
	repl := c.freeAddrs(t, 4)
	usRepl := strings.Join(repl[:3], ",")
	for i, n := range c.nodes {
		n.cfg.ReplAddr = repl[i]
		n.cfg.FabricSecret = geoTestSecret
		n.cfg.Peers = map[string]string{"eu-west": repl[3]}
	}
	on := true
	eu := broker.Config{Region: "eu-west", DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", ReplAddr: repl[3],
		FabricSecret: geoTestSecret, Peers: map[string]string{"us-east": usRepl}, Auth: auth.Config{Enabled: &on, AdminKey: c.key}}
	euSrv, err := server.Start(eu, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).Named("eu"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), regionWait)
		defer cancel()
		_ = euSrv.Shutdown(ctx)
	})
	c.startAll(t)
	c.awaitViews(t, "three active nodes", c.nodes, func(vs []regionapi.View) bool { return allActive(vs[0], 3) })
	deadline := time.Now().Add(regionWait)
	for c.geoRunner() == nil {
		if time.Now().After(deadline) {
			t.Fatal("no us-east node runs the region's replication")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return c, euSrv
}

// TestRegionGeoReplicationSurvivesANodeLoss: region us-east is three
// nodes, eu-west one, one fabric. Producers connected to every us-east
// node and one in eu-west publish to a global stream; consumers in both
// regions read it. The us-east node running the region's replication
// (it leads the journals and the global streams) is stopped under load:
// another node takes the journals over from its replicas and replication
// goes on both ways. Every acknowledged message reaches both regions
// exactly once, in each producer's order.
func TestRegionGeoReplicationSurvivesANodeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four nodes in two regions")
	}
	c, euSrv := startGeoFabric(t)
	var deadline time.Time
	ctx, cancel := context.WithTimeout(context.Background(), 3*regionWait)
	defer cancel()

	var usURLs []string
	for _, n := range c.nodes {
		usURLs = append(usURLs, n.url)
	}
	client := func(url string) *clients.Client {
		cl, err := clients.New(url, clients.WithToken(c.key), clients.WithReconnectBackoff(20*time.Millisecond, 200*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cl.Close() })
		return cl
	}

	// A consumer in each region; us-east's through every node's URL.
	type consumer struct {
		mu       sync.Mutex
		received map[string]int
		last     map[string]int
		orderErr error
	}
	consume := func(name string, cl *clients.Client) *consumer {
		co := &consumer{received: map[string]int{}, last: map[string]int{}}
		cons, err := cl.Subscribe(ctx, clients.ConsumerOptions{Streams: []string{"orders"}, Subscription: "audit-" + name,
			InitialPosition: clients.Earliest})
		if err != nil {
			t.Fatalf("consumer in %s: %v", name, err)
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
				co.mu.Lock()
				if l, ok := co.last[p]; ok && seq < l && co.received[string(m.Payload)] == 0 && co.orderErr == nil {
					co.orderErr = fmt.Errorf("%s: %s %d after %d", name, p, seq, l)
				}
				co.last[p] = max(co.last[p], seq)
				co.received[string(m.Payload)]++
				co.mu.Unlock()
				_ = cons.Ack(m)
			}
		}()
		return co
	}
	euCons := consume("eu-west", client(euSrv.URL()))
	usCons := consume("us-east", client(strings.Join(usURLs, ",")))

	type producer struct {
		name  string
		url   string
		acked atomic.Int64
		seqs  []int
	}
	var producers []*producer
	for i := range c.nodes {
		// Its own node first, then the others: it reconnects there.
		urls := append(slices.Clone(usURLs[i:]), usURLs[:i]...)
		producers = append(producers, &producer{name: fmt.Sprintf("us%d", i+1), url: strings.Join(urls, ",")})
	}
	producers = append(producers, &producer{name: "eu", url: euSrv.URL()})
	var stop atomic.Bool
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, pr := range producers {
		p, err := client(pr.url).CreateProducer(ctx, clients.ProducerOptions{Stream: "orders", Name: pr.name})
		if err != nil {
			t.Fatalf("producer %s: %v", pr.name, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				_, err := p.Send(sctx, clients.ProducerMessage{Payload: fmt.Appendf(nil, "%s-%d", pr.name, i)})
				cancel()
				if err != nil {
					t.Errorf("%s: send %d: %v", pr.name, i, err)
					return
				}
				mu.Lock()
				pr.seqs = append(pr.seqs, i)
				mu.Unlock()
				pr.acked.Add(1)
			}
		}()
	}
	waitAcked := func(what string, n int64) {
		t.Helper()
		deadline := time.Now().Add(regionWait)
		for {
			done := true
			for _, pr := range producers {
				if pr.acked.Load() < n {
					done = false
				}
			}
			if done {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitAcked("publishing in both regions", 30)

	runner := c.geoRunner()
	before := map[*producer]int64{}
	for _, pr := range producers {
		before[pr] = pr.acked.Load()
	}
	stoppedAt := time.Now()
	runner.stop()
	deadline = time.Now().Add(regionWait)
	for c.geoRunner() == nil {
		if time.Now().After(deadline) {
			t.Fatal("no us-east node took the region's replication over")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("replication runs on another node %v after the stop", time.Since(stoppedAt))
	for _, pr := range producers {
		for pr.acked.Load() < before[pr]+30 {
			if time.Since(stoppedAt) > regionWait {
				t.Fatalf("%s did not go on after the stop (%d acknowledged)", pr.name, pr.acked.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Logf("every producer published again %v after the stop", time.Since(stoppedAt))
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
	for _, co := range []*consumer{euCons, usCons} {
		deadline := time.Now().Add(regionWait)
		for {
			co.mu.Lock()
			missing, example := 0, ""
			for m := range want {
				if co.received[m] == 0 {
					missing++
					example = m
				}
			}
			err := co.orderErr
			co.mu.Unlock()
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
	}
	// Exactly once in each region's stream: read both back whole.
	for _, n := range []struct {
		name string
		url  string
	}{{"eu-west", euSrv.URL()}, {"us-east", c.geoRunner().url}} {
		cl := client(n.url)
		r, err := cl.CreateReader(ctx, clients.ReaderOptions{Stream: "orders", StartMessageID: clients.StartEarliest})
		if err != nil {
			t.Fatalf("reader in %s: %v", n.name, err)
		}
		seen := map[string]int{}
		for len(seen) < len(want) {
			rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
			m, err := r.Next(rctx)
			rcancel()
			if err != nil {
				t.Fatalf("%s: read after %d distinct: %v", n.name, len(seen), err)
			}
			seen[string(m.Payload)]++
			if seen[string(m.Payload)] > 1 {
				t.Fatalf("%s stores %s twice", n.name, m.Payload)
			}
		}
		_ = r.Close()
	}
	t.Logf("%d acknowledged messages, each stored once in both regions", len(want))
}

// TestRegionGeoLinkCutOutlivesARunnerMove: a link cut through the nodes
// that do not run the region's replication is kept by them; when the
// runner stops, the node taking over starts with the link cut (an
// emulated WAN fault lasts until it is healed, not until the next
// failover).
func TestRegionGeoLinkCutOutlivesARunnerMove(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a region of three nodes and another region")
	}
	c, _ := startGeoFabric(t)
	runner := c.geoRunner()
	post := func(n *regionNode, state string) (int, []byte) {
		req, err := http.NewRequest(http.MethodPost, n.url+shell.AdminPath+"/links/eu-west/"+state, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+c.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	for _, n := range c.nodes {
		if n == runner {
			continue
		}
		if code, body := post(n, "down"); code != http.StatusOK || !strings.Contains(string(body), `"running":false`) {
			t.Fatalf("cut through a node not running replication: %d %s", code, body)
		}
	}
	if code, body := post(runner, "bogus"); code != http.StatusBadRequest {
		t.Fatalf("link state bogus: %d %s", code, body)
	}
	runner.stop()
	deadline := time.Now().Add(regionWait)
	for {
		if next := c.geoRunner(); next != nil {
			st, err := next.srv.Standby.Status()
			if err == nil && len(st.Peers) == 1 {
				if !st.Peers[0].Link.Down {
					t.Fatalf("the new runner's link to eu-west is up: %+v", st.Peers[0].Link)
				}
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no node took the region's replication over")
		}
		time.Sleep(20 * time.Millisecond) // polling the nodes with a deadline
	}
	for _, n := range c.nodes {
		if n != runner {
			if code, body := post(n, "up"); code != http.StatusOK {
				t.Fatalf("heal: %d %s", code, body)
			}
		}
	}
	if st, err := c.geoRunner().srv.Standby.Status(); err != nil || st.Peers[0].Link.Down {
		t.Fatalf("after the heal: %+v, %v", st.Peers, err)
	}
}
