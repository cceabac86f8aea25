package e2e

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/server"
)

// TestGeoBootstrapFromSnapshot starts a region long after the others wrote
// (the fabric's third region, new): it loads eu-west's snapshot and applies
// only the tail after it, so its op log holds the tail, not the history.
// It then takes part like any region.
func TestGeoBootstrapFromSnapshot(t *testing.T) {
	f := newFabric(t, three, "ap-south")
	us, eu, ap := "us-east", "eu-west", "ap-south"
	f.must(http.StatusOK, us, "POST", sys+"collection", map[string]any{"name": "items"})
	f.eventually("eu has items", func() bool { return f.do(eu, "GET", sys+"collection/items", nil).status == http.StatusOK })
	const docs = 200
	for i, r := range []string{us, eu} {
		var batch []any
		for j := range docs / 2 {
			n := i*docs/2 + j
			batch = append(batch, map[string]any{"_key": "i" + strconv.Itoa(n), "n": n})
		}
		if a := f.do(r, "POST", sys+"document/items", batch); a.status >= 300 {
			t.Fatalf("%s: %d %s", r, a.status, a.raw)
		}
	}
	for _, r := range []string{us, eu} {
		f.eventually(r+" has every insert", func() bool {
			return f.must(http.StatusOK, r, "GET", sys+"collection/items/count", nil).body["count"] == float64(docs)
		})
	}
	for n := 0; n < docs; n += 10 {
		f.must(http.StatusCreated, us, "PATCH", sys+"document/items/i"+strconv.Itoa(n), map[string]any{"tens": true})
	}
	for n := 1; n < docs; n += 10 {
		f.must(http.StatusOK, eu, "DELETE", sys+"document/items/i"+strconv.Itoa(n), nil)
	}
	f.must(http.StatusCreated, eu, "POST", sys+"index?collection=items", map[string]any{"type": "persistent", "fields": []string{"n"}})
	f.must(http.StatusCreated, us, "POST", sys+"restql", map[string]any{"query": map[string]any{"name": "big", "value": "SELECT _key FROM items WHERE n >= @min ORDER BY n", "parameter": map[string]any{"min": 190}}})
	wantCount := float64(docs - docs/10)
	for _, r := range []string{us, eu} {
		f.eventually(r+" converged", func() bool {
			c := f.must(http.StatusOK, r, "GET", sys+"collection/items/count", nil)
			q := f.do(r, "GET", sys+"restql", nil)
			return c.body["count"] == wantCount && q.status == http.StatusOK && len(q.body["result"].([]any)) == 1
		})
	}
	f.sameEverywhere("items", "i0", us, eu)

	f.Options[ap] = server.Options{Collections: service.Options{BootstrapFrom: []string{f.Server(eu).URL()}}}
	f.Start(ap)
	f.eventually("ap has every item", func() bool {
		c := f.do(ap, "GET", sys+"collection/items/count", nil)
		return c.status == http.StatusOK && c.body["count"] == wantCount
	})
	for _, key := range []string{"i0", "i1", "i2", "i150", "i199"} {
		f.sameEverywhere("items", key, three...)
	}
	// ap did not replay history: once its replicator delivered every op
	// of the others (the whole history, the journals are not trimmed),
	// its op log still holds none of them (the snapshot had them all).
	for _, r := range []string{us, eu} {
		own, err := f.Server(r).Repl.Status()
		if err != nil {
			t.Fatal(err)
		}
		f.eventually("ap delivers "+r+"'s history", func() bool {
			st, err := f.Server(ap).Repl.Status()
			return err == nil && st.Applied[r] >= own.Delivered[r] && own.Delivered[r] > 0
		})
	}
	st, err := f.Server(ap).Node.Stream(naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric, Name: service.OpLogStream("items")})
	if err != nil {
		t.Fatal(err)
	}
	if end := st.Source().EndOffset(); end != 0 {
		t.Fatalf("ap's op log holds %d ops after a bootstrap", end)
	}
	a := f.must(http.StatusCreated, ap, "POST", sys+"restql/execute/big", map[string]any{})
	if rows := a.body["result"].([]any); len(rows) != 9 {
		t.Fatalf("saved query in ap: %s", a.raw)
	}
	if a := f.must(http.StatusOK, ap, "GET", sys+"index?collection=items", nil); len(a.body["indexes"].([]any)) != 2 {
		t.Fatalf("indexes in ap: %s", a.raw)
	}
	// It takes part like any region: its writes reach the others and
	// theirs reach it.
	f.must(http.StatusCreated, ap, "PATCH", sys+"document/items/i2", map[string]any{"from": "ap"})
	f.must(http.StatusCreated, us, "PATCH", sys+"document/items/i3", map[string]any{"from": "us"})
	if d := f.sameEverywhere("items", "i2", three...); d["from"] != "ap" {
		t.Fatalf("i2 %v", d)
	}
	if d := f.sameEverywhere("items", "i3", three...); d["from"] != "us" {
		t.Fatalf("i3 %v", d)
	}
	// A restart keeps the bootstrapped view (no second bootstrap).
	f.Stop(ap)
	f.Start(ap)
	if d := f.sameEverywhere("items", "i2", three...); d["from"] != "ap" {
		t.Fatalf("i2 after restart %v", d)
	}
	if c := f.must(http.StatusOK, ap, "GET", sys+"collection/items/count", nil); c.body["count"] != wantCount {
		t.Fatalf("count after restart %s", c.raw)
	}
}
