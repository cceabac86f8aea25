package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/internal/testnet"
	"github.com/causeway/causeway/replicator/shell"
)

// geoTimeout bounds every wait of the geo tests.
const geoTimeout = 90 * time.Second

const geoSecret = "geo-e2e-secret-0123456789"

// geoNode is one `causeway serve` region of a fabric.
type geoNode struct {
	region, data, repl string
	peers              map[string]string
	cmd                *exec.Cmd
	addr               string
}

// start runs the node and waits for its "serving" log line.
func (n *geoNode) start(t *testing.T, bin string) {
	t.Helper()
	args := []string{"serve", "--region", n.region, "--data", n.data, "--http", "127.0.0.1:0", "--repl", n.repl,
		"--fabric-secret", geoSecret, "--auth=false"}
	for p, a := range n.peers {
		args = append(args, "--peer", p+"="+a)
	}
	n.cmd, n.addr = serveProcess(t, bin, args, geoTimeout)
}

// startGeoFabric starts one `causeway serve` per region, each peered with
// all the others, and stops at the test's end those still running (SIGTERM:
// a clean exit is checked); a test that kills a node restarts it or leaves
// it dead.
func startGeoFabric(t *testing.T, bin string, regions []string) []*geoNode {
	t.Helper()
	addrs := testnet.FreeAddrs(t, len(regions))
	nodes := make([]*geoNode, len(regions))
	for i, r := range regions {
		nodes[i] = &geoNode{region: r, data: t.TempDir(), repl: addrs[i], peers: map[string]string{}}
		for j, p := range regions {
			if j != i {
				nodes[i].peers[p] = addrs[j]
			}
		}
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			if n.cmd != nil && n.cmd.ProcessState == nil {
				n.terminate(t)
			}
		}
	})
	for _, n := range nodes {
		n.start(t, bin)
	}
	return nodes
}

func (n *geoNode) kill() {
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	_ = n.cmd.Wait()
}

func (n *geoNode) terminate(t *testing.T) {
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	if err := n.cmd.Wait(); err != nil {
		t.Errorf("%s: exit after SIGTERM: %v", n.region, err)
	}
}

// geoProduce publishes numbered messages on stream (window 64) until stop
// closes or the connection dies, recording each acknowledged one.
func geoProduce(addr, stream, producer string, start int, rec *acked, stop <-chan struct{}) {
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws/v2/producer/persistent/_mm/_system/"+stream+"?producerName="+producer, nil)
	if err != nil {
		return
	}
	defer c.Close()
	window := make(chan struct{}, 64)
	done := make(chan struct{})
	acks := make(chan struct{}, 1)
	go func() {
		defer close(done)
		for {
			var ack wsproto.ProducerAck
			if err := c.ReadJSON(&ack); err != nil {
				return
			}
			<-window
			if ack.OK() {
				n, _ := strconv.Atoi(ack.Context)
				rec.record(producer, n)
			}
			select {
			case acks <- struct{}{}:
			default:
			}
		}
	}()
	for i := start; ; i++ {
		select {
		case window <- struct{}{}:
		case <-done:
			return
		case <-stop:
			// Wait for the acks in flight, then leave.
			timeout := time.After(geoTimeout)
			for len(window) > 0 {
				select {
				case <-done:
					return
				case <-acks:
				case <-timeout:
					return
				}
			}
			return
		}
		payload := base64.StdEncoding.EncodeToString([]byte(producer + ":" + strconv.Itoa(i) + ":" + strings.Repeat("x", 100)))
		seq := int64(i)
		if err := c.WriteJSON(wsproto.ProducerMessage{Payload: payload, Context: strconv.Itoa(i), SequenceID: &seq}); err != nil {
			<-done
			return
		}
	}
}

// received records what one consumer got, per producer.
type received struct {
	mu  sync.Mutex
	seq map[string][]int
	n   int
}

// geoConsume consumes a shared subscription from the earliest message,
// acking each, until the connection dies or stop closes.
func geoConsume(addr, stream, sub string, got *received, stop <-chan struct{}) {
	followWS("ws://"+addr+"/ws/v2/consumer/persistent/_mm/_system/"+stream+"/"+sub+
		"?subscriptionType=Shared&subscriptionInitialPosition=Earliest&receiverQueueSize=1000", stop,
		func(producer string, n int) {
			got.mu.Lock()
			got.seq[producer] = append(got.seq[producer], n)
			got.n++
			got.mu.Unlock()
		})
}

