package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// geoWriter writes to the collection through its URLs (the first is its
// own node; it moves to the next when a node does not answer) and records
// what it saw acknowledged.
type geoWriter struct {
	name  string
	urls  []string
	cur   int
	acked atomic.Int64 // acknowledged writes of any kind

	mu         sync.Mutex
	inserted   map[string]int // key -> n, acknowledged (201, or 409 on a retry)
	incs       map[string]int // shared key -> acknowledged increments
	unknown    map[string]int // shared key -> increments answered 503 or not at all
	retried    int            // inserts answered 503 (or not at all) and retried
	retriedSet map[string]bool
	applied503 int    // retries answered 409: the attempt answered 503 had been applied
	answer     string // one 503 answer, for the log
}

// TestRegionGeoCollections: region us-east is three nodes, eu-west one.
// A collection is created through a us-east node that does not run the
// region's replication (the request goes to the one that does); writers
// on every us-east node and in eu-west insert documents of their own and
// increment shared counters concurrently, both regions updating the same
// keys. The us-east node running the region's replication (it serves the
// collection too) is stopped under the writes; the others go on. Inserts
// answered 503 are retried with the same key (a retry of one that was
// applied answers 409). Then every acknowledged insert reads back in both
// regions, each shared counter counts every acknowledged increment (and
// at most the unanswered ones besides), and both regions hold the same
// documents.
func TestRegionGeoCollections(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four nodes in two regions")
	}
	c, euSrv := startGeoFabric(t)
	var deadline time.Time
	const p = "/_fabric/_system/_api/"
	euURL := euSrv.URL()

	// Created through a node that does not run the replication.
	other := c.nodes[0]
	if other == c.geoRunner() {
		other = c.nodes[1]
	}
	for retried := false; ; retried = true {
		// A try answered 503 may have created it: the next one says 409.
		code, b := c.call(t, http.MethodPost, other.url, p+"collection", map[string]any{"name": "accounts"})
		if code == http.StatusOK || (retried && code == http.StatusConflict) {
			break
		}
		if code != http.StatusServiceUnavailable && code != 0 {
			t.Fatalf("create accounts through %s: %d %s", other.url, code, b)
		}
		time.Sleep(50 * time.Millisecond) // a client's backoff
	}
	if code, b := c.call(t, http.MethodPost, c.nodes[2].url, p+"collection", map[string]any{"name": "accounts"}); code != http.StatusConflict {
		t.Fatalf("creating it again in us-east: %d %s, want 409", code, b)
	}
	const shared = 4
	for j := range shared {
		c.callOK(t, http.StatusCreated, http.MethodPost, other.url, p+"document/accounts", map[string]any{"_key": fmt.Sprintf("s%d", j), "hits": 0})
	}
	// eu-west gets the collection and the shared documents.
	c.awaitGeo(t, euURL, p+"document/accounts/s"+fmt.Sprint(shared-1), http.StatusOK)
	// An index and a saved query made through us-east nodes reach
	// eu-west; a SPOT collection is refused (no SPOT group runs here).
	c.callOK(t, http.StatusCreated, http.MethodPost, c.nodes[2].url, p+"index?collection=accounts",
		map[string]any{"type": "persistent", "fields": []string{"n"}, "name": "by_n"})
	c.callOK(t, http.StatusCreated, http.MethodPost, other.url, p+"restql",
		map[string]any{"query": map[string]any{"name": "small", "value": "SELECT _key FROM accounts WHERE n < @max", "parameter": map[string]any{"max": 10}}})
	c.awaitGeoBody(t, euURL, p+"index?collection=accounts", `"by_n"`)
	c.awaitGeoBody(t, euURL, p+"restql", `"small"`)
	if code, b := c.call(t, http.MethodPost, other.url, p+"collection", map[string]any{"name": "ledger", "isSpot": true}); code != http.StatusNotImplemented {
		t.Fatalf("a SPOT collection in a geo-replicated region of several nodes: %d %s, want 501", code, b)
	}

	var usURLs []string
	for _, n := range c.nodes {
		usURLs = append(usURLs, n.url)
	}
	var writers []*geoWriter
	for i := range c.nodes {
		urls := append(slices.Clone(usURLs[i:]), usURLs[:i]...)
		writers = append(writers, &geoWriter{name: fmt.Sprintf("us%d", i+1), urls: urls})
	}
	writers = append(writers, &geoWriter{name: "eu", urls: []string{euURL}})
	var stop atomic.Bool
	var wg sync.WaitGroup
	for _, w := range writers {
		w.inserted, w.incs, w.unknown, w.retriedSet = map[string]int{}, map[string]int{}, map[string]int{}, map[string]bool{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				if !c.geoWrite(t, w, i, shared) {
					return
				}
			}
		}()
	}
	waitAcked := func(what string, n func(*geoWriter) int64) {
		t.Helper()
		deadline := time.Now().Add(regionWait)
		for {
			done := true
			for _, w := range writers {
				done = done && w.acked.Load() >= n(w)
			}
			if done {
				return
			}
			if time.Now().After(deadline) {
				var got []string
				for _, w := range writers {
					got = append(got, fmt.Sprintf("%s %d", w.name, w.acked.Load()))
				}
				t.Fatalf("timed out waiting for %s (%s)", what, strings.Join(got, ", "))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitAcked("writes in both regions", func(*geoWriter) int64 { return 30 })

	runner := c.geoRunner()
	before := map[*geoWriter]int64{}
	for _, w := range writers {
		before[w] = w.acked.Load()
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
	waitAcked("writes after the stop", func(w *geoWriter) int64 { return before[w] + 30 })
	t.Logf("every writer wrote again %v after the stop", time.Since(stoppedAt))
	stop.Store(true)
	wg.Wait()
	if t.Failed() {
		return
	}

	var survivor *regionNode
	for _, n := range c.nodes {
		if n != runner {
			survivor = n
			break
		}
	}
	want := map[string]int{}
	incs, unknown := map[string]int{}, map[string]int{}
	retried, applied503 := 0, 0
	for _, w := range writers {
		w.mu.Lock()
		for k, n := range w.inserted {
			want[k] = n
		}
		for k, n := range w.incs {
			incs[k] += n
		}
		for k, n := range w.unknown {
			unknown[k] += n
		}
		retried += w.retried
		applied503 += w.applied503
		if w.answer != "" {
			t.Logf("%s: an insert answered 503 and retried with its key: %s", w.name, w.answer)
		}
		w.mu.Unlock()
	}
	// Both regions converge to the same documents, which hold every
	// acknowledged write.
	const q = "SELECT * FROM accounts ORDER BY _key"
	var problem string
	deadline = time.Now().Add(regionWait)
	for {
		us := c.queryAll(t, survivor.url, survivor.url, q, nil)
		euRows := c.queryAll(t, euURL, euURL, q, nil)
		problem = geoCheck(us, want, incs, unknown, shared)
		if problem == "" {
			problem = geoCheck(euRows, want, incs, unknown, shared)
		}
		if problem == "" && fmt.Sprint(us) != fmt.Sprint(euRows) {
			problem = fmt.Sprintf("us-east holds %d documents, eu-west %d, not the same", len(us), len(euRows))
		}
		if problem == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(problem)
		}
		time.Sleep(200 * time.Millisecond)
	}
	total, amb := 0, 0
	for j := range shared {
		total += incs[fmt.Sprintf("s%d", j)]
		amb += unknown[fmt.Sprintf("s%d", j)]
	}
	// Dropped through a us-east node: gone in both regions.
	c.callOK(t, http.StatusOK, http.MethodDelete, survivor.url, p+"collection/accounts", nil)
	c.awaitGeo(t, euURL, p+"collection/accounts", http.StatusNotFound)
	c.awaitGeo(t, survivor.url, p+"collection/accounts", http.StatusNotFound)
	t.Logf("%d acknowledged inserts (%d retried after a 503 or no answer, %d of them found applied: 409) and %d acknowledged increments (%d unanswered) read back alike in both regions",
		len(want), retried, applied503, total, amb)
}

// awaitGeo polls GET path on base until it answers want.
func (c *regionCluster) awaitGeo(t *testing.T, base, path string, want int) {
	t.Helper()
	deadline := time.Now().Add(regionWait)
	for {
		code, b := c.call(t, http.MethodGet, base, path, nil)
		if code == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s on %s: %d %s, want %d", path, base, code, b, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// awaitGeoBody polls GET path on base until it answers 200 with a body
// holding want.
func (c *regionCluster) awaitGeoBody(t *testing.T, base, path, want string) {
	t.Helper()
	deadline := time.Now().Add(regionWait)
	for {
		code, b := c.call(t, http.MethodGet, base, path, nil)
		if code == http.StatusOK && strings.Contains(string(b), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s on %s: %d %s, want 200 with %s", path, base, code, b, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// geoWrite makes write i of w: an insert of its own key on even i
// (retried with the same key after a 503 or no answer, until it is
// acknowledged or the retry finds it there), an increment of a shared
// counter on odd i (not retried: recorded as unknown). It reports whether
// to go on.
func (c *regionCluster) geoWrite(t *testing.T, w *geoWriter, i, shared int) bool {
	const p = "/_fabric/_system/_api/"
	if i%2 == 1 {
		key := fmt.Sprintf("s%d", (i/2)%shared)
		code, b := c.call(t, http.MethodPatch, w.urls[w.cur], p+"document/accounts/"+key,
			map[string]any{"hits": map[string]any{"$inc": 1}, "last_" + w.name: i})
		w.mu.Lock()
		defer w.mu.Unlock()
		switch code {
		case http.StatusCreated, http.StatusOK, http.StatusAccepted:
			w.incs[key]++
			w.acked.Add(1)
		case http.StatusServiceUnavailable, 0:
			w.unknown[key]++
			w.next(code)
			time.Sleep(20 * time.Millisecond)
		default:
			t.Errorf("%s: increment %s: %d %s", w.name, key, code, b)
			return false
		}
		return true
	}
	key := fmt.Sprintf("%s-%05d", w.name, i)
	deadline := time.Now().Add(regionWait)
	for {
		code, b := c.call(t, http.MethodPost, w.urls[w.cur], p+"document/accounts", map[string]any{"_key": key, "n": i})
		w.mu.Lock()
		switch {
		case code == http.StatusCreated || code == http.StatusAccepted,
			code == http.StatusConflict && w.retriedKey(key):
			// 409 only on a retry: the attempt answered 503 was applied.
			if code == http.StatusConflict {
				w.applied503++
			}
			w.inserted[key] = i
			w.acked.Add(1)
			w.mu.Unlock()
			return true
		case code == http.StatusServiceUnavailable || code == 0:
			if code == http.StatusServiceUnavailable && w.answer == "" {
				w.answer = string(b)
			}
			w.markRetried(key)
			w.next(code)
			w.mu.Unlock()
			if time.Now().After(deadline) {
				t.Errorf("%s: insert %s still refused after %v: %d %s", w.name, key, regionWait, code, b)
				return false
			}
			time.Sleep(20 * time.Millisecond)
		default:
			w.mu.Unlock()
			t.Errorf("%s: insert %s: %d %s", w.name, key, code, b)
			return false
		}
	}
}

// next moves to the writer's next URL when its node did not answer.
func (w *geoWriter) next(code int) {
	if code == 0 {
		w.cur = (w.cur + 1) % len(w.urls)
	}
}

func (w *geoWriter) markRetried(key string) {
	if !w.retriedSet[key] {
		w.retriedSet[key] = true
		w.retried++
	}
}

func (w *geoWriter) retriedKey(key string) bool { return w.retriedSet[key] }

// geoCheck says what rows (a region's documents) lack: an acknowledged
// insert, or a shared counter outside [acknowledged, acknowledged +
// unanswered] increments ("" when nothing).
func geoCheck(rows []json.RawMessage, want, incs, unknown map[string]int, shared int) string {
	got := map[string]map[string]any{}
	for _, row := range rows {
		var d map[string]any
		if err := json.Unmarshal(row, &d); err != nil {
			return fmt.Sprintf("row %s: %v", row, err)
		}
		k, _ := d["_key"].(string)
		got[k] = d
	}
	for k, n := range want {
		d, ok := got[k]
		if !ok {
			return fmt.Sprintf("acknowledged insert %s missing (%d documents)", k, len(rows))
		}
		if v, _ := d["n"].(float64); int(v) != n {
			return fmt.Sprintf("%s reads n=%v, want %d", k, d["n"], n)
		}
	}
	for j := range shared {
		k := fmt.Sprintf("s%d", j)
		d, ok := got[k]
		if !ok {
			return fmt.Sprintf("shared document %s missing", k)
		}
		hits, _ := d["hits"].(float64)
		if int(hits) < incs[k] || int(hits) > incs[k]+unknown[k] {
			return fmt.Sprintf("%s counts %v, want %d acknowledged increments (+ at most %d unanswered)", k, d["hits"], incs[k], unknown[k])
		}
	}
	return ""
}
