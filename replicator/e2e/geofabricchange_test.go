package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
)

// fabricLoad publishes to eu/orders in one region until stopped or
// refused as outside the fabric, under its own producer with sequence ids
// 1, 2, ... (a batch refused for another reason is sent again, the same
// ids: the broker's de-duplication keeps each message once), and counts
// what was acknowledged.
type fabricLoad struct {
	producer string
	acked    atomic.Int64
	err      error
	done     chan struct{}
}

func startFabricLoad(t *testing.T, f *fabric, region, producer, marker string, stop <-chan struct{}) *fabricLoad {
	l := &fabricLoad{producer: producer, done: make(chan struct{})}
	name := naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: "eu", Name: "orders"}
	go func() {
		defer close(l.done)
		s, err := f.node(region).StreamForUse(name, nil)
		if err != nil {
			l.err = err
			return
		}
		p, err := s.AttachProducer(producer, -1)
		if err != nil {
			l.err = err
			return
		}
		defer p.Close()
		for {
			select {
			case <-stop:
				return
			default:
			}
			var msgs []broker.Message
			for i := range 20 {
				seq := l.acked.Load() + 1 + int64(i)
				msgs = append(msgs, broker.Message{Payload: fmt.Appendf(nil, "%s-%s-%d", marker, producer, seq), SequenceID: seq})
			}
			res := p.Publish(msgs)
			failed := slices.IndexFunc(res, func(r broker.PublishResult) bool { return r.Err != nil })
			if failed < 0 {
				l.acked.Add(int64(len(msgs)))
				time.Sleep(5 * time.Millisecond)
				continue
			}
			if errors.Is(res[failed].Err, broker.ErrFabricElsewhere) {
				return
			}
			l.acked.Add(int64(failed))
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return l
}

// euRecords reads eu/orders in region.
func euRecords(t *testing.T, f *fabric, region string) []segment.Record {
	t.Helper()
	return f.recordsOf(region, naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: "eu", Name: "orders"})
}

// checkEUExactlyOnce fails unless region's eu/orders holds, per load, the
// sequence ids 1..acked (at least) exactly once and in order, and nothing
// else.
func checkEUExactlyOnce(t *testing.T, f *fabric, region string, loads ...*fabricLoad) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		want := map[string]int64{}
		for _, l := range loads {
			want[l.producer] = l.acked.Load()
		}
		recs := euRecords(t, f, region)
		next := map[string]int64{}
		var bad string
		for _, r := range recs {
			if r.SequenceID != next[r.Producer]+1 {
				bad = fmt.Sprintf("%s's sequence %d after %d (offset %d, origin %s)", r.Producer, r.SequenceID, next[r.Producer], r.Offset, r.Origin)
				break
			}
			next[r.Producer] = r.SequenceID
		}
		missing := ""
		for _, l := range loads {
			if next[l.producer] < want[l.producer] {
				missing = fmt.Sprintf("%s: %d of %d acknowledged", l.producer, next[l.producer], want[l.producer])
			}
		}
		if bad != "" {
			t.Fatalf("%s: eu/orders out of order or duplicated: %s", region, bad)
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			var domains []string
			for _, r := range f.Regions {
				if f.Running()[r] != nil {
					_, body := f.httpDo(r, "GET", "/_api/replication/domains", "")
					domains = append(domains, r+": "+body)
				}
			}
			t.Fatalf("%s: eu/orders lacks messages: %s\n%s\ndomains:\n%s", region, missing, f.statusDump(), strings.Join(domains, "\n"))
		}
		time.Sleep(pollInterval)
	}
}

// startEU starts one node per region and creates the fabric eu at the
// first region of list (its home) pinned to list, known to every member.
func startEU(t *testing.T, regions []string, list ...string) *fabric {
	t.Helper()
	f := newFabric(t, regions, nil)
	body, _ := json.Marshal(map[string][]string{"regions": list})
	if code, out := f.httpDo(list[0], "POST", "/_fabric/eu/_api/fabric", string(body)); code != http.StatusCreated {
		t.Fatalf("create eu: %d %s", code, out)
	}
	for _, r := range list {
		waitEUState(t, f, r, "known", func(st fabricState) bool { return st.Applying == 1 })
	}
	return f
}

// fabricState is the eu fabric's state in GET /_api/replication/domains.
type fabricState struct {
	Version  uint64
	Regions  []string
	Applying uint64
	Backfill uint64
	Deleting uint64
	Deleted  []uint64
}

