package streamworkers

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/collections/service"
	qp "github.com/causeway/causeway/internal/queryparam"
)

// env is a real node (broker and collections service) with a runner whose
// checkpoint store is on a crashable in-memory filesystem, and its HTTP API
// on a test server.
type env struct {
	t    testing.TB
	node *broker.Node
	cols *service.Service
	fs   *vfs.MemFS // nil: the checkpoint store is on disk (benchmarks)
	dir  string
	opts Options
	cur  atomic.Pointer[Runner] // the runner of now, for the HTTP server's goroutines
	r    *Runner
	srv  *httptest.Server
}

const testFabric = naming.SystemFabric

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	log := zaptest.NewLogger(t)
	if _, fuzz := t.(*testing.F); fuzz {
		log = zap.NewNop() // a fuzz target must not log through the F
	}
	node, err := broker.Open(broker.Config{Region: "us", DataDir: t.TempDir()}, log)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := service.Open(node, service.Options{SweepInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, node: node, cols: cols, fs: vfs.NewCrashableMem(), dir: t.TempDir()}
	if opts.Dir == "disk" {
		e.fs = nil
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = 50 * time.Millisecond
	}
	if opts.AdvanceInterval == 0 {
		opts.AdvanceInterval = 50 * time.Millisecond
	}
	if opts.RetryInterval == 0 {
		opts.RetryInterval = 20 * time.Millisecond
	}
	opts.Dir = "cp"
	e.opts = opts
	e.open()
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set(tenantHeader, naming.DefaultTenant)
		mux := http.NewServeMux()
		e.cur.Load().Mount(checkedMux{mux}) // restarts replace it
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		e.srv.Close()
		if e.r != nil {
			_ = e.r.Close()
		}
		_ = cols.Close()
		_ = node.Close()
	})
	return e
}

// checkedMux mounts routes on a ServeMux, checking their query
// parameters as the node's handler does.
type checkedMux struct{ mux *http.ServeMux }

func (m checkedMux) HandleParams(pattern string, params qp.Set, h http.Handler) {
	m.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := params.Check(r.URL.RawQuery); err != nil {
			fail(w, err)
			return
		}
		h.ServeHTTP(w, r)
	}))
}

// open starts a runner on the env's checkpoint filesystem.
func (e *env) open() {
	e.t.Helper()
	o := e.opts
	if e.fs != nil {
		o.Pebble = &pebble.Options{FS: e.fs}
	} else {
		o.Dir = e.dir
	}
	o.ReserveBytes = -1
	log := zaptest.NewLogger(e.t)
	if _, fuzz := e.t.(*testing.F); fuzz {
		log = zap.NewNop()
	}
	r, err := Open(e.node, e.cols, log, o)
	if err != nil {
		e.t.Fatal(err)
	}
	r.Start()
	e.r = r
	e.cur.Store(r)
}

func newRand(seed int64) *rand.Rand { return rand.New(rand.NewPCG(uint64(seed), 1)) }

// crash stops the runner as a crash would: its workers stop dead, and the
// checkpoint store keeps only what was synced (a crash clone of its
// filesystem, with part of the unsynced writes lost).
func (e *env) crash(seed int64) {
	e.r.abandon()
	old := e.r
	e.fs = e.fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 50, RNG: newRand(seed)})
	e.t.Cleanup(func() { _ = old.db.Close() })
	e.r = nil
	e.open()
}

// restart closes the runner cleanly and opens it again.
func (e *env) restart() {
	if err := e.r.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.r = nil
	e.open()
}

func (e *env) stream(name string) *broker.Stream {
	e.t.Helper()
	st, err := e.node.StreamForUse(naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: testFabric, Name: name}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

// publish publishes payloads to a stream.
func (e *env) publish(stream string, payloads ...string) {
	e.t.Helper()
	p, err := e.stream(stream).AttachProducer("test-"+stream, -1)
	if err != nil {
		e.t.Fatal(err)
	}
	defer p.Close()
	msgs := make([]broker.Message, len(payloads))
	for i, pl := range payloads {
		msgs[i] = broker.Message{Payload: []byte(pl), SequenceID: -1}
	}
	for _, r := range p.Publish(msgs) {
		if r.Err != nil {
			e.t.Fatal(r.Err)
		}
	}
}

// records reads every record of a stream.
func (e *env) records(stream string) []segment.Record {
	e.t.Helper()
	st, err := e.node.Stream(naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: testFabric, Name: stream})
	if err != nil {
		return nil
	}
	src := st.Source()
	var out []segment.Record
	for from := src.StartOffset(); from < src.EndOffset(); {
		recs, err := src.Read(from, 10000, 64<<20)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		out = append(out, recs...)
		from = recs[len(recs)-1].Offset + 1
	}
	return out
}

// do sends a request to the API and decodes the answer into out (if set).
func (e *env) do(method, path string, body any, out any) int {
	e.t.Helper()
	return e.doT(e.t, method, path, body, out)
}

// doT is do failing t (a fuzz target's).
func (e *env) doT(t testing.TB, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+"/_fabric/"+testFabric+"/_api/streamapps"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// create creates an active worker through the API.
func (e *env) create(name, query string) {
	e.t.Helper()
	var ans map[string]any
	active := true
	if code := e.do("POST", "", Input{Name: name, Query: query, IsActive: &active}, &ans); code != http.StatusCreated {
		e.t.Fatalf("create %s: %d %v", name, code, ans)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func (e *env) waitFor(what string, d time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// doc reads a collection's document (nil: none).
func (e *env) doc(collection, key string) map[string]any {
	b, _, err := e.cols.Document(service.Ref{Tenant: naming.DefaultTenant, Fabric: testFabric, Collection: collection}, key)
	if err != nil {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}
