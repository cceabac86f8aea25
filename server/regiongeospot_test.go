package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/server"
	"github.com/causeway/causeway/server/regionapi"
	"github.com/causeway/causeway/spot"
)

// startGeoSpotFabric is startGeoFabric with SPOT: us-east's three nodes
// are the members of its SPOT group (one replica each, keyed by node id)
// and forward to eu-west, whose single node runs no replica and forwards
// SPOT requests for collections homed in us-east to the us-east nodes, in
// turn, answering possibly-stale reads from its copy of the change feeds.
// The nodes retry a SPOT request for 300 ms only, so that writes caught by
// a failover are answered 503 and sent again by the client.
func startGeoSpotFabric(t *testing.T) (*regionCluster, *server.Server) {
	t.Helper()
	c := newRegionCluster(t, 3)
	repl := c.freeAddrs(t, 4)
	spotAddrs := c.freeAddrs(t, 3)
	members := map[uint64]string{1: spotAddrs[0], 2: spotAddrs[1], 3: spotAddrs[2]}
	timings := func(c *spot.Config) *spot.Config {
		c.RetryTimeout, c.AttemptTimeout = 300*time.Millisecond, 300*time.Millisecond
		return c
	}
	var usURLs []string
	for i, n := range c.nodes {
		n.cfg.ReplAddr = repl[i]
		n.cfg.FabricSecret = geoTestSecret
		n.cfg.Peers = map[string]string{"eu-west": repl[3]}
		usURLs = append(usURLs, n.url)
	}
	on := true
	eu := broker.Config{Region: "eu-west", DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", ReplAddr: repl[3],
		FabricSecret: geoTestSecret, Peers: map[string]string{"us-east": strings.Join(repl[:3], ",")},
		Auth: auth.Config{Enabled: &on, AdminKey: c.key}}
	euSrv, err := server.StartWith(eu, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).Named("eu"),
		server.Options{Spot: timings(&spot.Config{Regions: map[string][]string{"us-east": usURLs}})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), regionWait)
		defer cancel()
		_ = euSrv.Shutdown(ctx)
	})
	for _, n := range c.nodes {
		n.opts.Spot = timings(&spot.Config{Members: members, Regions: map[string][]string{"eu-west": {euSrv.URL()}},
			RTTMillisecond: 5, ElectionRTT: 20, HeartbeatRTT: 2})
	}
	c.startAll(t)
	c.awaitViews(t, "three active nodes", c.nodes, func(vs []regionapi.View) bool { return allActive(vs[0], 3) })
	c.awaitGeoRunner(t)
	return c, euSrv
}

