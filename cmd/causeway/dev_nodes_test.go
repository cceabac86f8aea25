package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/internal/testnet"
	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/server/regionapi"
)

// TestFabricFileNodes: fabric.json's region lists its nodes; a region
// without the list (every fabric.json written before) is its one node.
func TestFabricFileNodes(t *testing.T) {
	dir := t.TempDir()
	old := `{"regions":[{"name":"us-east","http":"http://127.0.0.1:8080","ws":"ws://127.0.0.1:8080","kafka":"127.0.0.1:9092",
"repl":"127.0.0.1:7400","admin":"http://127.0.0.1:8080/_api/replication","data":"d/us-east"}],"wan":{"latency":"0s","jitter":"0s","loss":0}}`
	if err := os.WriteFile(filepath.Join(dir, fabricFileName), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	ff, err := readFabricFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	nodes := ff.Regions[0].nodes()
	if len(nodes) != 1 || nodes[0] != (fabricNode{ID: 1, HTTP: "http://127.0.0.1:8080", WS: "ws://127.0.0.1:8080", Kafka: "127.0.0.1:9092", Data: "d/us-east"}) {
		t.Fatalf("single-node form: %+v", nodes)
	}
	ff.Regions[0].Nodes = []fabricNode{{ID: 1, HTTP: "http://a:1", Raft: "a:2", DataAddr: "a:3"}, {ID: 2, HTTP: "http://b:1", Raft: "b:2", DataAddr: "b:3", MetadataOnly: true}}
	if err := writeFabricFile(filepath.Join(dir, fabricFileName), ff); err != nil {
		t.Fatal(err)
	}
	back, err := readFabricFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Regions[0].nodes(); len(got) != 2 || got[1] != ff.Regions[0].Nodes[1] {
		t.Fatalf("nodes: %+v", got)
	}
}

// TestPrintRegions: status shows nodes, the group leader, who leads which
// unit, its epoch, replicas and in-sync set, and a unit below its
// minimum in-sync set.
func TestPrintRegions(t *testing.T) {
	st := region.NewState()
	for id := region.NodeID(1); id <= 3; id++ {
		st.Nodes[id] = &region.Node{ID: id, Incarnation: 0xab + uint64(id), Status: region.NodeActive,
			Addrs: region.Addrs{HTTP: "http://n" + strconv.Itoa(int(id)), Raft: "n:7600", Data: "n:7700"}}
	}
	st.Nodes[3].Status = region.NodeFenced
	st.Units["stream:t/f/a"] = &region.Unit{ID: "stream:t/f/a", Factor: 3, Replicas: []region.NodeID{1, 2, 3}, Leader: 2, Epoch: 4,
		InSync: []region.Member{{Node: 1, Incarnation: 0xac}, {Node: 2, Incarnation: 0xad}}}
	st.Units["stream:t/f/b"] = &region.Unit{ID: "stream:t/f/b", Factor: 3, Replicas: []region.NodeID{3, 1, 2}, Epoch: 7,
		InSync: []region.Member{{Node: 1, Incarnation: 0xac}}}
	var out bytes.Buffer
	printRegions(&out, []regionapi.View{regionapi.NewView("us-east", 1, 2, st)})
	s := out.String()
	for _, want := range []string{
		"region us-east: 3 nodes; metadata group led by node 2 (as node 1 sees it",
		"2 (group leader)   active   ad            http://n2   n:7600   n:7700         1\n",
		"fenced",
		"stream:t/f/a   2                4       1,2,3      1,2       2 of 3 in sync\n",
		"stream:t/f/b   none (offline)   7       3,1,2      1         1 of 3 in sync, below 2: writes wait",
	} {
		if !strings.Contains(s, want) {
			t.Fatalf("no %q in\n%s", want, s)
		}
	}
	out.Reset()
	printRegions(&out, []regionapi.View{regionapi.NewView("eu", 2, 0, region.NewState())})
	if !strings.Contains(out.String(), "no leader known") || !strings.Contains(out.String(), "units: none") {
		t.Fatalf("an empty region:\n%s", out.String())
	}
}

// TestDevGeoRegionsOfThreeNodes runs `causeway dev --regions
// us-east,eu-west --nodes 3`: fabric.json lists three serving nodes per
// region, each with its own replication address (peer TLS on); every node
// serves the region's streams and answers 501 for collections; in each
// region exactly one node runs the region's replication (the others
// answer 503 on its admin endpoint). Messages published through node 2 of
// us-east are consumed through node 3 of eu-west, `causeway status`
// shows the lag between the regions and their nodes, and SIGTERM stops
// the fabric cleanly.
func TestDevGeoRegionsOfThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := causewayBinary(t)
	dir := t.TempDir()
	ports := testnet.FreeRanges(t, 6, 6, 12) // HTTP, replication, cluster (Raft and data) of two regions of three nodes
	start := time.Now()
	dev := startDev(t, bin, dir, "--regions", "us-east,eu-west", "--nodes", "3", "--data", dir, "--fsync", "never",
		"--http-port", strconv.Itoa(ports[0]), "--kafka-port", "-1", "--repl-port", strconv.Itoa(ports[1]),
		"--cluster-port", strconv.Itoa(ports[2]), "--spot-port", "0")
	ff := dev.fabric
	if len(ff.Regions) != 2 || ff.ReplCA == "" {
		t.Fatalf("fabric.json: %+v", ff)
	}
	repls := map[string]bool{}
	for _, r := range ff.Regions {
		if len(r.Nodes) != 3 || r.Nodes[0].HTTP != r.HTTP || r.Repl != r.Nodes[0].Repl || !strings.HasSuffix(r.Admin, "/_api/replication") {
			t.Fatalf("region %s: %+v", r.Name, r)
		}
		for _, n := range r.Nodes {
			if n.MetadataOnly || n.Repl == "" || repls[n.Repl] || n.Raft == "" || n.DataAddr == "" || n.Data == "" || n.WS == "" {
				t.Fatalf("region %s node %d: %+v", r.Name, n.ID, n)
			}
			repls[n.Repl] = true
		}
	}
	us, eu := ff.Regions[0], ff.Regions[1]
	out := dev.waitOutput("2 regions of 3 nodes each, every node serving its region",
		"Each region's SPOT group has one replica on each of its first nodes", "SPOT collections (",
		eu.Nodes[2].Repl, "causeway produce --url "+us.Nodes[1].HTTP, "consume --url "+eu.Nodes[2].HTTP)
	for _, no := range []string{"metadata group only"} {
		if strings.Contains(out, no) {
			t.Fatalf("the how-to holds %q:\n%s", no, out)
		}
	}

	// In each region one node runs the region's replication, joined and
	// linked to the other region; the others answer 503.
	t.Setenv(tokenEnv, ff.AdminKey)
	client := adminClient(ff.AdminKey)
	for _, r := range ff.Regions {
		for deadline := time.Now().Add(geoTimeout); ; {
			running, refused := 0, 0
			var last error
			for _, n := range r.Nodes {
				st, err := fetchStatus(client, n.HTTP)
				switch {
				case err == nil && st.Joined && len(st.Peers) == 1 && st.Peers[0].Link.Connected:
					running++
				case err != nil && strings.Contains(err.Error(), "503"):
					refused++
				default:
					last = err
				}
			}
			if running == 1 && refused == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("region %s: %d nodes running its replication, %d answering 503, want 1 and 2 (%v)\n%s", r.Name, running, refused, last, tail(dev.errOut.String(), 8000))
			}
			time.Sleep(100 * time.Millisecond) // polling a process with a deadline
		}
	}
	// Every node serves streams and collections.
	for _, r := range ff.Regions {
		for _, n := range r.Nodes {
			for path, want := range map[string]int{"/_fabric/_system/_api/streams": http.StatusOK, "/_fabric/_system/_api/collection": http.StatusOK} {
				// 503 while the region settles (the collections' catalog is
				// read from the region's group): retried, as a client would.
				deadline := time.Now().Add(geoTimeout)
				for {
					resp, err := client.Get(n.HTTP + path)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if resp.StatusCode == want {
						break
					}
					if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
						t.Fatalf("%s node %d GET %s: %s, want %d", r.Name, n.ID, path, resp.Status, want)
					}
					time.Sleep(100 * time.Millisecond) // a client's backoff before retrying a 503
				}
			}
		}
	}

	// SPOT: a collection homed in us-east created through eu-west node 3,
	// written through us-east node 2, read through eu-west node 1
	// (forwarded to us-east's nodes in turn).
	spotCall := func(id, method, base, path, body string, want int) string {
		t.Helper()
		deadline := time.Now().Add(geoTimeout)
		for {
			req, err := http.NewRequest(method, base+path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if id != "" {
				req.Header.Set("X-Causeway-Request-Id", id) // a retry applies once
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want || (want == http.StatusOK && method == http.MethodPost && resp.StatusCode == http.StatusConflict) {
				return string(b)
			}
			if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
				t.Fatalf("%s %s through %s: %s %s, want %d", method, path, base, resp.Status, b, want)
			}
			time.Sleep(100 * time.Millisecond) // a client's backoff before retrying a 503
		}
	}
	spotCall("create", http.MethodPost, eu.Nodes[2].HTTP, "/_fabric/_system/_api/collection", `{"name":"accounts","isSpot":true,"homeRegion":"us-east"}`, http.StatusOK)
	spotCall("insert-a", http.MethodPost, us.Nodes[1].HTTP, "/_fabric/_system/_api/transaction",
		`{"operations":[{"op":"insert","collection":"accounts","key":"a","doc":{"balance":100}}]}`, http.StatusOK)
	if got := spotCall("", http.MethodGet, eu.Nodes[0].HTTP, "/_fabric/_system/_api/document/accounts/a?consistency=strong", "", http.StatusOK); !strings.Contains(got, `"balance":100`) {
		t.Fatalf("SPOT document read through eu-west node 1: %s", got)
	}

	const n = 20
	var lines []string
	for i := range n {
		lines = append(lines, fmt.Sprintf("m%02d", i))
	}
	type result struct {
		out, err string
		code     int
	}
	consumed := make(chan result, 1)
	go func() {
		var o, e bytes.Buffer
		code := run([]string{"consume", "--url", eu.Nodes[2].HTTP, "--stream", "orders", "--subscription", "tour",
			"--initial", "earliest", "--count", strconv.Itoa(n), "--timeout", "45s"}, nil, &o, &e)
		consumed <- result{o.String(), e.String(), code}
	}()
	var o, e bytes.Buffer
	if code := run([]string{"produce", "--url", us.Nodes[1].HTTP, "--stream", "orders"}, strings.NewReader(strings.Join(lines, "\n")+"\n"), &o, &e); code != 0 {
		t.Fatalf("produce through us-east node 2: exit %d: %s", code, e.String())
	}
	res := <-consumed
	if got := strings.Fields(res.out); res.code != 0 || strings.Join(got, " ") != strings.Join(lines, " ") {
		t.Fatalf("consumed through eu-west node 3: exit %d %q (%s), want %q", res.code, got, res.err, lines)
	}

	var sout, serr bytes.Buffer
	if code := run([]string{"status", "--data", dir}, nil, &sout, &serr); code != 0 || !strings.Contains(sout.String(), "lag (ops)") ||
		!strings.Contains(sout.String(), "region us-east: 3 nodes") || !strings.Contains(sout.String(), "region eu-west: 3 nodes") {
		t.Fatalf("status: exit %d\n%s%s", code, sout.String(), serr.String())
	}
	dev.stop()
	if _, err := os.Stat(filepath.Join(dir, fabricFileName)); !os.IsNotExist(err) {
		t.Fatalf("fabric.json left behind: %v", err)
	}
	t.Logf("run and stopped in %s", time.Since(start).Round(time.Millisecond))
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