func euState(t *testing.T, f *fabric, region string) fabricState {
	t.Helper()
	code, body := f.httpDo(region, "GET", "/_api/replication/domains", "")
	var out struct {
		Fabrics []struct {
			Name string
			fabricState
		}
	}
	if err := json.Unmarshal([]byte(body), &out); code != http.StatusOK || err != nil {
		t.Fatalf("%s: domains: %d %s (%v)", region, code, body, err)
	}
	for _, fs := range out.Fabrics {
		if fs.Name == "eu" {
			return fs.fabricState
		}
	}
	return fabricState{}
}

func waitEUState(t *testing.T, f *fabric, region, what string, cond func(fabricState) bool) fabricState {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		st := euState(t, f, region)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: eu never %s: %+v\n%s", region, what, st, f.statusDump())
		}
		time.Sleep(pollInterval)
	}
}

// TestPinnedFabricListChanges: a fabric on a and b under publishes and
// collection writes in both; c is added (its backfill holds every message
// exactly once and in order, and every document), then b is removed while
// a and c keep writing (b deletes the fabric's data and says when
// nothing of it can arrive; a and c lose nothing). Bad changes are
// refused and change nothing.
func TestPinnedFabricListChanges(t *testing.T) {
	f := newFabric(t, []string{"a", "b", "c"}, nil)
	if code, body := f.httpDo("a", "POST", "/_fabric/eu/_api/fabric", `{"regions":["a","b"]}`); code != http.StatusCreated {
		t.Fatalf("create eu: %d %s", code, body)
	}
	retry := func(region, method, path, body string, want ...int) string {
		t.Helper()
		deadline := time.Now().Add(waitTimeout)
		for {
			code, out := f.httpDo(region, method, path, body)
			if slices.Contains(want, code) {
				return out
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s %s at %s: %d %s, want %v", method, path, region, code, out, want)
			}
			time.Sleep(pollInterval)
		}
	}
	retry("a", "POST", "/_fabric/eu/_api/collection", `{"name":"docs"}`, http.StatusOK)
	retry("b", "GET", "/_fabric/eu/_api/collection/docs", "", http.StatusOK)
	marker := fmt.Sprintf("EU-CHG-%x", time.Now().UnixNano()*104729)
	docs := 0
	writeDocs := func(region string, n int) {
		t.Helper()
		for range n {
			docs++
			retry(region, "POST", "/_fabric/eu/_api/document/docs", fmt.Sprintf(`{"_key":"d%d","v":"%s-%d"}`, docs, marker, docs),
				http.StatusAccepted, http.StatusCreated)
		}
	}
	waitDocs := func(region string) {
		t.Helper()
		deadline := time.Now().Add(waitTimeout)
		for {
			_, body := f.httpDo(region, "GET", "/_fabric/eu/_api/collection/docs/count", "")
			var c struct{ Count int }
			if json.Unmarshal([]byte(body), &c) == nil && c.Count == docs {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: docs count %s, want %d", region, body, docs)
			}
			time.Sleep(pollInterval)
		}
	}

	stopAB := make(chan struct{})
	loadA := startFabricLoad(t, f, "a", "pa", marker, stopAB)
	loadB := startFabricLoad(t, f, "b", "pb", marker, stopAB)
	writeDocs("a", 30)
	writeDocs("b", 30)
	for deadline := time.Now().Add(waitTimeout); loadA.acked.Load() < 500 || loadB.acked.Load() < 500; time.Sleep(pollInterval) {
		if time.Now().After(deadline) {
			t.Fatalf("load: a %d, b %d acknowledged", loadA.acked.Load(), loadB.acked.Load())
		}
	}

	// Bad changes: refused, nothing changes.
	for _, tc := range []struct {
		region, body string
		code         int
		want         string
	}{
		{"a", `{"regions":["a","mars"]}`, http.StatusBadRequest, "unknown region"},
		{"a", `{"regions":[]}`, http.StatusBadRequest, "empty"},
		{"a", `{"regions":["b","c"]}`, http.StatusBadRequest, "home region stays"},
		{"a", `{"regions":["b","a"]}`, http.StatusBadRequest, "list already"},
		{"b", `{"regions":["a","b","c"]}`, http.StatusMisdirectedRequest, "home region a"},
		{"c", `{"regions":["a","b","c"]}`, http.StatusMisdirectedRequest, "a, b"},
	} {
		if code, body := f.httpDo(tc.region, "PUT", "/_fabric/eu/_api/fabric", tc.body); code != tc.code || !strings.Contains(body, tc.want) {
			t.Fatalf("PUT %s at %s: %d %s, want %d with %q", tc.body, tc.region, code, body, tc.code, tc.want)
		}
	}
	if st := euState(t, f, "a"); st.Version != 1 || st.Applying != 1 {
		t.Fatalf("after refused changes: %+v", st)
	}

	// Add c, under load.
	started := time.Now()
	if code, body := f.httpDo("a", "PUT", "/_fabric/eu/_api/fabric", `{"regions":["a","b","c"]}`); code != http.StatusOK || !strings.Contains(body, `"version":2`) {
		t.Fatalf("add c: %d %s", code, body)
	}
	waitEUState(t, f, "c", "applies version 2", func(st fabricState) bool { return st.Applying == 2 })
	t.Logf("c added and applying in %s (a %d, b %d acknowledged)", time.Since(started), loadA.acked.Load(), loadB.acked.Load())
	loadC := startFabricLoad(t, f, "c", "pc", marker, stopAB)
	writeDocs("c", 10)
	writeDocs("a", 10)
	for _, r := range []string{"a", "b", "c"} {
		checkEUExactlyOnce(t, f, r, loadA, loadB)
		waitDocs(r)
	}

	// Remove b, under load in a and c (b's load stops at the 421).
	acked := loadA.acked.Load()
	for deadline := time.Now().Add(waitTimeout); loadA.acked.Load() < acked+300; time.Sleep(pollInterval) {
		if time.Now().After(deadline) {
			t.Fatal("a's load stalled")
		}
	}
	started = time.Now()
	retryChange := func(body string) {
		t.Helper()
		retry("a", "PUT", "/_fabric/eu/_api/fabric", body, http.StatusOK)
	}
	retryChange(`{"regions":["a","c"]}`)
	st := waitEUState(t, f, "b", "deleted", func(st fabricState) bool { return slices.Contains(st.Deleted, 3) })
	t.Logf("b removed, its deletion complete in %s: %+v", time.Since(started), st)
	<-loadB.done
	if code, body := f.httpDo("b", "GET", "/_fabric/eu/_api/collection/docs/count", ""); code != http.StatusMisdirectedRequest {
		t.Fatalf("b after its removal: %d %s, want 421", code, body)
	}
	writeDocs("c", 10)
	close(stopAB)
	<-loadA.done
	<-loadC.done
	for _, l := range []*fabricLoad{loadA, loadB, loadC} {
		if l.err != nil {
			t.Fatalf("load %s: %v", l.producer, l.err)
		}
	}
	for _, r := range []string{"a", "c"} {
		checkEUExactlyOnce(t, f, r, loadA, loadB, loadC)
		waitDocs(r)
	}
	if recs := euRecords(t, f, "b"); len(recs) != 0 {
		t.Fatalf("b still holds %d records of eu", len(recs))
	}
	// Streams, journals and the view's tables hold nothing of eu any more.
	// The view's write-ahead log files are excepted: Pebble keeps written
	// log files for reuse, and their old bytes until it overwrites them
	// (README "Geo-fabrics" says so).
	found := slices.DeleteFunc(dirHolds(t, f.Configs["b"].DataDir, []byte(marker)), func(path string) bool {
		return filepath.Base(filepath.Dir(path)) == "collections" && strings.HasSuffix(path, ".log")
	})
	if len(found) > 0 {
		t.Errorf("b, removed from eu, still holds its data in %v", found)
	}
	t.Logf("acknowledged: a %d, b %d, c %d messages; %d documents", loadA.acked.Load(), loadB.acked.Load(), loadC.acked.Load(), docs)
}

