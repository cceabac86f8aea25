package auth

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"reflect"
	"testing"
)

func TestClassify(t *testing.T) {
	rt := NewRouter()
	st := func(f, s string, a Action) []Need { return []Need{{Resource{Kind: Stream, Fabric: f, Name: s}, a}} }
	co := func(f, c string, a Action) []Need { return []Need{{Resource{Kind: Collection, Fabric: f, Name: c}, a}} }
	fa := func(f string, a Action) []Need { return []Need{{Resource{Kind: Fabric, Fabric: f}, a}} }
	tenantAdmin := []Need{{Resource{Kind: Tenant}, Admin}}
	for _, tc := range []struct {
		method, target string
		want           Access
	}{
		{"GET", "/health", Access{Public: true}},
		{"GET", "/metrics", Access{Node: true}},
		{"GET", "/_api/tenant", Access{Node: true}},
		{"POST", "/_api/tenant/B", Access{Node: true, Audit: "tenant.create"}},
		{"POST", "/_api/replication/links/eu/down", Access{Node: true, Audit: "replication.link"}},
		{"POST", "/_api/replication/regions/eu/evict", Access{Node: true, Audit: "replication.evict"}},
		{"POST", "/_api/spot/replicas/1/stop", Access{Node: true, Audit: "spot.replica"}},
		{"DELETE", "/_api/replication/something/new", Access{Node: true, Audit: "node.admin"}},
		{"GET", "/_api/unknown", Access{Node: true}},
		{"GET", "/_api/key", Access{TenantScoped: true, Needs: tenantAdmin}},
		{"POST", "/_api/key", Access{TenantScoped: true, Needs: tenantAdmin, Audit: "key.create"}},
		{"DELETE", "/_api/key/0123456789abcdef", Access{TenantScoped: true, Needs: tenantAdmin, Audit: "key.revoke"}},
		{"PUT", "/_api/key/0123456789abcdef/permissions", Access{TenantScoped: true, Needs: tenantAdmin, Audit: "key.grants"}},
		{"POST", "/_api/token", Access{TenantScoped: true}},
		{"GET", "/_fabric/f/_api/streams", Access{TenantScoped: true, Needs: fa("f", Read)}},
		{"POST", "/_fabric/f/_api/streams/s?global=false", Access{TenantScoped: true, Needs: st("f", "s", Admin), Audit: "stream.create"}},
		{"GET", "/_fabric/f/_api/streams/s", Access{TenantScoped: true, Needs: st("f", "s", Read)}},
		{"HEAD", "/_fabric/f/_api/streams/s", Access{TenantScoped: true, Needs: st("f", "s", Read)}},
		{"DELETE", "/_fabric/f/_api/streams/s", Access{TenantScoped: true, Needs: st("f", "s", Admin), Audit: "stream.delete"}},
		{"DELETE", "/_fabric/f/_api/streams/_col.users", Access{TenantScoped: true, Needs: co("f", "users", Admin), Audit: "stream.delete"}},
		{"POST", "/_fabric/f/_api/streams/s/subscriptions/sub/reset", Access{TenantScoped: true, Needs: st("f", "s", Read)}},
		{"DELETE", "/_fabric/f/_api/streams/s/subscriptions/sub", Access{TenantScoped: true, Needs: st("f", "s", Admin), Audit: "subscription.delete"}},
		{"POST", "/_fabric/f/_api/collection", Access{TenantScoped: true, Needs: fa("f", Admin), Audit: "collection.create"}},
		{"GET", "/_fabric/f/_api/collection/users/count", Access{TenantScoped: true, Needs: co("f", "users", Read)}},
		{"DELETE", "/_fabric/f/_api/collection/users", Access{TenantScoped: true, Needs: co("f", "users", Admin), Audit: "collection.delete"}},
		{"POST", "/_fabric/f/_api/document/users", Access{TenantScoped: true, Needs: co("f", "users", Write)}},
		{"GET", "/_fabric/f/_api/document/users/k1", Access{TenantScoped: true, Needs: co("f", "users", Read)}},
		{"PATCH", "/_fabric/f/_api/document/users/k1", Access{TenantScoped: true, Needs: co("f", "users", Write)}},
		{"PUT", "/_fabric/f/_api/kv/cache/value", Access{TenantScoped: true, Needs: co("f", "cache", Write)}},
		{"POST", "/_fabric/f/_api/kv/cache/values", Access{TenantScoped: true, Needs: co("f", "cache", Read)}},
		{"POST", "/_fabric/f/_api/cursor", Access{TenantScoped: true, Needs: fa("f", Read)}},
		{"PUT", "/_fabric/f/_api/cursor/123", Access{TenantScoped: true, Needs: fa("f", Read)}},
		{"POST", "/_fabric/f/_api/index?collection=users", Access{TenantScoped: true, Needs: co("f", "users", Admin), Audit: "index.create"}},
		{"POST", "/_fabric/f/_api/transaction", Access{TenantScoped: true, Needs: fa("f", Write)}},
		{"DELETE", "/_fabric/f/_api/spot/collection/acct", Access{TenantScoped: true, Needs: co("f", "acct", Admin), Audit: "spot.delete"}},
		// Unknown paths and methods need a tenant admin.
		{"GET", "/_fabric/f/_api/unknown", Access{TenantScoped: true, Needs: tenantAdmin}},
		{"PUT", "/_fabric/f/_api/streams/s", Access{TenantScoped: true, Needs: tenantAdmin}},
		{"GET", "/", Access{TenantScoped: true, Needs: tenantAdmin}},
		// An encoded slash stays inside its segment: the name the handler
		// sees (and refuses) is the one authorized.
		{"GET", "/_fabric/f/_api/streams/a%2Fb", Access{TenantScoped: true, Needs: st("f", "a/b", Read)}},
		// WebSocket paths name their tenant.
		{"GET", "/ws/v2/producer/persistent/A/f/s", Access{WebSocket: true, Tenants: []string{"A"}, Needs: st("f", "s", Write)}},
		{"GET", "/ws/v2/consumer/persistent/A/f/s/sub", Access{WebSocket: true, Tenants: []string{"A"}, Needs: st("f", "s", Read)}},
		{"GET", "/ws/v2/reader/non-persistent/B/f/s", Access{WebSocket: true, Tenants: []string{"B"}, Needs: st("f", "s", Read)}},
		{"GET", "/_ws/ws/v2/producer/persistent/A/c8global.f/s", Access{WebSocket: true, Tenants: []string{"A"}, Needs: st("f", "s", Write)}},
		{"GET", "/ws/v2/consumer/persistent/A/f/_changes.users/sub", Access{WebSocket: true, Tenants: []string{"A"}, Needs: co("f", "users", Read)}},
		{"GET", "/ws/v2/producer/persistent/A/f/_changes.users", Access{WebSocket: true, Tenants: []string{"A"}, Needs: co("f", "users", Admin)}},
		{"GET", "/ws/v3/consumer/sub?topics=persistent://A/f/a,persistent://B/f/b", Access{WebSocket: true, Tenants: []string{"A", "B"},
			Needs: append(st("f", "a", Read), st("f", "b", Read)...)}},
		// A WebSocket path that does not parse touches nothing.
		{"GET", "/ws/v2/producer/persistent/A/f", Access{WebSocket: true}},
		{"GET", "/ws/v2/producer/persistent/A/f/оrders", Access{WebSocket: true}},
	} {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		got, err := rt.Classify(r)
		if err != nil {
			t.Errorf("%s %s: %v", tc.method, tc.target, err)
			continue
		}
		got.Target = ""
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %s:\n got %+v\nwant %+v", tc.method, tc.target, got, tc.want)
		}
		if r.Pattern != "" {
			t.Errorf("%s %s: classification left pattern %q on the request", tc.method, tc.target, r.Pattern)
		}
	}
}

func TestClassifyRefusesNonCanonicalPaths(t *testing.T) {
	rt := NewRouter()
	for _, target := range []string{
		"/_fabric/f/_api/streams/../../_api/tenant",
		"/_fabric/f/_api/streams/./s",
		"/_fabric//_api/streams",
		"//health",
		"/ws/v2/producer/persistent/A/../B/f/s",
		"/_fabric/f/_api/%2e%2e/x",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		u, err := url.Parse(target)
		if err != nil {
			t.Fatal(err)
		}
		r.URL = u
		if _, err := rt.Classify(r); !errors.Is(err, ErrNonCanonicalPath) {
			t.Errorf("Classify(%q) = %v, want ErrNonCanonicalPath", target, err)
		}
	}
}