// followWS reads messages pushed on a consumer or reader WebSocket at url,
// acknowledging each and handing its producer and number (the test
// payload "producer:n:...") to fn, until the connection dies or stop
// closes.
func followWS(url string, stop <-chan struct{}, fn func(producer string, n int)) {
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return
	}
	go func() {
		<-stop
		_ = c.Close()
	}()
	defer c.Close()
	for {
		var m wsproto.ConsumerMessage
		if err := c.ReadJSON(&m); err != nil {
			return
		}
		producer, n, ok := testPayload(m.Payload)
		if !ok {
			return
		}
		fn(producer, n)
		if err := c.WriteJSON(wsproto.ConsumerCommand{MessageID: m.MessageID}); err != nil {
			return
		}
	}
}

// testPayload parses a test message's base64 payload (parseTestMessage).
func testPayload(b64 string) (producer string, n int, ok bool) {
	p, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", 0, false
	}
	return parseTestMessage(p)
}

// parseTestMessage parses a test message, "producer:n:...".
func parseTestMessage(p []byte) (producer string, n int, ok bool) {
	parts := strings.SplitN(string(p), ":", 3)
	if len(parts) < 2 {
		return "", 0, false
	}
	n, err := strconv.Atoi(parts[1])
	return parts[0], n, err == nil
}

// readStream reads a whole stream through a WebSocket reader and returns
// the per-producer sequence numbers in stored order.
func readStream(t *testing.T, addr, stream string) map[string][]int {
	t.Helper()
	out := map[string][]int{}
	for _, r := range readOrdered(t, addr, stream) {
		out[r.producer] = append(out[r.producer], r.n)
	}
	return out
}

// storedMsg is a test message as a stream holds it.
type storedMsg struct {
	producer string
	n        int
}

func (m storedMsg) String() string { return m.producer + ":" + strconv.Itoa(m.n) }

// readOrdered reads a whole stream from its first offset through a
// WebSocket reader and returns its test messages in offset order.
func readOrdered(t *testing.T, addr, stream string) []storedMsg {
	t.Helper()
	end := streamEnd(t, addr, stream)
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws/v2/reader/persistent/_mm/_system/"+stream+
		"?messageId=earliest&receiverQueueSize=5000", nil)
	if err != nil {
		t.Fatalf("reader: %v", err)
	}
	defer c.Close()
	out := make([]storedMsg, 0, end)
	for uint64(len(out)) < end {
		_ = c.SetReadDeadline(time.Now().Add(geoTimeout))
		var m wsproto.ConsumerMessage
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("reader stopped after %d of %d messages: %v", len(out), end, err)
		}
		_ = c.WriteJSON(wsproto.ConsumerCommand{MessageID: m.MessageID})
		producer, n, ok := testPayload(m.Payload)
		if !ok {
			t.Fatalf("offset %d: not a test message: %q", len(out), m.Payload)
		}
		out = append(out, storedMsg{producer, n})
	}
	return out
}