// publishEU publishes n messages to eu/orders in region under producer,
// sequence ids from..from+n-1, and fails on any error.
func publishEU(t *testing.T, f *fabric, region, producer string, from, n int64) {
	t.Helper()
	s, err := f.node(region).StreamForUse(naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: "eu", Name: "orders"}, nil)
	if err != nil {
		t.Fatalf("%s: %v", region, err)
	}
	p, err := s.AttachProducer(producer, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var msgs []broker.Message
	for i := range n {
		msgs = append(msgs, broker.Message{Payload: fmt.Appendf(nil, "%s-%d", producer, from+i), SequenceID: from + i})
	}
	for i, r := range p.Publish(msgs) {
		if r.Err != nil || r.Duplicate {
			t.Fatalf("%s: publish %s:%d: %+v", region, producer, from+int64(i), r)
		}
	}
}

// fixedLoad is a load that published sequence ids 1..n.
func fixedLoad(producer string, n int64) *fabricLoad {
	l := &fabricLoad{producer: producer}
	l.acked.Store(n)
	return l
}

// TestPinnedFabricListChangesAcrossRestarts: a region added while it is
// down gets the backfill when it starts; a change made while an old
// member is down waits for its cut (writes of the fabric wait, and
// complete once it is back) and completes then; the home restarts after
// the changes and every region still holds every message once, in order.
func TestPinnedFabricListChangesAcrossRestarts(t *testing.T) {
	f := startEU(t, []string{"a", "b", "c"}, "a", "b")
	publishEU(t, f, "a", "pa", 1, 300)
	publishEU(t, f, "b", "pb", 1, 200)

	// c is added while it is down.
	f.Stop("c")
	if code, body := f.httpDo("a", "PUT", "/_fabric/eu/_api/fabric", `{"regions":["a","b","c"]}`); code != http.StatusOK {
		t.Fatalf("add c: %d %s", code, body)
	}
	for _, r := range []string{"a", "b"} {
		waitEUState(t, f, r, "applies version 2", func(st fabricState) bool { return st.Applying == 2 })
	}
	publishEU(t, f, "a", "pa", 301, 200)
	publishEU(t, f, "b", "pb", 201, 100)
	f.Start("c")
	waitEUState(t, f, "c", "applies version 2", func(st fabricState) bool { return st.Applying == 2 })
	for _, r := range []string{"a", "b", "c"} {
		checkEUExactlyOnce(t, f, r, fixedLoad("pa", 500), fixedLoad("pb", 300))
	}

	// b is removed while it is down: a and c wait for its cut.
	f.Stop("b")
	if code, body := f.httpDo("a", "PUT", "/_fabric/eu/_api/fabric", `{"regions":["a","c"]}`); code != http.StatusOK {
		t.Fatalf("remove b: %d %s", code, body)
	}
	time.Sleep(300 * time.Millisecond)
	if st := euState(t, f, "a"); st.Applying != 2 || st.Version != 3 {
		t.Fatalf("a applies version 3 without b's cut: %+v", st)
	}
	published := make(chan struct{})
	go func() {
		defer close(published)
		publishEU(t, f, "c", "pc", 1, 100) // waits for the change
	}()
	select {
	case <-published:
		t.Fatal("c's publish completed before b's cut")
	case <-time.After(300 * time.Millisecond):
	}
	f.Start("b")
	<-published
	waitEUState(t, f, "b", "deleted", func(st fabricState) bool { return slices.Contains(st.Deleted, 3) })
	for _, r := range []string{"a", "c"} {
		waitEUState(t, f, r, "applies version 3", func(st fabricState) bool { return st.Applying == 3 })
	}

	// The home restarts; publishes go on in version 3's domain.
	f.Stop("a")
	f.Start("a")
	publishEU(t, f, "a", "pa", 501, 100)
	for _, r := range []string{"a", "c"} {
		checkEUExactlyOnce(t, f, r, fixedLoad("pa", 600), fixedLoad("pb", 300), fixedLoad("pc", 100))
	}
	if recs := euRecords(t, f, "b"); len(recs) != 0 {
		t.Fatalf("b still holds %d records of eu", len(recs))
	}
}

