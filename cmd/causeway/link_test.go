package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/causeway/causeway/replicator/shell"
)

// TestSetRegionLinkAsksEveryNode: in a region of several nodes every node
// is asked (the one running the region's replication applies the change,
// the others keep it for when it moves to them); a node that refuses does
// not fail the change while another took it.
func TestSetRegionLinkAsksEveryNode(t *testing.T) {
	var hits []string
	standby := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits = append(hits, "standby "+r.URL.Path)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":true,"code":503,"errorMessage":"not leading"}`))
	}))
	defer standby.Close()
	runner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits = append(hits, "runner "+r.URL.Path)
		_, _ = w.Write([]byte(`{"error":false,"code":200}`))
	}))
	defer runner.Close()
	r := fabricRegion{Name: "us-east", Admin: standby.URL + shell.AdminPath,
		Nodes: []fabricNode{{ID: 1, HTTP: standby.URL}, {ID: 2, HTTP: runner.URL}, {ID: 3, HTTP: runner.URL + "/"}}}
	if err := setRegionLink(http.DefaultClient, r, "eu-west", "down"); err != nil {
		t.Fatal(err)
	}
	want := "standby " + shell.AdminPath + "/links/eu-west/down|runner " + shell.AdminPath + "/links/eu-west/down|runner " + shell.AdminPath + "/links/eu-west/down"
	if got := strings.Join(hits, "|"); got != want {
		t.Fatalf("asked %q, want %q", got, want)
	}
	// Nobody took it: the error names every node's answer.
	r.Nodes = r.Nodes[:1]
	if err := setRegionLink(http.DefaultClient, r, "eu-west", "up"); err == nil || !strings.Contains(err.Error(), "not leading") {
		t.Fatalf("no node running replication: %v", err)
	}
}
