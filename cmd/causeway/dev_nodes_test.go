package main

import (
	"bytes"
	"encoding/json"
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

// TestDevNodes runs `causeway dev --nodes 3` with two regions: fabric.json
// lists three nodes per region with their addresses, every region's nodes
// form its metadata group (causeway status shows it), node 1 serves the
// region's streams and the other nodes refuse them with 421.
func TestDevNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := causewayBinary(t)
	dir := t.TempDir()
	dev := startDev(t, bin, dir, "--regions", "a,b", "--nodes", "3", "--data", dir, "--fsync", "never",
		"--http-port", strconv.Itoa(testnet.FreeRange(t, 6)), "--kafka-port", "-1", "--repl-port", strconv.Itoa(testnet.FreeRange(t, 2)),
		"--cluster-port", strconv.Itoa(testnet.FreeRange(t, 12)), "--spot-replicas", "1", "--spot-replicas-other", "0")
	ff := dev.fabric
	if len(ff.Regions) != 2 {
		t.Fatalf("fabric.json: %+v", ff)
	}
	for _, r := range ff.Regions {
		if len(r.Nodes) != 3 || r.Nodes[0].HTTP != r.HTTP || r.Nodes[0].MetadataOnly || !r.Nodes[1].MetadataOnly || r.Nodes[2].Raft == "" || r.Nodes[2].DataAddr == "" {
			t.Fatalf("region %s nodes: %+v", r.Name, r.Nodes)
		}
	}
	dev.waitOutput("metadata group only", "nothing is replicated")
	t.Setenv(tokenEnv, ff.AdminKey)
	client := adminClient(ff.AdminKey)
	var views []regionapi.View
	for deadline := time.Now().Add(geoTimeout); ; {
		var errs []error
		views, errs = regionViews(client, [][]string{{ff.Regions[0].Nodes[2].HTTP}, {ff.Regions[1].Nodes[1].HTTP}})
		if len(errs) == 0 && len(views) == 2 && views[0].MetaLeader != 0 && views[1].MetaLeader != 0 &&
			len(views[0].Nodes) == 3 && len(views[1].Nodes) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("regions not formed: %+v %v", views, errs)
		}
		time.Sleep(100 * time.Millisecond) // polling a process with a deadline
	}
	if views[0].Region != "a" || views[1].Region != "b" || views[0].Nodes[1].Addrs.Raft != ff.Regions[0].Nodes[1].Raft {
		t.Fatalf("views: %+v", views)
	}
	var sout, serr bytes.Buffer
	if code := run([]string{"status", "--data", dir}, nil, &sout, &serr); code != 0 ||
		!strings.Contains(sout.String(), "region a: 3 nodes") || !strings.Contains(sout.String(), "region b: 3 nodes") {
		t.Fatalf("status: exit %d\n%s%s", code, sout.String(), serr.String())
	}
	// Node 1 serves the region; the others refuse.
	for i, want := range []int{http.StatusOK, http.StatusMisdirectedRequest} {
		resp, err := client.Get(ff.Regions[0].Nodes[i].HTTP + "/_fabric/_system/_api/streams")
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			ErrorMessage string `json:"errorMessage"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != want || (want != http.StatusOK && !strings.Contains(body.ErrorMessage, "metadata group only")) {
			t.Fatalf("node %d: %d %q, want %d", i+1, resp.StatusCode, body.ErrorMessage, want)
		}
	}
	dev.stop()
}
