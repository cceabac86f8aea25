package service

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/query"
)

// fakeClock is a settable wall clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t     *testing.T
	dir   string
	clock *fakeClock
	node  *broker.Node
	svc   *Service
}

func newEnv(t *testing.T) *env {
	e := &env{t: t, dir: t.TempDir(), clock: &fakeClock{t: time.Unix(1_700_000_000, 0)}}
	e.start()
	t.Cleanup(e.stop)
	return e
}

func (e *env) start() {
	node, err := broker.Open(broker.Config{Region: "us", DataDir: e.dir}, zaptest.NewLogger(e.t))
	if err != nil {
		e.t.Fatal(err)
	}
	svc, err := Open(node, Options{Now: e.clock.Now, SweepInterval: time.Hour})
	if err != nil {
		_ = node.Close()
		e.t.Fatal(err)
	}
	e.node, e.svc = node, svc
}

func (e *env) stop() {
	if e.svc == nil {
		return
	}
	if err := e.svc.Close(); err != nil {
		e.t.Error(err)
	}
	if err := e.node.Close(); err != nil {
		e.t.Error(err)
	}
	e.svc, e.node = nil, nil
}

func (e *env) restart() {
	e.stop()
	e.start()
}

var users = Ref{Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric, Collection: "users"}

func (e *env) write(ws ...Write) []Result {
	e.t.Helper()
	res, err := e.svc.Write(users, ws)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func (e *env) doc(key string) map[string]any {
	e.t.Helper()
	b, _, err := e.svc.Document(users, key)
	if errors.Is(err, ErrDocumentNotFound) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

func TestWriteReadRestart(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.CreateCollection(naming.DefaultTenant, naming.SystemFabric, CollectionSpec{Name: "users"}); err != nil {
		t.Fatal(err)
	}
	res := e.write(
		Write{Kind: Insert, Key: "a", Doc: map[string]any{"n": json.Number("1"), "o": map[string]any{"x": "y"}}},
		Write{Kind: Insert, Doc: map[string]any{"n": json.Number("2")}},
		Write{Kind: Update, Key: "a", Doc: map[string]any{"n": map[string]any{"$inc": json.Number("5")}, "o": map[string]any{"z": true}}, MergeObjects: true, KeepNull: true},
		Write{Kind: Insert, Key: "a"},
	)
	if res[0].Err != nil || res[1].Err != nil || res[2].Err != nil || !errors.Is(res[3].Err, ErrKeyExists) {
		t.Fatalf("results %+v", res)
	}
	got := e.doc("a")
	if got["n"] != float64(6) || got["o"].(map[string]any)["z"] != true || got["o"].(map[string]any)["x"] != "y" {
		t.Fatalf("doc a = %v", got)
	}
	if got["_rev"] != res[2].Rev {
		t.Fatalf("rev %v, want %v", got["_rev"], res[2].Rev)
	}
	e.restart()
	if again := e.doc("a"); again["_rev"] != got["_rev"] {
		t.Fatalf("after restart %v, before %v", again, got)
	}
	b, err := e.svc.Query(naming.DefaultTenant, naming.SystemFabric, QueryRequest{Query: "SELECT COUNT(*) AS n FROM users", Params: query.Params{}})
	if err != nil || len(b.Result) != 1 || string(b.Result[0]) != `{"n":2}` {
		t.Fatalf("count: %v %s", err, b.Result)
	}
	// A remote op concurrent with a.n's last write: conflict.
	op := collections.Op{Collection: "users", Key: "a", Kind: collections.KindSet, Path: []string{"n"}, Value: []byte("100"),
		Dot: collections.Dot{Region: "eu", Seq: 1}, HLC: 1}
	if err := e.svc.ApplyRemote(naming.DefaultTenant, naming.SystemFabric, op); err != nil {
		t.Fatal(err)
	}
	cs, err := e.svc.Conflicts(users, "a")
	if err != nil || len(cs) != 1 || string(cs[0].Value) != "100" {
		t.Fatalf("conflicts %v %+v", err, cs)
	}
}
