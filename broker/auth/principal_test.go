package auth

import (
	"errors"
	"testing"
)

func mustGrants(t *testing.T, s ...string) []Grant {
	t.Helper()
	gs, err := ParseGrants(s)
	if err != nil {
		t.Fatal(err)
	}
	return gs
}

func TestAuthorize(t *testing.T) {
	reader := &Principal{ID: "r", Tenant: "A", Grants: mustGrants(t, "read:fabric/f")}
	admin := &Principal{ID: "a", Tenant: "A", Grants: mustGrants(t, "admin:*")}
	root := &Principal{ID: "root", Tenant: "_mm", Superuser: true}
	streamRead := []Need{{Resource{Kind: Stream, Fabric: "f", Name: "s"}, Read}}
	streamWrite := []Need{{Resource{Kind: Stream, Fabric: "f", Name: "s"}, Write}}
	for _, tc := range []struct {
		name string
		p    *Principal
		a    Access
		want error
	}{
		{"public", reader, Access{Public: true}, nil},
		{"node needs superuser", admin, Access{Node: true}, ErrForbidden},
		{"superuser on node", root, Access{Node: true}, nil},
		{"read own stream", reader, Access{Tenants: []string{"A"}, Needs: streamRead}, nil},
		{"write without grant", reader, Access{Tenants: []string{"A"}, Needs: streamWrite}, ErrForbidden},
		{"other tenant is not found", reader, Access{Tenants: []string{"B"}, Needs: streamRead}, ErrNotFound},
		{"other tenant beats missing grant", reader, Access{Tenants: []string{"B"}, Needs: streamWrite}, ErrNotFound},
		{"tenant admin elsewhere", admin, Access{Tenants: []string{"B"}, Needs: streamRead}, ErrNotFound},
		{"one of two tenants foreign", admin, Access{Tenants: []string{"A", "B"}}, ErrNotFound},
		{"tenant admin at home", admin, Access{Tenants: []string{"A"}, Needs: []Need{{Resource{Kind: Tenant}, Admin}}}, nil},
		{"reader is no tenant admin", reader, Access{Tenants: []string{"A"}, Needs: []Need{{Resource{Kind: Tenant}, Admin}}}, ErrForbidden},
		{"superuser anywhere", root, Access{Tenants: []string{"B"}, Needs: streamWrite}, nil},
	} {
		if got := tc.p.Authorize(tc.a); !errors.Is(got, tc.want) || (tc.want == nil) != (got == nil) {
			t.Errorf("%s: Authorize = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestStreamNeed(t *testing.T) {
	for _, tc := range []struct {
		name string
		act  Action
		want Need
	}{
		{"orders", Write, Need{Resource{Kind: Stream, Fabric: "f", Name: "orders"}, Write}},
		{"_changes.users", Read, Need{Resource{Kind: Collection, Fabric: "f", Name: "users"}, Read}},
		{"_changes.users", Write, Need{Resource{Kind: Collection, Fabric: "f", Name: "users"}, Admin}},
		{"_col.users", Read, Need{Resource{Kind: Collection, Fabric: "f", Name: "users"}, Read}},
		{"_col.users", Write, Need{Resource{Kind: Collection, Fabric: "f", Name: "users"}, Admin}},
		{"_col.", Write, Need{Resource{Kind: Stream, Fabric: "f", Name: "_col."}, Write}},
		{"_colx", Write, Need{Resource{Kind: Stream, Fabric: "f", Name: "_colx"}, Write}},
	} {
		if got := StreamNeed("f", tc.name, tc.act); got != tc.want {
			t.Errorf("StreamNeed(%q, %s) = %+v, want %+v", tc.name, tc.act, got, tc.want)
		}
	}
}

func TestIncludes(t *testing.T) {
	p := &Principal{Tenant: "A", Grants: mustGrants(t, "write:fabric/f", "read:collection/*/users")}
	for _, tc := range []struct {
		want []string
		ok   bool
	}{
		{nil, true},
		{[]string{"read:fabric/f"}, true},
		{[]string{"write:stream/f/x", "read:collection/g/users"}, true},
		{[]string{"admin:fabric/f"}, false},
		{[]string{"read:fabric/*"}, false},
		{[]string{"read:*"}, false},
		{[]string{"write:collection/g/users"}, false},
	} {
		if got := p.Includes(mustGrants(t, tc.want...)); got != tc.ok {
			t.Errorf("Includes(%v) = %v, want %v", tc.want, got, tc.ok)
		}
	}
}
