package httpapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/subscription"
)

// paramsFixture is a node with a stream holding messages and a
// subscription, served by the handler, with one route mounted by Handle
// (as the replication admin endpoints are) that counts its calls.
type paramsFixture struct {
	t       *testing.T
	node    *broker.Node
	h       *Handler
	url     string
	mounted int
}

func newParamsFixture(t *testing.T) *paramsFixture {
	node, err := broker.Open(broker.Config{Region: "t", DataDir: t.TempDir()}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = node.Close() })
	f := &paramsFixture{t: t, node: node, h: New(node, nil)}
	f.h.Handle("POST /_api/replication/links/{peer}/{state}", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		f.mounted++
		ok(w, http.StatusOK, nil)
	}))
	srv := httptest.NewServer(f.h)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	s, err := node.CreateStream(naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric, Name: "s"}, broker.StreamInfo{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.AttachProducer("p", -1)
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range p.Publish([]broker.Message{{Payload: []byte("a")}, {Payload: []byte("b")}, {Payload: []byte("c")}}) {
		if res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	if _, err := s.EnsureSubscription("sub", subscription.Exclusive, subscription.Earliest); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *paramsFixture) do(method, path string) (int, map[string]any) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.url+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	return resp.StatusCode, body
}

// state renders what the node holds: tenants, streams with their offsets,
// the subscription's backlog, and the mounted route's calls.
func (f *paramsFixture) state() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tenants %v\n", f.node.Tenants())
	for _, s := range f.node.Streams("", "") {
		fmt.Fprintf(&b, "%s %d-%d subs %v\n", s.Name(), s.Source().StartOffset(), s.Source().EndOffset(), s.SubscriptionStats()["sub"].Backlog)
	}
	fmt.Fprintf(&b, "mounted %d\n", f.mounted)
	return b.String()
}

func (f *paramsFixture) concrete(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = regexp.MustCompile(`\{[a-z]+\}`).ReplaceAllStringFunc(path, func(w string) string {
		return map[string]string{"{fabric}": "_system", "{stream}": "s", "{sub}": "sub", "{tenant}": "fresh",
			"{peer}": "eu", "{state}": "down"}[w]
	})
	return method, path
}

// TestEveryRouteRefusesAnUnknownParameter walks the route table, mounted
// routes included: a parameter a route does not declare is a 400 naming
// it, and nothing changes.
func TestEveryRouteRefusesAnUnknownParameter(t *testing.T) {
	f := newParamsFixture(t)
	before := f.state()
	if len(f.h.routes) < 15 {
		t.Fatalf("only %d routes", len(f.h.routes))
	}
	for _, rt := range f.h.routes {
		method, path := f.concrete(rt.pattern)
		for _, junk := range []string{"junkParam=1", "forse=true", "Global=false"} {
			status, body := f.do(method, path+"?"+junk)
			name, _, _ := strings.Cut(junk, "=")
			msg, _ := body["errorMessage"].(string)
			if status != http.StatusBadRequest || body["errorNum"] != float64(10) || !strings.Contains(msg, `unknown query parameter "`+name+`"`) {
				t.Errorf("%s %s?%s: %d %v", method, path, junk, status, body)
			}
		}
	}
	if after := f.state(); after != before {
		t.Fatalf("state changed:\n%s\n%s", before, after)
	}
}

// TestEveryDeclaredParameterRefusesAnInvalidValue: a declared parameter
// with a value it does not take is a 400 naming it, and nothing changes
// (force=yes deleted nothing but was not refused either).
func TestEveryDeclaredParameterRefusesAnInvalidValue(t *testing.T) {
	f := newParamsFixture(t)
	before := f.state()
	checked := 0
	for _, rt := range f.h.routes {
		method, path := f.concrete(rt.pattern)
		for _, p := range rt.params.Params() {
			v := p.Invalid()
			if v == "" {
				continue
			}
			q := url.Values{p.Name(): {v}}
			status, body := f.do(method, path+"?"+q.Encode())
			msg, _ := body["errorMessage"].(string)
			if status != http.StatusBadRequest || !strings.Contains(msg, "query parameter "+p.Name()+"=") {
				t.Errorf("%s %s?%s: %d %v", method, path, q.Encode(), status, body)
			}
			checked++
		}
	}
	if checked < 10 {
		t.Fatalf("only %d parameters checked", checked)
	}
	if after := f.state(); after != before {
		t.Fatalf("state changed:\n%s\n%s", before, after)
	}
}

// TestStreamParameterRules: what the stream admin routes accept and what
// each accepted value does.
func TestStreamParameterRules(t *testing.T) {
	f := newParamsFixture(t)
	const p = "/_fabric/_system/_api/streams"
	cases := []struct {
		method, path string
		status       int
	}{
		{"POST", p + "/local?global=false&persistent=true", 201},
		{"POST", p + "/glob?global=true", 201},
		{"POST", p + "/g2?global=1&token=t", 201},
		{"POST", p + "/g3?global=yes", 400},
		{"POST", p + "/g4?global=true&global=false", 400},
		{"POST", p + "/r1?replicas=1", 201},
		{"POST", p + "/r3?replicas=3", 400}, // a region of one node holds one copy
		{"POST", p + "/r0?replicas=0", 400},
		{"POST", p + "/r8?replicas=8", 400},
		{"GET", p + "/s?persistent=true", 200},
		{"GET", p + "/s/subscriptions?persistent=true", 200},
		{"POST", p + "/s/subscriptions/sub/skip?count=1", 200},
		{"POST", p + "/s/subscriptions/sub/skip?count=0", 400},
		{"POST", p + "/s/subscriptions/sub/reset?messageId=earliest", 200},
		{"POST", p + "/s/subscriptions/sub/reset?messageId=earliest&timestamp=0", 400},
		{"DELETE", p + "/s/subscriptions/sub?force=1", 200},
		{"DELETE", p + "/local?force=TRUE", 200},
	}
	for _, c := range cases {
		if status, body := f.do(c.method, c.path); status != c.status {
			t.Errorf("%s %s: %d, want %d: %v", c.method, c.path, status, c.status, body)
		}
	}
	// A description sent as a body is refused, not ignored.
	resp, err := http.Post(f.url+p+"/withbody", "application/json", strings.NewReader(`{"replicas":1,"partitions":6}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("create with a body: %d, want 400", resp.StatusCode)
	}
	if _, err := f.node.Stream(naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric, Name: "withbody"}); err == nil {
		t.Fatal("a create refused for its body made the stream")
	}
	names := func(q string) string {
		_, body := f.do("GET", p+q)
		var out []string
		for _, s := range body["result"].([]any) {
			out = append(out, s.(map[string]any)["name"].(string))
		}
		slices.Sort(out)
		return strings.Join(out, ",")
	}
	for q, want := range map[string]string{"": "g2,glob,r1,s", "?global=true": "g2,glob", "?global=false": "r1,s"} {
		if got := names(q); got != want {
			t.Errorf("list%s: %s, want %s", q, got, want)
		}
	}
}
