package e2e

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"testing"
	"time"
)

var three = []string{"ap-south", "eu-west", "us-east"}

// TestGeoCollections runs the multi-region story of collections over HTTP
// on three regions: replicated creation, concurrent writes of different
// attributes merge, concurrent writes of one attribute pick one winner
// everywhere and list the loser as a conflict, key/value expiry, identical
// query results, and a restart that keeps everything.
func TestGeoCollections(t *testing.T) {
	f := newFabric(t, three)
	us, eu, ap := "us-east", "eu-west", "ap-south"

	// A collection created in one region exists in every region.
	f.must(http.StatusOK, us, "POST", sys+"collection", map[string]any{"name": "users"})
	for _, r := range three {
		f.eventually(r+" has users", func() bool { return f.do(r, "GET", sys+"collection/users", nil).status == http.StatusOK })
	}
	f.must(http.StatusCreated, us, "POST", sys+"document/users", map[string]any{"_key": "ann", "age": 31})
	f.sameEverywhere("users", "ann", three...)

	t.Run("merge and conflict", func(t *testing.T) {
		f.Partition(true)
		f.must(http.StatusCreated, us, "PATCH", sys+"document/users/ann", map[string]any{"city": "Paris", "color": "red"})
		f.must(http.StatusCreated, eu, "PATCH", sys+"document/users/ann", map[string]any{"zip": "75001"})
		f.must(http.StatusCreated, ap, "PATCH", sys+"document/users/ann", map[string]any{"color": "blue", "visits": map[string]any{"$inc": 2}})
		f.must(http.StatusCreated, eu, "PATCH", sys+"document/users/ann", map[string]any{"visits": map[string]any{"$inc": 3}})
		if d := f.doc(us, "users", "ann"); d["zip"] != nil {
			t.Fatalf("us sees eu's write across the partition: %v", d)
		}
		f.Partition(false)
		d := f.sameEverywhere("users", "ann", three...)
		if d["age"] != float64(31) || d["city"] != "Paris" || d["zip"] != "75001" || d["visits"] != float64(5) {
			t.Fatalf("merged document %v", d)
		}
		color := d["color"]
		loser := map[any]any{"red": "blue", "blue": "red"}[color]
		if loser == nil {
			t.Fatalf("color %v", color)
		}
		for _, r := range three {
			got := f.doc(r, "users", "ann")
			if !reflect.DeepEqual(got, d) {
				t.Fatalf("%s: %v, %s: %v", r, got, us, d)
			}
			cs := f.must(http.StatusOK, r, "GET", sys+"document/users/ann/conflicts", nil)
			list := conflictList(t, cs)
			if len(list) != 1 || list[0]["value"] != loser || list[0]["path"] != "color" {
				t.Fatalf("%s: conflicts %s, want color=%v", r, cs.raw, loser)
			}
			wantRegion := map[any]string{"red": us, "blue": ap}[loser]
			if list[0]["region"] != wantRegion {
				t.Fatalf("%s: conflict from %v, want %s", r, list[0]["region"], wantRegion)
			}
		}
	})

	t.Run("ttl", func(t *testing.T) {
		f.must(http.StatusOK, eu, "POST", sys+"kv/sessions", map[string]any{})
		for _, r := range three {
			f.eventually(r+" has sessions", func() bool { return f.do(r, "GET", sys+"collection/sessions", nil).status == http.StatusOK })
		}
		at := time.Now().Add(3 * time.Second).Unix()
		f.must(http.StatusOK, eu, "PUT", sys+"kv/sessions/value", []any{
			map[string]any{"_key": "short", "value": "gone soon", "expireAt": at},
			map[string]any{"_key": "long", "value": "stays"},
		})
		for _, r := range three {
			f.eventually(r+" expires short", func() bool {
				return f.do(r, "GET", sys+"kv/sessions/value/short", nil).status == http.StatusNotFound
			})
			f.eventually(r+" deletes short", func() bool {
				a := f.must(http.StatusOK, r, "GET", sys+"kv/sessions/count", nil)
				return a.body["count"] == float64(1)
			})
			if a := f.must(http.StatusOK, r, "GET", sys+"kv/sessions/value/long", nil); a.body["value"] != "stays" {
				t.Fatalf("%s: long = %s", r, a.raw)
			}
		}
	})

	t.Run("queries", func(t *testing.T) {
		f.must(http.StatusOK, ap, "POST", sys+"collection", map[string]any{"name": "items"})
		for _, r := range three {
			f.eventually(r+" has items", func() bool { return f.do(r, "GET", sys+"collection/items", nil).status == http.StatusOK })
		}
		for i, r := range three {
			var batch []any
			for j := range 20 {
				n := i*20 + j
				batch = append(batch, map[string]any{"_key": "i" + strconv.Itoa(n), "score": n % 13, "from": r, "tags": map[string]any{"odd": n%2 == 1}})
			}
			if a := f.do(r, "POST", sys+"document/items", batch); a.status != http.StatusCreated && a.status != http.StatusAccepted {
				t.Fatalf("%s: insert items: %d %s", r, a.status, a.raw)
			}
		}
		f.must(http.StatusCreated, us, "POST", sys+"index?collection=items", map[string]any{"type": "persistent", "fields": []string{"score"}, "name": "by_score"})
		for _, r := range three {
			f.eventually(r+" has 60 items and the index", func() bool {
				c := f.must(http.StatusOK, r, "GET", sys+"collection/items/count", nil)
				ix := f.must(http.StatusOK, r, "GET", sys+"index?collection=items", nil)
				return c.body["count"] == float64(60) && len(ix.body["indexes"].([]any)) == 2
			})
		}
		queries := []map[string]any{
			{"query": "SELECT _key, score, `from` FROM items WHERE score >= @lo AND tags.odd = true ORDER BY score DESC, _key LIMIT 10", "bindVars": map[string]any{"lo": 4}},
			{"query": "SELECT `from`, COUNT(*) AS n, SUM(score) AS s FROM items GROUP BY `from` ORDER BY `from`"},
		}
		for _, q := range queries {
			var first string
			for _, r := range three {
				a := f.must(http.StatusCreated, r, "POST", sys+"cursor", q)
				got, _ := json.Marshal(a.body["result"])
				if first == "" {
					first = string(got)
					if len(a.body["result"].([]any)) == 0 {
						t.Fatalf("%s: no rows for %v", r, q["query"])
					}
				} else if string(got) != first {
					t.Fatalf("%s: %s\nother region: %s", r, got, first)
				}
			}
		}
	})

	t.Run("restart", func(t *testing.T) {
		before := f.doc(eu, "users", "ann")
		f.Stop(eu)
		f.must(http.StatusCreated, us, "POST", sys+"document/users", map[string]any{"_key": "bob", "age": 40})
		f.must(http.StatusCreated, ap, "PATCH", sys+"document/users/ann", map[string]any{"age": 32})
		f.Start(eu)
		f.sameEverywhere("users", "bob", three...)
		d := f.sameEverywhere("users", "ann", three...)
		if d["age"] != float64(32) || d["city"] != before["city"] || d["color"] != before["color"] {
			t.Fatalf("after restart %v, before %v", d, before)
		}
		a := f.must(http.StatusOK, eu, "GET", sys+"document/users/ann/conflicts", nil)
		if len(conflictList(t, a)) != 1 {
			t.Fatalf("conflicts after restart: %s", a.raw)
		}
		if c := f.must(http.StatusOK, eu, "GET", sys+"collection/items/count", nil); c.body["count"] != float64(60) {
			t.Fatalf("items after restart: %s", c.raw)
		}
		// eu writes again after its restart, and everyone sees it.
		f.must(http.StatusCreated, eu, "PATCH", sys+"document/users/bob", map[string]any{"restarted": true})
		if d := f.sameEverywhere("users", "bob", three...); d["restarted"] != true {
			t.Fatalf("bob %v", d)
		}
	})
}

func conflictList(t *testing.T, a answer) []map[string]any {
	t.Helper()
	var raw []any
	switch {
	case a.list != nil:
		raw = a.list
	case a.body != nil:
		raw, _ = a.body["conflicts"].([]any)
		if raw == nil {
			raw, _ = a.body["result"].([]any)
		}
	}
	var out []map[string]any
	for _, x := range raw {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}
