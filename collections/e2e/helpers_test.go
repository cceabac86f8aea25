package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/server"
	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/internal/testnet"
)

// waitTimeout bounds every wait on a condition; pollInterval is how often
// a condition over HTTP is checked again.
const (
	waitTimeout  = 60 * time.Second
	pollInterval = 10 * time.Millisecond
)

const secret = "collections-e2e-secret-0123456789"

// fabric is one in-process node per region, wired full mesh.
type fabric struct {
	t       testing.TB
	regions []string
	cfgs    map[string]broker.Config
	opts    map[string]server.Options
	mu      sync.Mutex
	srv     map[string]*server.Server
}

func newFabric(t testing.TB, regions []string, skip ...string) *fabric {
	t.Helper()
	addrs := testnet.FreeAddrs(t, len(regions))
	f := &fabric{t: t, regions: regions, cfgs: map[string]broker.Config{}, opts: map[string]server.Options{}, srv: map[string]*server.Server{}}
	for i, r := range regions {
		peers := map[string]string{}
		for j, p := range regions {
			if p != r {
				peers[p] = addrs[j]
			}
		}
		f.cfgs[r] = broker.Config{Region: r, DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", ReplAddr: addrs[i],
			Peers: peers, FabricSecret: secret, Fsync: "never"}
	}
	for _, r := range regions {
		if !slices.Contains(skip, r) {
			f.start(r)
		}
	}
	t.Cleanup(func() {
		for _, r := range regions {
			f.stop(r)
		}
	})
	return f
}

func (f *fabric) start(region string) *server.Server {
	f.t.Helper()
	log := zaptest.NewLogger(f.t, zaptest.Level(zap.WarnLevel)).Named(region)
	srv, err := server.StartWith(f.cfgs[region], log, f.opts[region])
	if err != nil {
		f.t.Fatalf("start %s: %v", region, err)
	}
	f.mu.Lock()
	f.srv[region] = srv
	f.mu.Unlock()
	return srv
}

func (f *fabric) stop(region string) {
	f.mu.Lock()
	srv := f.srv[region]
	delete(f.srv, region)
	f.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		f.t.Errorf("shutdown %s: %v", region, err)
	}
}

func (f *fabric) server(region string) *server.Server {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.srv[region]
}

// cut cuts (or heals) the replication link between a and b, both ways.
func (f *fabric) cut(a, b string, down bool) {
	f.t.Helper()
	for _, p := range [][2]string{{a, b}, {b, a}} {
		if err := f.server(p[0]).Repl.SetLinkDown(p[1], down); err != nil {
			f.t.Fatal(err)
		}
	}
}

// partition cuts (or heals) every link.
func (f *fabric) partition(down bool) {
	for i, a := range f.regions {
		for _, b := range f.regions[i+1:] {
			f.cut(a, b, down)
		}
	}
}

// answer is an HTTP answer: status and the decoded JSON body.
type answer struct {
	status int
	raw    []byte
	body   map[string]any
	list   []any
}

func (f *fabric) do(region, method, path string, body any) answer {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.server(region).URL()+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s %s: %v", region, method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, raw: raw}
	if len(raw) > 0 {
		var v any
		if err := json.Unmarshal(raw, &v); err == nil {
			switch x := v.(type) {
			case map[string]any:
				a.body = x
			case []any:
				a.list = x
			}
		}
	}
	return a
}

// must calls do and fails unless the status is want.
func (f *fabric) must(want int, region, method, path string, body any) answer {
	f.t.Helper()
	a := f.do(region, method, path, body)
	if a.status != want {
		f.t.Fatalf("%s %s %s: status %d, want %d: %s", region, method, path, a.status, want, a.raw)
	}
	return a
}

// eventually waits until cond holds, checking it every pollInterval, and
// fails after waitTimeout with what describe says.
func (f *fabric) eventually(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("after %s: %s", waitTimeout, what)
		}
		time.Sleep(pollInterval)
	}
}

const sys = "/_fabric/_system/_api/"

// doc returns a document's JSON in region (nil when it is absent).
func (f *fabric) doc(region, collection, key string) map[string]any {
	f.t.Helper()
	a := f.do(region, "GET", sys+"document/"+collection+"/"+key, nil)
	if a.status == http.StatusNotFound {
		return nil
	}
	if a.status != http.StatusOK {
		f.t.Fatalf("%s: GET %s/%s: %d %s", region, collection, key, a.status, a.raw)
	}
	return a.body
}

// sameEverywhere waits until the document has one _rev in every running
// region and returns it as region 0 shows it (nil: absent everywhere).
func (f *fabric) sameEverywhere(collection, key string, regions ...string) map[string]any {
	f.t.Helper()
	var out map[string]any
	f.eventually(fmt.Sprintf("%s/%s converges in %v", collection, key, regions), func() bool {
		var revs []any
		for _, r := range regions {
			d := f.doc(r, collection, key)
			if d == nil {
				revs = append(revs, nil)
			} else {
				revs = append(revs, d["_rev"])
			}
			if r == regions[0] {
				out = d
			}
		}
		for _, x := range revs[1:] {
			if x != revs[0] {
				return false
			}
		}
		return true
	})
	return out
}

var _ = service.SnapshotPath