func streamEnd(t *testing.T, addr, stream string) uint64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/_fabric/_system/_api/streams/" + stream)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		// Not arrived in this region yet (its first replicated message
		// creates it): nothing converged there (a CI flake read the 404's
		// body as a local stream).
		return 0
	}
	var v struct {
		Result struct {
			EndOffset uint64 `json:"endOffset"`
			Global    bool   `json:"global"`
		} `json:"result"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	if !v.Result.Global {
		t.Fatalf("%s: stream %s is not global", addr, stream)
	}
	return v.Result.EndOffset
}

// replStatus reads a node's replication status.
func replStatus(addr string) (shell.Status, error) {
	return fetchStatus(&http.Client{Timeout: 10 * time.Second}, "http://"+addr)
}

// waitConverged waits until every node delivered the same ops and every
// stream holds the same number of messages.
func waitConverged(t *testing.T, nodes []*geoNode, stream string) uint64 {
	t.Helper()
	deadline := time.Now().Add(geoTimeout)
	for {
		var first shell.Status
		ok := true
		var ends []uint64
		for i, n := range nodes {
			st, err := replStatus(n.addr)
			if err != nil {
				ok = false
				break
			}
			if i == 0 {
				first = st
			} else if !st.Delivered.Equal(first.Delivered) || !st.Applied.Equal(st.Delivered) {
				ok = false
			}
			ends = append(ends, streamEnd(t, n.addr, stream))
		}
		if ok && slices.Min(ends) == slices.Max(ends) {
			return ends[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("fabric did not converge: stream ends %v", ends)
		}
		time.Sleep(50 * time.Millisecond) // pacing a condition check with a deadline
	}
}

// checkStream checks one region's stream: no duplicate, per-producer order,
// every acknowledged message present.
func checkStream(t *testing.T, region string, stored map[string][]int, rec *acked) {
	t.Helper()
	for p, got := range stored {
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] {
				t.Fatalf("%s: producer %s: %d after %d (duplicate or reorder)", region, p, got[i], got[i-1])
			}
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for p, acks := range rec.seq {
		have := make(map[int]bool, len(stored[p]))
		for _, v := range stored[p] {
			have[v] = true
		}
		for _, v := range acks {
			if !have[v] {
				t.Fatalf("%s: producer %s: acknowledged message %d lost", region, p, v)
			}
		}
	}
}

// TestGeoKillRegionUnderLoad runs three `causeway serve` regions with
// producers and consumers in every region, kills one region with SIGKILL
// under load and restarts it: every acknowledged message reaches every
// region, every stream holds each message exactly once in per-producer
// order, the surviving regions' consumers get every message exactly once,
// and the restarted region's consumer gets every message at least once.
func TestGeoKillRegionUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := causewayBinary(t)
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	regions := []string{"east", "west", "south"}
	nodes := startGeoFabric(t, bin, regions)
	const stream = "geo"
	rec := &acked{seq: map[string][]int{}, changed: make(chan struct{})}
	stopProducers := make(chan struct{})
	stopConsumers := make(chan struct{})
	var producers, consumers sync.WaitGroup
	startProducers := func(n *geoNode, from int) {
		for i := range 2 {
			p := fmt.Sprintf("%s-p%d", n.region, i)
			producers.Add(1)
			go func() {
				defer producers.Done()
				geoProduce(n.addr, stream, p, from, rec, stopProducers)
			}()
		}
	}
	got := map[string]*received{}
	startConsumer := func(n *geoNode) {
		if got[n.region] == nil {
			got[n.region] = &received{seq: map[string][]int{}}
		}
		consumers.Add(1)
		go func(r *received) {
			defer consumers.Done()
			geoConsume(n.addr, stream, "audit", r, stopConsumers)
		}(got[n.region])
	}
	for _, n := range nodes {
		startProducers(n, 0)
		startConsumer(n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), geoTimeout)
	defer cancel()
	rec.waitFor(ctx, 1500)
	time.Sleep(time.Duration(rng.IntN(50)) * time.Millisecond) // land the kill at a random moment
	victim := nodes[1]
	victim.kill()
	t.Logf("killed %s after %d acknowledgements", victim.region, rec.count())
	rec.waitFor(ctx, 3000)
	victim.start(t, bin)
	t.Logf("restarted %s after %d acknowledgements", victim.region, rec.count())
	rec.mu.Lock()
	restartAt := 0
	for p, s := range rec.seq {
		if strings.HasPrefix(p, victim.region) {
			restartAt = max(restartAt, slices.Max(s)+100000)
		}
	}
	rec.mu.Unlock()
	startProducers(victim, restartAt)
	startConsumer(victim)
	rec.waitFor(ctx, 4500)
	close(stopProducers)
	producers.Wait()
	if ctx.Err() != nil {
		for _, n := range nodes {
			st, err := replStatus(n.addr)
			t.Logf("%s: %+v %v", n.region, st, err)
		}
		t.Fatalf("producers got %d acknowledgements, not enough in time", rec.count())
	}
	total := waitConverged(t, nodes, stream)
	t.Logf("converged on %d messages (%d acknowledged)", total, rec.n)
	var ref map[string][]int
	for _, n := range nodes {
		stored := readStream(t, n.addr, stream)
		checkStream(t, n.region, stored, rec)
		if ref == nil {
			ref = stored
			continue
		}
		for p, s := range ref {
			a, b := slices.Clone(s), slices.Clone(stored[p])
			slices.Sort(a)
			slices.Sort(b)
			if !slices.Equal(a, b) {
				t.Fatalf("%s and %s hold different messages of %s", nodes[0].region, n.region, p)
			}
		}
	}
	// Consumers: wait until each has seen every message, then check.
	deadline := time.Now().Add(geoTimeout)
	for _, n := range nodes {
		r := got[n.region]
		for {
			r.mu.Lock()
			distinct := 0
			for _, s := range r.seq {
				distinct += len(uniq(s))
			}
			r.mu.Unlock()
			if uint64(distinct) >= total {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: consumer saw %d of %d messages", n.region, distinct, total)
			}
			time.Sleep(50 * time.Millisecond) // pacing a condition check with a deadline
		}
	}
	close(stopConsumers)
	consumers.Wait()
	for _, n := range nodes {
		r := got[n.region]
		for p, s := range r.seq {
			if n != victim && len(uniq(s)) != len(s) {
				t.Fatalf("%s: consumer got a message of %s twice", n.region, p)
			}
			if len(uniq(s)) != len(ref[p]) {
				t.Fatalf("%s: consumer got %d distinct messages of %s, stream holds %d", n.region, len(uniq(s)), p, len(ref[p]))
			}
		}
	}
}

func (a *acked) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

func uniq(xs []int) []int {
	s := slices.Clone(xs)
	slices.Sort(s)
	return slices.Compact(s)
}
