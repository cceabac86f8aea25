package auth

import (
	"errors"
	"math/rand/v2"
	"testing"
)

func TestParseGrant(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Grant
		err  bool
	}{
		{in: "admin:*", want: Grant{Action: Admin, Scope: Tenant}},
		{in: "read:fabric/_system", want: Grant{Action: Read, Scope: Fabric, Fabric: "_system"}},
		{in: "read:fabric/*", want: Grant{Action: Read, Scope: Fabric, Fabric: "*"}},
		{in: "write:stream/_system/orders", want: Grant{Action: Write, Scope: Stream, Fabric: "_system", Name: "orders"}},
		{in: "write:stream/*/*", want: Grant{Action: Write, Scope: Stream, Fabric: "*", Name: "*"}},
		{in: "read:collection/f1/users", want: Grant{Action: Read, Scope: Collection, Fabric: "f1", Name: "users"}},
		{in: "", err: true},
		{in: "admin", err: true},
		{in: "root:*", err: true},
		{in: "READ:*", err: true},
		{in: "read:", err: true},
		{in: "read:fabric", err: true},
		{in: "read:fabric/", err: true},
		{in: "read:fabric/a/b", err: true},
		{in: "read:stream/f", err: true},
		{in: "read:stream/f/s/x", err: true},
		{in: "read:topic/f/s", err: true},
		{in: "read:fabric/..", err: true},
		{in: "read:stream/f/..", err: true},
		{in: "read:stream/f/a%2Fb", err: true},
		{in: "read:stream/f/оrders", err: true}, // Cyrillic о
		{in: "read:stream/f/a*", err: true},
		{in: "read:**", err: true},
	} {
		g, err := ParseGrant(tc.in)
		if tc.err {
			if !errors.Is(err, ErrBadGrant) {
				t.Errorf("ParseGrant(%q) = %+v, %v; want ErrBadGrant", tc.in, g, err)
			}
			continue
		}
		if err != nil || g != tc.want {
			t.Errorf("ParseGrant(%q) = %+v, %v; want %+v", tc.in, g, err, tc.want)
			continue
		}
		if back := g.String(); back != tc.in {
			t.Errorf("ParseGrant(%q).String() = %q", tc.in, back)
		}
	}
}

func TestGrantCovers(t *testing.T) {
	stream := Resource{Kind: Stream, Fabric: "f", Name: "s"}
	coll := Resource{Kind: Collection, Fabric: "f", Name: "s"}
	fab := Resource{Kind: Fabric, Fabric: "f"}
	ten := Resource{Kind: Tenant}
	for _, tc := range []struct {
		grant string
		res   Resource
		act   Action
		want  bool
	}{
		{"admin:*", ten, Admin, true},
		{"read:*", ten, Admin, false},
		{"read:*", stream, Read, true},
		{"read:*", stream, Write, false},
		{"write:*", stream, Read, true},
		{"admin:fabric/f", fab, Admin, true},
		{"admin:fabric/f", stream, Admin, true},
		{"admin:fabric/f", coll, Write, true},
		{"admin:fabric/f", ten, Read, false},
		{"admin:fabric/g", stream, Read, false},
		{"read:fabric/*", Resource{Kind: Stream, Fabric: "g", Name: "x"}, Read, true},
		{"write:stream/f/s", stream, Write, true},
		{"write:stream/f/s", stream, Admin, false},
		{"write:stream/f/s", coll, Read, false},
		{"write:stream/f/s", fab, Read, false},
		{"write:stream/f/t", stream, Read, false},
		{"write:stream/*/s", stream, Read, true},
		{"write:stream/f/*", stream, Read, true},
		{"read:collection/f/s", coll, Read, true},
		{"read:collection/f/s", stream, Read, false},
		{"read:collection/f/*", coll, Write, false},
	} {
		g, err := ParseGrant(tc.grant)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Covers(tc.res, tc.act); got != tc.want {
			t.Errorf("%s covers %v %s = %v, want %v", tc.grant, tc.res, tc.act, got, tc.want)
		}
	}
}

// TestGrantIncludesProperty checks Includes against Covers: when g
// includes h, every (resource, action) h covers g covers too; and when g
// does not include h, some (resource, action) h covers escapes g.
func TestGrantIncludesProperty(t *testing.T) {
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("seed %d", seed)
	names := []string{"a", "b", Any}
	pick := func() string { return names[rng.IntN(len(names))] }
	randGrant := func() Grant {
		g := Grant{Action: Action(1 + rng.IntN(3)), Scope: Kind(1 + rng.IntN(4))}
		switch g.Scope {
		case Fabric:
			g.Fabric = pick()
		case Stream, Collection:
			g.Fabric, g.Name = pick(), pick()
		}
		return g
	}
	// Every resource over the names a, b and c (c stands for "any other").
	var resources []Resource
	resources = append(resources, Resource{Kind: Tenant})
	for _, f := range []string{"a", "b", "c"} {
		resources = append(resources, Resource{Kind: Fabric, Fabric: f})
		for _, n := range []string{"a", "b", "c"} {
			resources = append(resources, Resource{Kind: Stream, Fabric: f, Name: n}, Resource{Kind: Collection, Fabric: f, Name: n})
		}
	}
	for i := 0; i < 20000; i++ {
		g, h := randGrant(), randGrant()
		escapes := false
		for _, r := range resources {
			for act := Read; act <= Admin; act++ {
				if h.Covers(r, act) && !g.Covers(r, act) {
					escapes = true
				}
			}
		}
		if g.Includes(h) == escapes {
			t.Fatalf("seed %d: %s includes %s = %v, but escaping resources: %v", seed, g, h, g.Includes(h), escapes)
		}
	}
}
