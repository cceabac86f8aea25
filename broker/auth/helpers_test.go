package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/causeway/causeway/broker/naming"
)

// memKV is an in-memory KV.
type memKV struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newMemKV() *memKV { return &memKV{m: map[string][]byte{}} }

func (kv *memKV) Get(key string) ([]byte, bool, error) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	v, ok := kv.m[key]
	return append([]byte(nil), v...), ok, nil
}

func (kv *memKV) Set(key string, val []byte) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	kv.m[key] = append([]byte(nil), val...)
	return nil
}

func (kv *memKV) Delete(key string) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	delete(kv.m, key)
	return nil
}

func (kv *memKV) Scan(prefix string, fn func(string, []byte) error) error {
	kv.mu.Lock()
	var keys []string
	for k := range kv.m {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	vals := make([][]byte, len(keys))
	for i, k := range keys {
		vals[i] = kv.m[k]
	}
	kv.mu.Unlock()
	for i, k := range keys {
		if err := fn(k, vals[i]); err != nil {
			return err
		}
	}
	return nil
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness is a Service behind a handler shaped like broker/httpapi's:
// the /_tenant/{tenant} prefix, the gate, the key endpoints, and an echo
// handler for every other path.
type harness struct {
	t     *testing.T
	svc   *Service
	kv    *memKV
	clock *clock
	logs  *observer.ObservedLogs
	h     http.Handler
	root  string // the bootstrap superuser key
}

// echo is what the echo handler answers.
type echo struct {
	Tenant    string `json:"tenant"`
	Principal string `json:"principal"`
	Query     string `json:"query"`
	Body      int    `json:"body"`
	BodyErr   string `json:"bodyErr"`
}

func on() *bool { b := true; return &b }

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	return newHarnessOver(t, cfg, newMemKV())
}

// newHarnessOver is newHarness over kv (the store of a node restarted).
func newHarnessOver(t *testing.T, cfg Config, kv *memKV) *harness {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	hs := &harness{t: t, kv: kv, clock: &clock{t: time.Unix(1_700_000_000, 0)}, logs: logs}
	svc, err := New(cfg, hs.kv, Options{Logger: zap.New(core), Now: hs.clock.Now, MaxHTTPBodyBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	hs.svc, hs.root = svc, svc.BootstrapKey()
	mux := http.NewServeMux()
	svc.Mount(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		e := echo{Tenant: r.Header.Get(tenantHeader), Query: r.URL.RawQuery}
		if p, ok := FromContext(r.Context()); ok {
			e.Principal = p.ID
		}
		if r.Body != nil {
			n, err := io.Copy(io.Discard, r.Body)
			e.Body = int(n)
			if err != nil {
				e.BodyErr = err.Error()
			}
		}
		code := http.StatusOK
		if r.Method == http.MethodPost {
			code = http.StatusCreated
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(e)
	})
	hs.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del(tenantHeader)
		tenant, explicit := naming.DefaultTenant, false
		if rest, found := strings.CutPrefix(r.URL.Path, "/_tenant/"); found {
			tenant, r.URL.Path, explicit = strings.Split(rest, "/")[0], "/"+strings.SplitN(rest, "/", 2)[1], true
			r.URL.RawPath = ""
		}
		w, r, tenant, ok := svc.Admit(w, r, tenant, explicit)
		if !ok {
			return
		}
		r.Header.Set(tenantHeader, tenant)
		mux.ServeHTTP(w, r)
	})
	return hs
}

// do sends a request with credential cred ("" = none) and returns the
// status and body.
func (hs *harness) do(method, target, cred string, body any) (int, []byte) {
	hs.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			hs.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	r := httptest.NewRequest(method, target, rd)
	if cred != "" {
		r.Header.Set("Authorization", "Bearer "+cred)
	}
	// As a server does, cancel the request's context once it is served.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	w := httptest.NewRecorder()
	hs.h.ServeHTTP(w, r.WithContext(ctx))
	return w.Code, w.Body.Bytes()
}

// createKey makes a key with the given permissions in tenant through the
// endpoint, as cred, and returns its text and id.
func (hs *harness) createKey(cred, tenant string, perms ...string) (key, id string) {
	hs.t.Helper()
	code, body := hs.do("POST", "/_tenant/"+tenant+KeysPath, cred, KeyRequest{Name: "test", Permissions: perms})
	if code != http.StatusCreated {
		hs.t.Fatalf("create key %v in %s: %d %s", perms, tenant, code, body)
	}
	var env struct{ Result KeyView }
	if err := json.Unmarshal(body, &env); err != nil {
		hs.t.Fatal(err)
	}
	return env.Result.Key, env.Result.ID
}

// token asks for a token as cred.
func (hs *harness) token(cred string, req TokenRequest) (int, string) {
	hs.t.Helper()
	code, body := hs.do("POST", TokenPath, cred, req)
	var env struct{ Result TokenView }
	_ = json.Unmarshal(body, &env)
	return code, env.Result.Token
}

func decodeEcho(t *testing.T, b []byte) echo {
	t.Helper()
	var e echo
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("echo %s: %v", b, err)
	}
	return e
}

// waitFor waits until cond holds, failing after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// must sends a request as cred under the tenant prefix and fails the test
// unless it succeeds.
func (hs *harness) must(t *testing.T, method, path, prefix, cred string) []byte {
	t.Helper()
	code, body := hs.do(method, prefix+path, cred, nil)
	if code >= 300 {
		t.Fatalf("%s %s%s: %d %s", method, prefix, path, code, body)
	}
	return body
}
