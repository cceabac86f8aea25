package spot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/internal/testnet"
	"github.com/causeway/causeway/server"
	"github.com/causeway/causeway/spot"
)

func startRegion(t *testing.T, region string, sc *spot.Config) *server.Server {
	t.Helper()
	dir := t.TempDir()
	srv, err := server.StartWith(broker.Config{Region: region, DataDir: filepath.Join(dir, region), HTTPAddr: "127.0.0.1:0", Fsync: "never"},
		zap.NewNop(), server.Options{Spot: sc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv
}

func call(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, url, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// TestNodesServeSpotThroughTheCollectionsAPI: two regions started by
// server; a SPOT collection created through the collections API of
// the region without replicas lives in the home region, answers the same
// API in both, refuses transactions over regular collections, and feeds
// its change stream.
func TestNodesServeSpotThroughTheCollectionsAPI(t *testing.T) {
	us := startRegion(t, "us", &spot.Config{
		Replicas:       []spot.ReplicaConfig{{ID: 1, RaftAddress: testnet.FreeAddr(t)}},
		RTTMillisecond: 5, ElectionRTT: 20, HeartbeatRTT: 2,
	})
	eu := startRegion(t, "eu", &spot.Config{Regions: map[string][]string{"us": {us.URL()}}})
	us.Spot.SetRegions(map[string][]string{"eu": {eu.URL()}})
	api := "/_fabric/_system/_api/"

	var created map[string]any
	if s := call(t, http.MethodPost, eu.URL()+api+"collection", `{"name":"acc","isSpot":true,"homeRegion":"us"}`, &created); s != http.StatusOK {
		t.Fatalf("create: %d %v", s, created)
	}
	if created["isSpot"] != true || created["homeRegion"] != "us" {
		t.Fatalf("created %v", created)
	}
	if s := call(t, http.MethodPost, us.URL()+api+"collection", `{"name":"plain"}`, nil); s != http.StatusOK {
		t.Fatalf("create a regular collection: %d", s)
	}
	var w map[string]any
	if s := call(t, http.MethodPost, eu.URL()+api+"document/acc", `{"_key":"a","balance":10}`, &w); s != http.StatusCreated {
		t.Fatalf("insert from eu: %d %v", s, w)
	}
	for _, base := range []string{us.URL(), eu.URL()} {
		var doc map[string]any
		if s := call(t, http.MethodGet, base+api+"document/acc/a", "", &doc); s != http.StatusOK || doc["_rev"] != w["_rev"] {
			t.Fatalf("read from %s: %d %v, want _rev %v", base, s, doc, w["_rev"])
		}
		var desc map[string]any
		if s := call(t, http.MethodGet, base+api+"collection/acc", "", &desc); s != http.StatusOK || desc["isSpot"] != true {
			t.Fatalf("describe from %s: %d %v", base, s, desc)
		}
	}
	// SQL over a SPOT collection, through the same /cursor endpoint, from
	// the home region and from the forwarding one.
	for _, d := range []string{`{"_key":"b","balance":30}`, `{"_key":"c","balance":5}`} {
		if s := call(t, http.MethodPost, us.URL()+api+"document/acc", d, nil); s != http.StatusCreated {
			t.Fatalf("insert %s: %d", d, s)
		}
	}
	for _, base := range []string{us.URL(), eu.URL()} {
		var res struct {
			Result  []map[string]any `json:"result"`
			HasMore bool             `json:"hasMore"`
		}
		q := `{"query":"SELECT _key, balance FROM acc WHERE balance >= @min ORDER BY balance DESC","bindVars":{"min":10}}`
		if s := call(t, http.MethodPost, base+api+"cursor", q, &res); s != http.StatusCreated {
			t.Fatalf("query from %s: %d %v", base, s, res)
		}
		if len(res.Result) != 2 || res.Result[0]["_key"] != "b" || res.Result[1]["_key"] != "a" || res.HasMore {
			t.Fatalf("query from %s: %+v", base, res)
		}
		var bad map[string]any
		if s := call(t, http.MethodPost, base+api+"cursor", `{"query":"SELECT FROM acc WHERE","bindVars":{}}`, &bad); s != http.StatusBadRequest {
			t.Fatalf("bad query from %s: %d %v", base, s, bad)
		}
	}
	var refused map[string]any
	s := call(t, http.MethodPost, eu.URL()+api+"transaction", `{"operations":[{"op":"put","collection":"plain","key":"x","doc":{}}]}`, &refused)
	if s != http.StatusBadRequest || refused["errorCode"] != "not_spot" {
		t.Fatalf("transaction over a regular collection from eu: %d %v", s, refused)
	}
	// A regular collection keeps working through the collections API.
	if s := call(t, http.MethodPost, us.URL()+api+"document/plain", `{"_key":"p"}`, nil); s != http.StatusCreated && s != http.StatusAccepted {
		t.Fatalf("insert into a regular collection: %d", s)
	}
	st, err := us.Node.Stream(naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric, Name: service.ChangeFeedStream("acc")})
	if err != nil {
		t.Fatalf("change feed stream: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for st.Source().EndOffset() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no change event")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStaleReadsInAGeoFabric: with geo-replication on, the SPOT change
// feed reaches the other region, which answers default reads from it
// (marked possibly stale) and strong reads from the home.
func TestStaleReadsInAGeoFabric(t *testing.T) {
	replAddrs := testnet.FreeAddrs(t, 2)
	usRepl, euRepl := replAddrs[0], replAddrs[1]
	const secret = "spot-e2e-fabric-secret"
	start := func(region, repl, peer, peerRepl string, sc *spot.Config) *server.Server {
		srv, err := server.StartWith(broker.Config{
			Region: region, DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Fsync: "never",
			ReplAddr: repl, Peers: map[string]string{peer: peerRepl}, FabricSecret: secret,
		}, zap.NewNop(), server.Options{Spot: sc})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
		})
		return srv
	}
	us := start("us", usRepl, "eu", euRepl, &spot.Config{
		Replicas:       []spot.ReplicaConfig{{ID: 1, RaftAddress: testnet.FreeAddr(t)}},
		RTTMillisecond: 5, ElectionRTT: 20, HeartbeatRTT: 2,
	})
	eu := start("eu", euRepl, "us", usRepl, &spot.Config{Regions: map[string][]string{"us": {us.URL()}}})
	us.Spot.SetRegions(map[string][]string{"eu": {eu.URL()}})
	api := "/_fabric/_system/_api/"
	if s := call(t, http.MethodPost, us.URL()+api+"collection", `{"name":"acc","isSpot":true}`, nil); s != http.StatusOK {
		t.Fatalf("create: %d", s)
	}
	var w map[string]any
	if s := call(t, http.MethodPost, us.URL()+api+"document/acc", `{"_key":"a","n":1}`, &w); s != http.StatusCreated {
		t.Fatalf("insert: %d", s)
	}
	get := func(query string) (string, string, int) {
		resp, err := http.Get(eu.URL() + api + "document/acc/a" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&doc)
		rev, _ := doc["_rev"].(string)
		return rev, resp.Header.Get("X-Causeway-Consistency"), resp.StatusCode
	}
	if rev, how, s := get("?consistency=strong"); s != http.StatusOK || how != "strong" || rev != w["_rev"] {
		t.Fatalf("strong read in eu: %d %s %s", s, how, rev)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		rev, how, _ := get("")
		if how != "possibly-stale" && how != "strong" {
			t.Fatalf("read without a consistency mark: %q", how)
		}
		if how == "possibly-stale" && rev == w["_rev"] {
			break // the change feed arrived and answered
		}
		if time.Now().After(deadline) {
			t.Fatalf("eu never answered from its copy of the change feed (last: %s %s)", how, rev)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
