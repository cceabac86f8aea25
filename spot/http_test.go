package spot

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHTTPBadInput: bad transactions get a clear 4xx and change nothing.
func TestHTTPBadInput(t *testing.T) {
	cfg := testConfig(t, "us", 1)
	n := startNode(t, cfg, Options{Regular: func(r Ref) bool { return r.Collection == "plain" }})
	ctx := ctxT(t)
	c := newHTTPClient(n.url())
	var created struct{ Result CollectionInfo }
	if status, err := c.do(ctx, http.MethodPost, "/_fabric/_system/_api/spot/collection", `{"name":"acc"}`, &created); err != nil || status != http.StatusOK {
		t.Fatalf("create: %d %v", status, err)
	}
	if created.Result.Home != "us" || created.Result.Name != "acc" {
		t.Fatalf("created %+v", created.Result)
	}
	if status, a, err := c.txn(ctx, `{"operations":[{"op":"insert","collection":"acc","key":"a","doc":{"n":1}}]}`); err != nil || status != http.StatusOK {
		t.Fatalf("insert: %d %+v %v", status, a, err)
	}
	digest := func() uint64 {
		st, err := n.svc.ReplicaState(1)
		if err != nil {
			t.Fatal(err)
		}
		return st.Digest
	}
	before := digest()
	bigDoc := `{"op":"put","collection":"acc","key":"b","doc":{"s":"` + strings.Repeat("x", MaxTxnBytes) + `"}}`
	manyOps := strings.Repeat(`{"op":"put","collection":"acc","key":"b","doc":{}},`, MaxTxnOps) + `{"op":"put","collection":"acc","key":"b","doc":{}}`
	cases := []struct {
		name, body string
		status     int
		code       string
		op, pre    int // failing operation and precondition (-1: none named)
	}{
		{"regular collection", `{"operations":[{"op":"put","collection":"plain","key":"b","doc":{}}]}`, 400, "not_spot", -1, -1},
		{"unknown collection", `{"operations":[{"op":"put","collection":"acc","key":"b","doc":{}},{"op":"put","collection":"nope","key":"b","doc":{}}]}`, 404, "collection_not_found", -1, -1},
		{"precondition asking two things", `{"preconditions":[{"collection":"acc","key":"a","rev":"x","exists":true}],"operations":[{"op":"put","collection":"acc","key":"b","doc":{}}]}`, 400, "bad_request", -1, 0},
		{"precondition without a question", `{"preconditions":[{"collection":"acc","key":"a"}],"operations":[{"op":"put","collection":"acc","key":"b","doc":{}}]}`, 400, "bad_request", -1, 0},
		{"path without equals", `{"preconditions":[{"collection":"acc","key":"a","path":["n"],"exists":true}],"operations":[{"op":"put","collection":"acc","key":"b","doc":{}}]}`, 400, "bad_request", -1, 0},
		{"precondition with a bad key", `{"preconditions":[{"collection":"acc","key":"a/b","exists":true}],"operations":[{"op":"put","collection":"acc","key":"b","doc":{}}]}`, 400, "bad_request", -1, 0},
		{"equals that is not JSON", `{"preconditions":[{"collection":"acc","key":"a","path":["n"],"equals":"x}],"operations":[]}`, 400, "bad_request", -1, -1},
		{"failed precondition", `{"preconditions":[{"collection":"acc","key":"a","path":["n"],"equals":2}],"operations":[{"op":"put","collection":"acc","key":"b","doc":{}}]}`, 412, "precondition_failed", -1, 0},
		{"second operation fails", `{"operations":[{"op":"put","collection":"acc","key":"b","doc":{}},{"op":"insert","collection":"acc","key":"a","doc":{}}]}`, 409, "key_exists", 1, -1},
		{"unknown operation", `{"operations":[{"op":"upsert","collection":"acc","key":"b","doc":{}}]}`, 400, "bad_request", 0, -1},
		{"unknown member", `{"operations":[{"op":"put","collection":"acc","key":"b","doc":{}}],"atomic":true}`, 400, "bad_request", -1, -1},
		{"not JSON", `{"operations":`, 400, "bad_request", -1, -1},
		{"no operations", `{"operations":[]}`, 400, "bad_request", -1, -1},
		{"too many operations", `{"operations":[` + manyOps + `]}`, 413, "too_large", -1, -1},
		{"body too large", `{"operations":[` + bigDoc + `]}`, 413, "too_large", -1, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, a, err := c.txn(ctx, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if status != tc.status || a.ErrorCode != tc.code || !a.Error || a.ErrorMessage == "" {
				t.Fatalf("got %d %s %q, want %d %s", status, a.ErrorCode, a.ErrorMessage, tc.status, tc.code)
			}
			if got := idx(a.FailedOperation); got != tc.op {
				t.Fatalf("failedOperation %d, want %d (%s)", got, tc.op, a.ErrorMessage)
			}
			if got := idx(a.FailedPrecondition); got != tc.pre {
				t.Fatalf("failedPrecondition %d, want %d (%s)", got, tc.pre, a.ErrorMessage)
			}
			if digest() != before {
				t.Fatalf("a refused transaction changed the state")
			}
			t.Logf("%d %s", status, a.ErrorMessage)
		})
	}
}

