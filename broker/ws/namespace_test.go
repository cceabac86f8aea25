package ws_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/server"
)

// nodeListing is what a refused request must leave unchanged: the tenants,
// the fabrics of every tenant, the streams of every fabric (over the HTTP
// API) and the stream directories on disk.
func nodeListing(t *testing.T, srv *server.Server, dir string) string {
	t.Helper()
	var out []string
	var tenants struct{ Result []string }
	getJSON(t, srv, "/_api/tenant", &tenants)
	for _, tn := range tenants.Result {
		out = append(out, "tenant "+tn)
		for _, f := range srv.Node.Fabrics(tn) {
			var streams struct{ Result []struct{ Topic string } }
			getJSON(t, srv, "/_tenant/"+tn+"/_fabric/"+f.Name+"/_api/streams", &streams)
			out = append(out, "fabric "+tn+"/"+f.Name)
			for _, s := range streams.Result {
				out = append(out, "stream "+s.Topic)
			}
		}
	}
	_ = filepath.WalkDir(filepath.Join(dir, "streams"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			out = append(out, "dir "+p)
		}
		return nil
	})
	slices.Sort(out)
	return strings.Join(out, "\n")
}

func getJSON(t *testing.T, srv *server.Server, path string, v any) {
	t.Helper()
	code, body := httpDo(t, http.MethodGet, "http://"+srv.Addr()+path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, body)
	}
}

// TestUnknownTenantOrFabricRefused: a producer, consumer or reader (JSON
// or binary protocol) naming a tenant or fabric that does not exist is
// refused with 404 before the upgrade, the message naming it, and
// creates nothing; created over the HTTP API they take streams by use.
func TestUnknownTenantOrFabricRefused(t *testing.T) {
	dir := t.TempDir()
	srv := startNode(t, dir, nil)
	dial(t, srv, producerPath("ok")) // a stream by use in _mm/_system
	before := nodeListing(t, srv, dir)
	for _, tc := range []struct{ path, names string }{
		{"/ws/v2/producer/persistent/mm/_system/orders", `tenant not found: "mm"`},
		{"/ws/v2/producer/persistent/_mm/_sytsem/orders", `fabric not found: "_sytsem"`},
		{"/ws/v2/producer/non-persistent/_mm/_sytsem/orders", `fabric not found: "_sytsem"`},
		{"/ws/v2/producer/persistent/_mm/_sytsem/orders?" + binaryQuery, `fabric not found: "_sytsem"`},
		{"/ws/v2/consumer/persistent/mm/_system/orders/sub", `tenant not found: "mm"`},
		{"/ws/v2/consumer/persistent/_mm/_sytsem/orders/sub?" + binaryQuery, `fabric not found: "_sytsem"`},
		{"/ws/v2/reader/persistent/_mm/_sytsem/orders", `fabric not found: "_sytsem"`},
		{"/ws/v2/consumer/persistent/_mm/_sytsem/_changes.users/feed", `fabric not found: "_sytsem"`},
		// The first stream exists in a known fabric; the second's typo
		// refuses the whole consumer, creating neither.
		{"/ws/v3/consumer/sub?topics=persistent://_mm/_system/fresh,persistent://_mm/_sytsem/orders", `fabric not found: "_sytsem"`},
	} {
		c, status, body, err := tryDial(srv, tc.path)
		if err == nil {
			_ = c.Close()
			t.Errorf("%s: accepted", tc.path)
			continue
		}
		if status != http.StatusNotFound || !strings.Contains(body, tc.names) {
			t.Errorf("%s: %d %q, want 404 naming %s", tc.path, status, body, tc.names)
		}
	}
	if after := nodeListing(t, srv, dir); after != before {
		t.Fatalf("refused connections changed the node:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// Created over the HTTP API, the tenant and a fabric take streams by use.
	if code, body := httpDo(t, http.MethodPost, "http://"+srv.Addr()+"/_api/tenant/mm"); code != http.StatusCreated {
		t.Fatalf("create tenant: %d %s", code, body)
	}
	if code, body := httpDo(t, http.MethodPost, "http://"+srv.Addr()+"/_tenant/mm/_fabric/orders/_api/fabric"); code != http.StatusCreated {
		t.Fatalf("create fabric: %d %s", code, body)
	}
	for _, p := range []string{"/ws/v2/producer/persistent/mm/_system/orders", "/ws/v2/producer/persistent/mm/orders/o",
		"/ws/v2/consumer/persistent/mm/orders/o/sub?" + binaryQuery, "/ws/v2/reader/persistent/mm/orders/r"} {
		dial(t, srv, p)
	}
	if _, found := srv.Node.Stream(naming.Stream{Persistent: true, Tenant: "mm", Fabric: "orders", Name: "o"}); found != nil {
		t.Fatalf("stream mm/orders/o: %v", found)
	}
}
