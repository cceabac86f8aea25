package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/causeway/causeway/internal/testnet"
)

// TestDevAQLMergesWithHTTPAcrossRegions runs `causeway dev --regions
// us-east,eu-west` (one node per region), creates a collection and a
// document, cuts the link between the regions with `causeway dev link
// down`, updates the document concurrently - an AQL UPDATE through the
// cursor API in us-east, an HTTP PATCH in eu-west, each setting its own
// attribute and one attribute both set - heals the link, and checks that
// both regions converge to one document holding both updates, with the
// attribute both set resolved to the same value and the losing value
// listed as the same conflict in both regions.
func TestDevAQLMergesWithHTTPAcrossRegions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := causewayBinary(t)
	dir := t.TempDir()
	dev := startDev(t, bin, dir, "--regions", "us-east,eu-west", "--data", dir, "--fsync", "never",
		"--http-port", "0", "--kafka-port", "-1", "--repl-port", strconv.Itoa(testnet.FreeRange(t, 2)))
	ff := dev.fabric
	if len(ff.Regions) != 2 || ff.AdminKey == "" {
		t.Fatalf("fabric.json: %+v", ff)
	}
	east, west := ff.Regions[0].HTTP, ff.Regions[1].HTTP
	client := adminClient(ff.AdminKey)
	const sys = "/_fabric/_system/_api/"

	// do sends a JSON request and returns the status and decoded body.
	do := func(method, url string, body any) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequest(method, url, rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s %s: read: %v", method, url, err)
		}
		var out map[string]any
		if len(raw) > 0 && raw[0] == '{' {
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatalf("%s %s: %v: %s", method, url, err, raw)
			}
		}
		return resp.StatusCode, out
	}
	must := func(want int, method, url string, body any) map[string]any {
		t.Helper()
		st, out := do(method, url, body)
		if st != want {
			t.Fatalf("%s %s: %d %v, want %d", method, url, st, out, want)
		}
		return out
	}
	eventually := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !ok(); {
			if time.Now().After(deadline) {
				t.Fatalf("not within 30s: %s", what)
			}
			time.Sleep(50 * time.Millisecond) // polling the regions with a deadline
		}
	}
	// doc reads the document's user attributes (without _key, _id, _rev)
	// in a region, nil when it is not there.
	doc := func(base string) map[string]any {
		t.Helper()
		st, d := do("GET", base+sys+"document/users/u1", nil)
		if st == http.StatusNotFound {
			return nil
		}
		if st != http.StatusOK {
			t.Fatalf("GET u1 in %s: %d %v", base, st, d)
		}
		for _, k := range []string{"_key", "_id", "_rev"} {
			delete(d, k)
		}
		return d
	}

	must(http.StatusOK, "POST", east+sys+"collection", map[string]any{"name": "users"})
	eventually("eu-west has the collection", func() bool {
		st, _ := do("GET", west+sys+"collection/users", nil)
		return st == http.StatusOK
	})
	must(http.StatusCreated, "POST", east+sys+"document/users", map[string]any{"_key": "u1", "n": 1, "tier": "free"})
	eventually("eu-west has u1", func() bool { return doc(west)["n"] == 1.0 })

	var e bytes.Buffer
	if code := run([]string{"dev", "link", "down", "us-east", "eu-west", "--data", dir}, nil, &bytes.Buffer{}, &e); code != 0 {
		t.Fatalf("dev link down: exit %d %s", code, e.String())
	}
	// Concurrent writes on both sides of the cut: AQL in us-east, PATCH
	// in eu-west; both set tier.
	res := must(http.StatusCreated, "POST", east+sys+"cursor", map[string]any{
		"query":    "FOR u IN @@c FILTER u._key == @k UPDATE u WITH {city: 'Paris', n: u.n + 100, tier: 'gold'} IN @@c RETURN NEW",
		"bindVars": map[string]any{"@c": "users", "k": "u1"},
	})
	if rows, _ := res["result"].([]any); len(rows) != 1 || rows[0].(map[string]any)["city"] != "Paris" {
		t.Fatalf("AQL UPDATE answered %v", res)
	}
	must(http.StatusCreated, "PATCH", west+sys+"document/users/u1", map[string]any{"zip": "75001", "tier": "pro"})
	// Neither side sees the other's write while the link is down (the
	// AQL write was acknowledged before the PATCH, so a working link
	// would have had time to carry it).
	time.Sleep(500 * time.Millisecond) // giving a (wrongly) open link time to deliver
	if d := doc(west); d["city"] != nil || d["tier"] != "pro" {
		t.Fatalf("eu-west during the cut: %v", d)
	}
	if d := doc(east); d["zip"] != nil || d["tier"] != "gold" || d["n"] != 101.0 {
		t.Fatalf("us-east during the cut: %v", d)
	}

	if code := run([]string{"dev", "link", "up", "us-east", "eu-west", "--data", dir}, nil, &bytes.Buffer{}, &e); code != 0 {
		t.Fatalf("dev link up: exit %d %s", code, e.String())
	}
	var de, dw map[string]any
	eventually("both regions hold both updates", func() bool {
		de, dw = doc(east), doc(west)
		return de["zip"] != nil && dw["city"] != nil && reflect.DeepEqual(de, dw)
	})
	if de["city"] != "Paris" || de["zip"] != "75001" || de["n"] != 101.0 || (de["tier"] != "gold" && de["tier"] != "pro") {
		t.Fatalf("merged u1: %v", de)
	}
	// The conflicting attribute: one winner everywhere, the loser kept as
	// the same conflict in both regions.
	loser := map[string]string{"gold": "pro", "pro": "gold"}[de["tier"].(string)]
	conflicts := func(base string) string {
		t.Helper()
		resp, err := client.Get(base + sys + "document/users/u1/conflicts")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("conflicts in %s: %d %s %v", base, resp.StatusCode, raw, err)
		}
		return string(raw)
	}
	ce, cw := conflicts(east), conflicts(west)
	var cs struct {
		Result []struct {
			Path, Value, Region string
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(ce), &cs); err != nil {
		t.Fatalf("conflicts in us-east: %v: %s", err, ce)
	}
	wantRegion := map[string]string{"gold": "us-east", "pro": "eu-west"}[loser]
	if ce != cw || len(cs.Result) != 1 || cs.Result[0].Path != "tier" || cs.Result[0].Value != loser || cs.Result[0].Region != wantRegion {
		t.Fatalf("conflicts: us-east %s, eu-west %s; want the losing tier %q from %s in both", ce, cw, loser, wantRegion)
	}
	// An AQL read answers the same in both regions.
	q := map[string]any{"query": "FOR u IN users FILTER u.city == 'Paris' && u.zip == '75001' RETURN [u._key, u.tier, u.n]"}
	re, rw := must(http.StatusCreated, "POST", east+sys+"cursor", q)["result"], must(http.StatusCreated, "POST", west+sys+"cursor", q)["result"]
	if !reflect.DeepEqual(re, rw) || len(re.([]any)) != 1 {
		t.Fatalf("AQL read: us-east %v, eu-west %v", re, rw)
	}
	t.Logf("merged u1 %v; conflict %s", de, ce)
	dev.stop()
}