// TestBackfillTiming (issue #13's report; run with CAUSEWAY_BACKFILL_BENCH=1,
// sizes with CAUSEWAY_BACKFILL_MESSAGES and CAUSEWAY_BACKFILL_DOCS): a
// fabric on a and b holding N stream messages of 1 KiB and M documents;
// c is added and the test reports how long until c applies the new list
// with everything.
func TestBackfillTiming(t *testing.T) {
	if os.Getenv("CAUSEWAY_BACKFILL_BENCH") == "" {
		t.Skip("a benchmark: CAUSEWAY_BACKFILL_BENCH=1 runs it")
	}
	messages, docs := envInt("CAUSEWAY_BACKFILL_MESSAGES", 1_000_000), envInt("CAUSEWAY_BACKFILL_DOCS", 100_000)
	f := startEU(t, []string{"a", "b", "c"}, "a", "b")
	started := time.Now()
	s, err := f.node("a").StreamForUse(naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: "eu", Name: "orders"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.AttachProducer("load", -1)
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 1024)
	for i := 0; i < messages; i += 1000 {
		msgs := make([]broker.Message, 0, 1000)
		for j := i; j < min(i+1000, messages); j++ {
			msgs = append(msgs, broker.Message{Payload: payload, SequenceID: int64(j + 1)})
		}
		for _, r := range p.Publish(msgs) {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}
	p.Close()
	t.Logf("%d messages published in %s", messages, time.Since(started))
	started = time.Now()
	if code, body := f.httpDo("a", "POST", "/_fabric/eu/_api/collection", `{"name":"docs"}`); code != http.StatusOK {
		t.Fatalf("create docs: %d %s", code, body)
	}
	for i := 0; i < docs; i += 1000 {
		var b strings.Builder
		b.WriteByte('[')
		for j := i; j < min(i+1000, docs); j++ {
			if j > i {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"_key":"d%d","n":%d,"s":"%s"}`, j, j, strings.Repeat("x", 100))
		}
		b.WriteByte(']')
		if code, body := f.httpDo("a", "POST", "/_fabric/eu/_api/document/docs", b.String()); code != http.StatusAccepted && code != http.StatusCreated {
			t.Fatalf("insert docs: %d %.300s", code, body)
		}
	}
	t.Logf("%d documents written in %s", docs, time.Since(started))
	started = time.Now()
	if code, body := f.httpDo("a", "PUT", "/_fabric/eu/_api/fabric", `{"regions":["a","b","c"]}`); code != http.StatusOK {
		t.Fatalf("add c: %d %s", code, body)
	}
	deadline := time.Now().Add(30 * time.Minute)
	for euState(t, f, "c").Applying != 2 {
		if time.Now().After(deadline) {
			t.Fatal("c never applied version 2")
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(started)
	got := len(euRecords(t, f, "c"))
	_, body := f.httpDo("c", "GET", "/_fabric/eu/_api/collection/docs/count", "")
	t.Logf("backfill of %d messages of 1 KiB and %d documents: c applies the new list after %s; c holds %d messages, docs count %s",
		messages, docs, took, got, body)
	if got != messages || !strings.Contains(body, fmt.Sprintf(`"count":%d`, docs)) {
		t.Fatalf("c holds %d messages (want %d), docs %s (want %d)", got, messages, body, docs)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestPinnedFabricChangeReleasedByEviction: a member of the old list that
// is gone for good holds a change until the operator evicts it on the
// other regions; then the change completes and the fabric's writes go on.
func TestPinnedFabricChangeReleasedByEviction(t *testing.T) {
	f := newFabric(t, []string{"a", "b", "c", "d"}, nil)
	if code, body := f.httpDo("a", "POST", "/_fabric/eu/_api/fabric", `{"regions":["a","b","c"]}`); code != http.StatusCreated {
		t.Fatalf("create eu: %d %s", code, body)
	}
	waitEUState(t, f, "c", "known", func(st fabricState) bool { return st.Applying == 1 })
	publishEU(t, f, "a", "pa", 1, 100)
	checkEUExactlyOnce(t, f, "b", fixedLoad("pa", 100))
	f.Stop("c")
	if code, body := f.httpDo("a", "PUT", "/_fabric/eu/_api/fabric", `{"regions":["a","b"]}`); code != http.StatusOK {
		t.Fatalf("remove c: %d %s", code, body)
	}
	time.Sleep(300 * time.Millisecond)
	if st := euState(t, f, "b"); st.Applying != 1 {
		t.Fatalf("b applies version 2 without c's cut: %+v", st)
	}
	for _, r := range []string{"a", "b", "d"} {
		if code, body := f.httpDo(r, "POST", "/_api/replication/regions/c/evict", ""); code != http.StatusOK {
			t.Fatalf("evict c at %s: %d %s", r, code, body)
		}
	}
	for _, r := range []string{"a", "b"} {
		waitEUState(t, f, r, "applies version 2", func(st fabricState) bool { return st.Applying == 2 })
	}
	publishEU(t, f, "b", "pb", 1, 100)
	for _, r := range []string{"a", "b"} {
		checkEUExactlyOnce(t, f, r, fixedLoad("pa", 100), fixedLoad("pb", 100))
	}
}

// TestAddedRegionServesOnceCopied: a region added to a fabric answers its
// requests 503 (retry) until the home's copy is applied there, then serves
// everything.
func TestAddedRegionServesOnceCopied(t *testing.T) {
	f := startEU(t, []string{"a", "b", "c"}, "a", "b")
	publishEU(t, f, "a", "pa", 1, 50)
	checkEUExactlyOnce(t, f, "b", fixedLoad("pa", 50))
	// With b down, the home cannot close version 1, so c's copy waits.
	f.Stop("b")
	if code, body := f.httpDo("a", "PUT", "/_fabric/eu/_api/fabric", `{"regions":["a","b","c"]}`); code != http.StatusOK {
		t.Fatalf("add c: %d %s", code, body)
	}
	waitEUState(t, f, "c", "waits for its copy", func(st fabricState) bool { return st.Backfill == 2 })
	if code, body := f.httpDo("c", "GET", "/_fabric/eu/_api/fabric", ""); code != http.StatusServiceUnavailable || !strings.Contains(body, "being copied") {
		t.Fatalf("c before its copy: %d %s, want 503", code, body)
	}
	f.Start("b")
	waitEUState(t, f, "c", "applies version 2", func(st fabricState) bool { return st.Applying == 2 })
	if code, body := f.httpDo("c", "GET", "/_fabric/eu/_api/fabric", ""); code != http.StatusOK {
		t.Fatalf("c after its copy: %d %s", code, body)
	}
	checkEUExactlyOnce(t, f, "c", fixedLoad("pa", 50))
}

// TestBackfillSurvivesHomeRestart: the home stops while it sends an added
// region's copy; started again, it sends the copy again, and the added
// region ends with every message once and in order.
func TestBackfillSurvivesHomeRestart(t *testing.T) {
	f := startEU(t, []string{"a", "b", "c"}, "a", "b")
	const n = 60_000
	for from := int64(1); from <= n; from += 5000 {
		publishEU(t, f, "a", "pa", from, 5000)
	}
	if code, body := f.httpDo("a", "PUT", "/_fabric/eu/_api/fabric", `{"regions":["a","b","c"]}`); code != http.StatusOK {
		t.Fatalf("add c: %d %s", code, body)
	}
	// Stop the home once part of the copy reached c.
	deadline := time.Now().Add(waitTimeout)
	for len(euRecords(t, f, "c")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no part of the copy reached c")
		}
		time.Sleep(time.Millisecond)
	}
	got := len(euRecords(t, f, "c"))
	f.Stop("a")
	t.Logf("home stopped with %d of %d messages copied to c", got, n)
	f.Start("a")
	waitEUState(t, f, "c", "applies version 2", func(st fabricState) bool { return st.Applying == 2 })
	publishEU(t, f, "a", "pa", n+1, 100)
	checkEUExactlyOnce(t, f, "c", fixedLoad("pa", n+100))
}

// TestPinnedFabricMemberWiped: a member of a fabric whose list changed
// loses its whole data directory; started again, it learns the fabric's
// versions and gets every message back, once and in order.
func TestPinnedFabricMemberWiped(t *testing.T) {
	f := startEU(t, []string{"a", "b", "c"}, "a", "b")
	publishEU(t, f, "a", "pa", 1, 300)
	publishEU(t, f, "b", "pb", 1, 200)
	if code, body := f.httpDo("a", "PUT", "/_fabric/eu/_api/fabric", `{"regions":["a","b","c"]}`); code != http.StatusOK {
		t.Fatalf("add c: %d %s", code, body)
	}
	waitEUState(t, f, "c", "applies version 2", func(st fabricState) bool { return st.Applying == 2 })
	publishEU(t, f, "a", "pa", 301, 100)
	publishEU(t, f, "b", "pb", 201, 100)
	publishEU(t, f, "c", "pc", 1, 100)
	checkEUExactlyOnce(t, f, "b", fixedLoad("pa", 400), fixedLoad("pb", 300), fixedLoad("pc", 100))
	f.Stop("b")
	if err := os.RemoveAll(f.Configs["b"].DataDir); err != nil {
		t.Fatal(err)
	}
	f.Start("b")
	waitEUState(t, f, "b", "applies version 2", func(st fabricState) bool { return st.Applying == 2 })
	checkEUExactlyOnce(t, f, "b", fixedLoad("pa", 400), fixedLoad("pb", 300), fixedLoad("pc", 100))
	publishEU(t, f, "b", "pb", 301, 50)
	for _, r := range []string{"a", "b", "c"} {
		checkEUExactlyOnce(t, f, r, fixedLoad("pa", 400), fixedLoad("pb", 350), fixedLoad("pc", 100))
	}
}
