package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestHTTPUnknownTenantOrFabric: creating a stream (or a fabric) in a
// tenant or fabric that does not exist is 404 naming it and creates
// nothing, as the WebSocket and Kafka front ends answer; tenants and
// fabrics created over the API then take streams.
func TestHTTPUnknownTenantOrFabric(t *testing.T) {
	f := newParamsFixture(t)
	listing := func() string {
		var b strings.Builder
		for _, tn := range f.node.Tenants() {
			fmt.Fprintf(&b, "tenant %s: %v\n", tn, f.node.Fabrics(tn))
		}
		for _, s := range f.node.Streams("", "") {
			fmt.Fprintf(&b, "stream %s\n", s.Name())
		}
		return b.String()
	}
	before := listing()
	for _, tc := range []struct{ method, path, body, names string }{
		{"POST", "/_tenant/mm/_fabric/_system/_api/streams/orders", "", `tenant not found: "mm"`},
		{"POST", "/_fabric/_sytsem/_api/streams/orders", "", `fabric not found: "_sytsem"`},
		{"POST", "/_fabric/_sytsem/_api/streams/orders?persistent=false", "", `fabric not found: "_sytsem"`},
		{"POST", "/_fabric/_sytsem/_api/streams/_col.users", "", `fabric not found: "_sytsem"`},
		{"GET", "/_fabric/_sytsem/_api/streams", "", `fabric not found`},
		{"POST", "/_tenant/mm/_fabric/orders/_api/fabric", "", `tenant not found: "mm"`},
		{"POST", "/_tenant/mm/_api/database", `{"name":"orders"}`, `tenant not found: "mm"`},
	} {
		req, err := http.NewRequest(tc.method, f.url+tc.path, bytes.NewBufferString(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e envelope
		_ = json.NewDecoder(resp.Body).Decode(&e)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(e.ErrorMessage, tc.names) {
			t.Errorf("%s %s: %d %q, want 404 naming %s", tc.method, tc.path, resp.StatusCode, e.ErrorMessage, tc.names)
		}
	}
	if after := listing(); after != before {
		t.Fatalf("refused requests changed the node:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	for _, step := range []struct {
		method, path string
		want         int
	}{
		{"POST", "/_api/tenant/mm", http.StatusCreated},
		{"POST", "/_tenant/mm/_fabric/_system/_api/streams/orders", http.StatusCreated},
		{"POST", "/_tenant/mm/_fabric/orders/_api/fabric", http.StatusCreated},
		{"POST", "/_tenant/mm/_fabric/orders/_api/streams/o", http.StatusCreated},
		{"GET", "/_tenant/mm/_fabric/orders/_api/streams", http.StatusOK},
	} {
		if code, body := f.do(step.method, step.path); code != step.want {
			t.Fatalf("%s %s: %d %v, want %d", step.method, step.path, code, body, step.want)
		}
	}
}
