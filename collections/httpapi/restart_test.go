package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/server"
)

func TestRestartKeepsEverything(t *testing.T) {
	n := startNode(t)
	loadPeople(t, n, 60)
	n.do("POST", sys+"index?collection=people", map[string]any{"type": "persistent", "fields": []any{"age"}, "name": "by_age"}).must(t, http.StatusCreated)
	n.do("PATCH", sys+"document/people/p0001", map[string]any{"age": 500, "extra": map[string]any{"$inc": 4}}).must(t, http.StatusCreated)
	n.do("DELETE", sys+"document/people/p0002", nil).must(t, http.StatusOK)
	n.do("POST", sys+"kv/cache", map[string]any{"ttl": 100}).must(t, http.StatusOK)
	n.do("PUT", sys+"kv/cache/value", []any{map[string]any{"_key": "k", "value": "v"}, map[string]any{"_key": "forever", "value": 1, "expireAt": -1}}).must(t, http.StatusOK)
	n.do("POST", sys+"restql", map[string]any{"query": map[string]any{"name": "adults", "value": "SELECT _key FROM people WHERE age >= @a ORDER BY _key", "parameter": map[string]any{"a": 18}}}).must(t, http.StatusCreated)
	applyRemote(t, n, `{"collection":"people","key":"p0003","kind":"set","dot":{"region":"eu-west","seq":1},"hlc":18446744073709551615,"path":["info","city"],"value":"Oslo"}`)

	snapshot := func() (docs []string, query []string, saved string, kv string) {
		all, _ := queryAll(t, n, "SELECT * FROM people ORDER BY _key", nil, 1000)
		q, extra := queryAll(t, n, "SELECT _key, age FROM people WHERE age > 30 AND age < 70 ORDER BY age, _key", nil, 1000)
		if extra["plan"].(map[string]any)["index"] != "by_age" {
			t.Fatalf("index not used: %v", extra)
		}
		s := n.do("POST", sys+"restql/execute/adults", nil).must(t, http.StatusCreated)
		k := n.do("GET", sys+"kv/cache/value/k", nil).must(t, http.StatusOK)
		return all, q, jsonString(s.body["result"]), string(k.raw)
	}
	docs1, q1, s1, kv1 := snapshot()
	conflicts1 := string(n.do("GET", sys+"document/people/p0003/conflicts", nil).must(t, http.StatusOK).raw)

	n.restart()

	docs2, q2, s2, kv2 := snapshot()
	if !slices.Equal(docs1, docs2) || !slices.Equal(q1, q2) || kv1 != kv2 {
		t.Fatalf("state changed across a restart:\n%v\n%v\n%s\n%s", docs1[:3], docs2[:3], kv1, kv2)
	}
	if s1 != s2 || len(s1) < 10 {
		t.Fatalf("saved query result changed: %s / %s", s1, s2)
	}
	if c := string(n.do("GET", sys+"document/people/p0003/conflicts", nil).must(t, http.StatusOK).raw); c != conflicts1 {
		t.Fatalf("conflicts changed: %s / %s", conflicts1, c)
	}
	n.do("GET", sys+"document/people/p0002", nil).mustError(t, http.StatusNotFound, 1202)

	// Writing goes on with fresh dots (a reused one would be dropped as a
	// duplicate, and the patch would not show).
	rev := n.do("GET", sys+"document/people/p0001", nil).str("_rev")
	r := n.do("PATCH", sys+"document/people/p0001", map[string]any{"extra": map[string]any{"$inc": 1}}).must(t, http.StatusCreated)
	if g := n.do("GET", sys+"document/people/p0001", nil); num(g.body["extra"]) != 5 || r.str("_rev") == rev {
		t.Fatalf("write after restart: %s", g.raw)
	}
	// Expiry survives too, on the same clock.
	n.clock.Advance(101 * time.Second)
	n.do("GET", sys+"kv/cache/value/k", nil).mustError(t, http.StatusNotFound, 1202)
	n.do("GET", sys+"kv/cache/value/forever", nil).must(t, http.StatusOK)

	// The change feed holds each change once: replay re-published nothing.
	n.do("POST", sys+"document/people", map[string]any{"_key": "sentinel"}).must(t, http.StatusCreated)
	rd := n.dial("/ws/v2/reader/persistent/_mm/_system/_changes.people?messageId=earliest")
	seen := 0
	for {
		ch, _ := rd.change()
		seen++
		if ch.Key == "sentinel" {
			break
		}
	}
	// 60 inserts, the patch, the delete, the remote set, the patch after
	// the restart, the sentinel.
	if want := 60 + 1 + 1 + 1 + 1 + 1; seen != want {
		t.Fatalf("change feed holds %d events, want %d", seen, want)
	}
}

// TestServerMountsCollections checks the wiring in server: the
// collections API is served next to the broker's and survives a restart.
func TestServerMountsCollections(t *testing.T) {
	dir := t.TempDir()
	start := func() *server.Server {
		srv, err := server.Start(broker.Config{Region: "r1", DataDir: dir, HTTPAddr: "127.0.0.1:0"}, zaptest.NewLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	stop := func(srv *server.Server) {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	srv := start()
	n := &node{t: t, url: srv.URL()}
	n.createCollection("things", nil)
	rev := n.do("POST", sys+"document/things", map[string]any{"_key": "x", "v": 1}).must(t, http.StatusCreated).str("_rev")
	n.do("GET", "/health", nil).must(t, http.StatusOK)
	stop(srv)
	srv = start()
	defer stop(srv)
	n.url = srv.URL()
	if g := n.do("GET", sys+"document/things/x", nil).must(t, http.StatusOK); g.str("_rev") != rev {
		t.Fatalf("after restart: %s", g.raw)
	}
	n.do("GET", sys+"nothing-here", nil).mustError(t, http.StatusNotFound, 404)
}