func idx(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

// TestHTTPDocumentsAndKV exercises the document and key/value endpoints of
// SPOT collections, from the home region and from a forwarding one.
func TestHTTPDocumentsAndKV(t *testing.T) {
	f := startFabric(t, 1, 0, nil)
	ctx := ctxT(t)
	if status, err := newHTTPClient(f.away.url()).do(ctx, http.MethodPost, "/_fabric/_system/_api/spot/collection", `{"name":"x"}`, nil); err != nil || status != http.StatusBadRequest {
		t.Fatalf("create homed in a region without replicas: %d %v", status, err)
	}
	for _, spec := range []string{`{"name":"docs","homeRegion":"us"}`, `{"name":"kv","keyValue":true,"homeRegion":"us"}`} {
		// Created through the forwarding region: the request goes home.
		if status, err := newHTTPClient(f.away.url()).do(ctx, http.MethodPost, "/_fabric/_system/_api/spot/collection", spec, nil); err != nil || status != http.StatusOK {
			t.Fatalf("create %s: %d %v", spec, status, err)
		}
	}
	for _, base := range []string{f.home.url(), f.away.url()} {
		c := newHTTPClient(base)
		key := "k" + fmt.Sprint(len(base)%7) + strings.ReplaceAll(strings.TrimPrefix(base, "http://127.0.0.1:"), ":", "")
		var w writeAnswer
		mustStatus(t, ctx, c, http.MethodPost, "/_fabric/_system/_api/document/docs", `{"_key":"`+key+`","n":1,"o":{"a":1}}`, &w, http.StatusCreated)
		rev := w.Rev
		var doc map[string]any
		mustStatus(t, ctx, c, http.MethodGet, "/_fabric/_system/_api/document/docs/"+key, "", &doc, http.StatusOK)
		if doc["_rev"] != rev || doc["_id"] != "docs/"+key {
			t.Fatalf("document %v, want _rev %s", doc, rev)
		}
		mustStatus(t, ctx, c, http.MethodPost, "/_fabric/_system/_api/document/docs", `{"_key":"`+key+`"}`, nil, http.StatusConflict)
		mustStatus(t, ctx, c, http.MethodPatch, "/_fabric/_system/_api/document/docs/"+key+"?keepNull=false", `{"n":{"$inc":2},"o":{"b":2,"a":null}}`, &w, http.StatusCreated)
		mustStatus(t, ctx, c, http.MethodGet, "/_fabric/_system/_api/document/docs/"+key, "", &doc, http.StatusOK)
		if fmt.Sprint(doc["n"], doc["o"]) != "3 map[b:2]" {
			t.Fatalf("after patch: %v", doc)
		}
		req := func(method, path, body, ifMatch string) int {
			r, _ := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
			r.Header.Set("If-Match", `"`+ifMatch+`"`)
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if s := req(http.MethodPut, "/_fabric/_system/_api/document/docs/"+key, `{"x":1}`, rev); s != http.StatusPreconditionFailed {
			t.Fatalf("replace with a stale If-Match: %d", s)
		}
		if s := req(http.MethodDelete, "/_fabric/_system/_api/document/docs/"+key, "", w.Rev); s != http.StatusOK {
			t.Fatalf("delete with the current If-Match: %d", s)
		}
		mustStatus(t, ctx, c, http.MethodGet, "/_fabric/_system/_api/document/docs/"+key, "", nil, http.StatusNotFound)

		var puts []writeAnswer
		mustStatus(t, ctx, c, http.MethodPut, "/_fabric/_system/_api/kv/kv/value", `[{"_key":"`+key+`","value":{"v":[1,2]}},{"_key":"`+key+`x","value":"s","expireAt":1}]`, &puts, http.StatusOK)
		var kv kvAnswer
		mustStatus(t, ctx, c, http.MethodGet, "/_fabric/_system/_api/kv/kv/value/"+key, "", &kv, http.StatusOK)
		if string(kv.Value) != `{"v":[1,2]}` || kv.ExpireAt != -1 {
			t.Fatalf("kv entry %+v", kv)
		}
		mustStatus(t, ctx, c, http.MethodGet, "/_fabric/_system/_api/kv/kv/value/"+key+"x", "", nil, http.StatusNotFound) // expired
		mustStatus(t, ctx, c, http.MethodDelete, "/_fabric/_system/_api/kv/kv/value/"+key, "", nil, http.StatusOK)
		mustStatus(t, ctx, c, http.MethodGet, "/_fabric/_system/_api/kv/kv/value/"+key, "", nil, http.StatusNotFound)
		mustStatus(t, ctx, c, http.MethodPut, "/_fabric/_system/_api/kv/docs/value", `{"_key":"a","value":1}`, nil, http.StatusBadRequest)

		var page struct {
			Result  []map[string]any
			HasMore bool
		}
		mustStatus(t, ctx, c, http.MethodGet, "/_fabric/_system/_api/spot/collection/kv/documents?limit=1000", "", &page, http.StatusOK)
	}
	// A request forwarded to a node that is not the home is refused, not
	// forwarded again.
	r, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.away.url()+"/_fabric/_system/_api/transaction",
		strings.NewReader(`{"operations":[{"op":"read","collection":"docs","key":"a"}]}`))
	r.Header.Set(headerForwarded, "mars")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("misrouted forward: %d", resp.StatusCode)
	}
}

