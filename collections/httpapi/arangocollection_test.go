package httpapi_test

import (
	"net/http"
	"testing"
)

func TestChecksum(t *testing.T) {
	n := startNode(t)
	n.createCollection("one", nil)
	n.createCollection("two", nil)
	sum := func(c, params string) string {
		t.Helper()
		r := n.do("GET", "/_api/collection/"+c+"/checksum"+params, nil).must(t, http.StatusOK)
		if r.body["name"] != c || r.str("revision") == "" {
			t.Fatalf("answer %s", r.raw)
		}
		return r.str("checksum")
	}
	if sum("one", "") != "0" || sum("one", "?withRevisions=true&withData=true") != "0" {
		t.Fatal("an empty collection's checksum is not 0")
	}
	docs := []map[string]any{{"_key": "a", "x": 1, "o": map[string]any{"p": 1, "q": "s"}}, {"_key": "b", "y": []any{1, 2}}, {"_key": "c"}}
	for _, d := range docs {
		n.do("POST", sys+"document/one", d).must(t, http.StatusCreated)
	}
	for i := len(docs) - 1; i >= 0; i-- {
		n.do("POST", "/_db/_system/_api/document/two", docs[i]).must(t, http.StatusCreated)
	}
	// The same documents written in another order: same checksums
	// without revisions, with or without data.
	for _, p := range []string{"", "?withData=true", "?withRevisions=false"} {
		if a, b := sum("one", p), sum("two", p); a != b || a == "0" {
			t.Fatalf("%s: %s vs %s", p, a, b)
		}
	}
	before, beforeData, beforeRevs := sum("one", ""), sum("one", "?withData=true"), sum("one", "?withRevisions=true")
	if sum("one", "?withRevisions=true") != beforeRevs {
		t.Fatal("not deterministic")
	}
	n.do("PATCH", sys+"document/one/b", map[string]any{"y": 3}).must(t, http.StatusCreated)
	if sum("one", "") != before || sum("one", "?withData=true") == beforeData || sum("one", "?withRevisions=true") == beforeRevs {
		t.Fatal("a changed document: keys checksum must stay, data and revisions checksums must change")
	}
	n.do("GET", sys+"collection/one/checksum?withRevision=true", nil).mustError(t, http.StatusBadRequest, 10)
	n.do("GET", sys+"collection/one/checksum?withData=yes", nil).mustError(t, http.StatusBadRequest, 10)
	n.do("GET", sys+"collection/nope/checksum", nil).mustError(t, http.StatusNotFound, 1203)
}

func TestFigures(t *testing.T) {
	n := startNode(t)
	n.createCollection("users", nil)
	for _, k := range []string{"a", "b"} {
		n.do("POST", sys+"document/users", map[string]any{"_key": k, "n": 1}).must(t, http.StatusCreated)
	}
	n.do("POST", sys+"index?collection=users", map[string]any{"type": "persistent", "fields": []any{"n"}, "name": "byN"}).must(t, http.StatusCreated)
	r := n.do("GET", "/_api/collection/users/figures?details=true", nil).must(t, http.StatusOK)
	fig, _ := r.body["figures"].(map[string]any)
	idx, _ := fig["indexes"].(map[string]any)
	eng, _ := fig["engine"].(map[string]any)
	if num(r.body["count"]) != 2 || num(idx["count"]) != 2 || num(fig["documentsSize"]) <= 0 || fig["cacheInUse"] != false ||
		num(eng["documents"]) != 2 || jsonString(eng["indexes"]) != `["primary","byN"]` {
		t.Fatalf("figures %s", r.raw)
	}
	r = n.do("GET", sys+"collection/users/figures", nil).must(t, http.StatusOK)
	if r.body["figures"].(map[string]any)["engine"] != nil {
		t.Fatalf("engine figures without details: %s", r.raw)
	}
	n.do("GET", sys+"collection/users/figures?detail=true", nil).mustError(t, http.StatusBadRequest, 10)
}