// awaitGeoRunner waits until a us-east node runs the region's replication.
func (c *regionCluster) awaitGeoRunner(t *testing.T) *regionNode {
	t.Helper()
	deadline := time.Now().Add(regionWait)
	for {
		if r := c.geoRunner(); r != nil {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatal("no us-east node runs the region's replication")
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
}

// staleRead reads a SPOT document through base allowing a possibly-stale
// answer: the status, the body and the consistency the node says it
// served.
func (c *regionCluster) staleRead(t *testing.T, base, collection, key string) (int, []byte, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/_fabric/_system/_api/document/"+collection+"/"+key, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, []byte(err.Error()), ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header.Get("X-Causeway-Consistency")
}

// awaitStale waits until eu-west answers a possibly-stale read of key from
// its copy of the change feed with exactly the document strong reads give.
func (c *regionCluster) awaitStale(t *testing.T, eu *server.Server, collection, key, want string) {
	t.Helper()
	base := eu.URL()
	deadline := time.Now().Add(regionWait)
	for {
		code, b, consistency := c.staleRead(t, base, collection, key)
		if code == http.StatusOK && consistency == "possibly-stale" && string(b) == want {
			return
		}
		if time.Now().After(deadline) {
			c.logFeeds(t, eu, collection, key)
			t.Fatalf("possibly-stale read of %s/%s through %s: %d %s (%s), want %s from the change feed", collection, key, base, code, b, consistency, want)
		}
		time.Sleep(50 * time.Millisecond) // the change feed crosses the regions' replication
	}
}

// logFeeds logs, for a failed convergence check, what each live node's
// copy of collection's change feed holds: how many SPOT events, where key
// is, and every place where the sequence ids (Raft index*4096+n) do not
// rise by the order of the log - the events published out of order whose
// earlier ones the broker then drops as duplicates.
func (c *regionCluster) logFeeds(t *testing.T, eu *server.Server, collection, key string) {
	t.Helper()
	nodes := map[string]*broker.Node{}
	for _, n := range c.nodes {
		if n.srv != nil {
			nodes[fmt.Sprintf("us-east node %d", n.opts.Region.Meta.Node)] = n.srv.Node
		}
	}
	nodes["eu-west"] = eu.Node
	sn := naming.Stream{Persistent: true, Tenant: "_mm", Fabric: "_system", Name: "_changes." + collection}
	for name, node := range nodes {
		st, err := node.Stream(sn)
		if err != nil {
			t.Logf("feed dump: %s: %v", name, err)
			continue
		}
		src := st.Source()
		start, end := src.StartOffset(), src.EndOffset()
		var (
			events, foundAt int
			prev            int64 = -1
			inversions      []string
			around          []string
		)
		foundAt = -1
		for from := start; from < end; {
			recs, err := src.Read(from, 1000, 16<<20)
			if err != nil || len(recs) == 0 {
				t.Logf("feed dump: %s: read from %d: %v", name, from, err)
				break
			}
			for _, r := range recs {
				from = r.Offset + 1
				if r.Producer != "_spot" {
					continue
				}
				events++
				if r.SequenceID <= prev {
					inversions = append(inversions, fmt.Sprintf("offset %d: seq %d/%d after %d/%d",
						r.Offset, r.SequenceID/4096, r.SequenceID%4096, prev/4096, prev%4096))
				}
				prev = max(prev, r.SequenceID)
				if r.Key == key {
					foundAt = int(r.Offset)
				}
				around = append(around, fmt.Sprintf("%d:%d.%d:%s@%s", r.Offset, r.SequenceID/4096, r.SequenceID%4096, r.Key, r.Origin))
			}
		}
		t.Logf("feed dump: %s: offsets [%d, %d), %d SPOT events, %s at offset %d (-1: absent), %d out of order: %v",
			name, start, end, events, key, foundAt, len(inversions), inversions)
		t.Logf("feed dump: %s: offset:index.n:key@origin %v", name, around)
	}
}

// spotLeaderNode is the us-east node holding the SPOT group's leader.
func (c *regionCluster) spotLeaderNode(t *testing.T) *regionNode {
	t.Helper()
	deadline := time.Now().Add(regionWait)
	for {
		for _, n := range c.nodes {
			if n.srv == nil {
				continue
			}
			if l := n.srv.Spot.Leader(); l >= 1 && int(l) <= len(c.nodes) && c.nodes[l-1].srv != nil {
				return c.nodes[l-1]
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the SPOT group has no leader")
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
}

// moveSpotLeader moves the SPOT group's lead to to's replica and returns
// to once it leads (a transfer asked while the target catches up may be
// dropped: it is asked again).
func (c *regionCluster) moveSpotLeader(t *testing.T, to *regionNode) *regionNode {
	t.Helper()
	id := to.opts.Region.Meta.Node
	deadline := time.Now().Add(regionWait)
	for {
		if l := c.spotLeaderNode(t); l == to {
			return to
		}
		if err := to.srv.Spot.TransferLeader(uint64(id)); err != nil {
			t.Logf("move the SPOT lead to node %d: %v", id, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the SPOT lead did not move to node %d", id)
		}
		time.Sleep(100 * time.Millisecond) // polling with a deadline
	}
}

// geoSpotKill stops victim under writes through every other us-east node
// and through eu-west (forwarded), waits until each writer has 20 writes
// acknowledged after the stop began, and returns the writers.
func (c *regionCluster) geoSpotKill(t *testing.T, euURL string, victim *regionNode, round int) []*regionSpotWriter {
	t.Helper()
	var writers []*regionSpotWriter
	for i, n := range c.nodes {
		if n != victim && n.srv != nil {
			writers = append(writers, &regionSpotWriter{node: 10*round + i + 1, base: n.url})
		}
	}
	// eu-west forwards: a forwarded try that timed out may have been applied.
	writers = append(writers, &regionSpotWriter{node: 10*round + 9, base: euURL, forwarded: true})
	writing := startSpotWriters(t, c, writers)
	time.Sleep(300 * time.Millisecond) // writes before the kill
	writing.markKilling()
	killedAt := time.Now()
	victim.stop()
	t.Logf("round %d: node %d stopped in %v", round, victim.opts.Region.Meta.Node, time.Since(killedAt))
	deadline := time.Now().Add(regionWait)
	var resumed time.Duration
	for time.Now().Before(deadline) {
		enough, any := true, true
		for _, w := range writers {
			enough = enough && w.afterKill.Load() >= 20
			any = any && w.afterKill.Load() >= 1
		}
		if any && resumed == 0 {
			resumed = time.Since(killedAt)
		}
		if enough {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling the writers with a deadline
	}
	writing.halt()
	for _, w := range writers {
		if w.err != nil {
			t.Fatal(w.err)
		}
		if n := w.afterKill.Load(); n < 20 {
			t.Fatalf("round %d: writer %d: %d writes acknowledged after the stop began, want 20 or more", round, w.node, n)
		}
		t.Logf("round %d: writer %d (%s): %d acknowledged (%d after the stop began), %d answers 503, %d of them maybe applied",
			round, w.node, w.base, len(w.acked), w.afterKill.Load(), len(w.unavailable), len(w.ambiguous))
	}
	if resumed > 10*time.Second {
		t.Fatalf("round %d: every writer had a write acknowledged %v after the stop began, want within seconds", round, resumed)
	}
	t.Logf("round %d: every writer had a write acknowledged %v after the stop began", round, resumed)
	return writers
}

// TestRegionGeoSpot: SPOT in a geo-replicated region of several nodes.
// us-east (three nodes, each a member of its SPOT group) and eu-west (one
// node, no replica) are one fabric. A SPOT collection homed in us-east
// is written through every node of both regions (eu-west forwards) and by
// a transaction; the node holding the SPOT group's leader, moved to the
// node running the region's replication (it publishes the change feed),
// is stopped under writes through the other nodes and eu-west, then
// restarted, and then the node running the replication is stopped under
// writes. Writes resume within seconds
// each time; every write answered 2xx is there exactly once, read
// strongly through a us-east node and through eu-west; and eu-west's
// possibly-stale reads, from its copy of the change feed, converge on the
// documents written through and after both failovers.
func TestRegionGeoSpot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four nodes in two regions")
	}
	c, euSrv := startGeoSpotFabric(t)
	eu := euSrv.URL()

	for created := false; !created; {
		// A try answered 503 may have created it: the next one says 409.
		code, b := c.call(t, http.MethodPost, c.nodes[1].url, "/_fabric/_system/_api/collection",
			map[string]any{"name": "accounts", "isSpot": true, "homeRegion": "us-east"})
		switch code {
		case http.StatusOK, http.StatusConflict:
			created = true
		case http.StatusServiceUnavailable, 0:
			time.Sleep(50 * time.Millisecond) // a client's backoff
		default:
			t.Fatalf("create accounts: %d %s", code, b)
		}
	}
	var info struct {
		Home string `json:"homeRegion"`
		Spot bool   `json:"isSpot"`
	}
	if err := json.Unmarshal(c.callOK(t, http.StatusOK, http.MethodGet, eu, "/_fabric/_system/_api/collection/accounts", nil), &info); err != nil {
		t.Fatal(err)
	}
	if !info.Spot || info.Home != "us-east" {
		t.Fatalf("accounts described through eu-west: %+v", info)
	}

	// Written through every node of both regions, read strongly through
	// every node: the same documents.
	c.spotPostOK(t, http.StatusOK, eu, "/_fabric/_system/_api/transaction", "counter",
		map[string]any{"operations": []map[string]any{
			{"op": "insert", "collection": "accounts", "key": "counter", "doc": map[string]any{"n": 0}},
			{"op": "insert", "collection": "accounts", "key": "alice", "doc": map[string]any{"balance": 100}},
			{"op": "insert", "collection": "accounts", "key": "bob", "doc": map[string]any{"balance": 0}},
		}})
	all := []string{c.nodes[0].url, c.nodes[1].url, c.nodes[2].url, eu}
	for i, base := range all {
		c.spotPostOK(t, http.StatusCreated, base, "/_fabric/_system/_api/document/accounts", fmt.Sprintf("through-%d", i+1),
			map[string]any{"_key": fmt.Sprintf("through-%d", i+1), "node": i + 1})
	}
	// A transfer through eu-west: preconditions and increments in the home.
	b := c.spotPostOK(t, http.StatusOK, eu, "/_fabric/_system/_api/transaction", "transfer",
		map[string]any{
			"preconditions": []map[string]any{{"collection": "accounts", "key": "alice", "path": []string{"balance"}, "equals": 100}},
			"operations": []map[string]any{
				{"op": "update", "collection": "accounts", "key": "alice", "doc": map[string]any{"balance": map[string]any{"$inc": -30}}},
				{"op": "update", "collection": "accounts", "key": "bob", "doc": map[string]any{"balance": map[string]any{"$inc": 30}}},
			}})
	if !strings.Contains(string(b), `"balance":70`) || !strings.Contains(string(b), `"balance":30`) {
		t.Fatalf("transfer: %s", b)
	}
	// The same transaction again under a new id: its precondition fails.
	if code, b := c.spotPost(t, eu, "/_fabric/_system/_api/transaction", "transfer-again", map[string]any{
		"preconditions": []map[string]any{{"collection": "accounts", "key": "alice", "path": []string{"balance"}, "equals": 100}},
		"operations":    []map[string]any{{"op": "update", "collection": "accounts", "key": "alice", "doc": map[string]any{"balance": map[string]any{"$inc": -30}}}},
	}); code != http.StatusPreconditionFailed {
		t.Fatalf("transfer again: %d %s, want 412", code, b)
	}
	strong := map[string]string{}
	for i, base := range all {
		for _, key := range []string{"through-1", "through-2", "through-3", "through-4", "alice", "bob"} {
			b := c.callOK(t, http.StatusOK, http.MethodGet, base, "/_fabric/_system/_api/document/accounts/"+key+"?consistency=strong", nil)
			if i == 0 {
				strong[key] = string(b)
			} else if string(b) != strong[key] {
				t.Fatalf("%s read through %s: %s, through node 1: %s", key, base, b, strong[key])
			}
		}
	}
	// eu-west's possibly-stale reads come from its copy of the change
	// feed, published in us-east by the node running the replication.
	for key, want := range strong {
		c.awaitStale(t, euSrv, "accounts", key, want)
	}

	// Round 1: the node holding the SPOT group's leader and running the
	// region's replication stops. The lead goes there first: events its
	// replica applied but could not publish while it stopped must reach
	// the feed whether or not it runs the replication again after its
	// restart (a gap published late is refused as a duplicate).
	runner := c.geoRunner()
	leader := c.moveSpotLeader(t, runner)
	t.Logf("SPOT leader on node %d, the region's replication on node %d", leader.opts.Region.Meta.Node, runner.opts.Region.Meta.Node)
	writers := c.geoSpotKill(t, eu, leader, 1)
	// It comes back on its data.
	if err := leader.start(t); err != nil {
		t.Fatal(err)
	}
	c.awaitViews(t, "three active nodes again", c.nodes, func(vs []regionapi.View) bool { return allActive(vs[0], 3) && sameView(vs) })
	after1 := c.spotPostOK(t, http.StatusCreated, eu, "/_fabric/_system/_api/document/accounts", "after-1",
		map[string]any{"_key": "after-1", "round": 1})
	t.Logf("written after round 1: %s", after1)

	// Round 2: the node running the region's replication (it publishes
	// the change feed every region reads) stops.
	runner = c.awaitGeoRunner(t)
	t.Logf("round 2: the region's replication on node %d", runner.opts.Region.Meta.Node)
	writers = append(writers, c.geoSpotKill(t, eu, runner, 2)...)
	next := c.awaitGeoRunner(t)
	t.Logf("round 2: the region's replication moved to node %d", next.opts.Region.Meta.Node)
	c.spotPostOK(t, http.StatusCreated, next.url, "/_fabric/_system/_api/document/accounts", "after-2",
		map[string]any{"_key": "after-2", "round": 2})

	// Every acknowledged write, once, the same through a live us-east node
	// and through eu-west (forwarded: strong).
	var live *regionNode
	for _, n := range c.nodes {
		if n.srv != nil {
			live = n
			break
		}
	}
	docs := c.spotDocs(t, live.url, "accounts")
	if euDocs := c.spotDocs(t, eu, "accounts"); fmt.Sprint(euDocs) != fmt.Sprint(docs) {
		t.Fatalf("documents through eu-west differ from those through node %d", live.opts.Region.Meta.Node)
	}
	total := 0
	for _, w := range writers {
		total += len(w.acked)
	}
	counter := checkSpotWrites(t, writers, docs, total)
	for _, key := range []string{"after-1", "after-2"} {
		if _, ok := docs[key]; !ok {
			t.Fatalf("%s is missing", key)
		}
	}

	// eu-west's possibly-stale reads converge on every document: those
	// written while the SPOT leader and then the replication's runner
	// failed over included (the next publisher sends what the previous
	// one had not).
	start := time.Now()
	for key := range docs {
		want := c.callOK(t, http.StatusOK, http.MethodGet, live.url, "/_fabric/_system/_api/document/accounts/"+key, nil)
		c.awaitStale(t, euSrv, "accounts", key, string(want))
	}
	t.Logf("%d documents (%d acknowledged writes, counter %d): eu-west's possibly-stale reads showed them all within %v",
		len(docs), total, counter.N, time.Since(start))
}