func mustStatus(t *testing.T, ctx context.Context, c *httpClient, method, path, body string, out any, want int) {
	t.Helper()
	status, err := c.do(ctx, method, path, body, out)
	if err != nil || status != want {
		var a errorAnswer
		_, _ = c.do(ctx, method, path, body, &a)
		t.Fatalf("%s %s: %d %v (%s), want %d", method, path, status, err, a.ErrorMessage, want)
	}
}

// TestTransactionOnARegularCollectionWithARegionDown: a transaction naming
// a regular collection says so (400 not_spot), also while a region that
// might hold a SPOT collection of that name does not answer - not
// "unavailable".
func TestTransactionOnARegularCollectionWithARegionDown(t *testing.T) {
	cfg := testConfig(t, "us", 1)
	cfg.Regions = map[string][]string{"eu": {"http://127.0.0.1:1"}}
	cfg.RetryTimeout = 300 * time.Millisecond
	n := startNode(t, cfg, Options{Regular: func(r Ref) bool { return r.Collection == "plain" }})
	status, a, err := newHTTPClient(n.url()).txn(ctxT(t), `{"operations":[{"op":"put","collection":"plain","key":"b","doc":{}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusBadRequest || a.ErrorCode != "not_spot" || !strings.Contains(a.ErrorMessage, "regular collection") {
		t.Fatalf("got %d %s %q, want 400 not_spot naming a regular collection", status, a.ErrorCode, a.ErrorMessage)
	}
}
