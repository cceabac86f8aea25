package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/tlsutil"
	"github.com/causeway/causeway/internal/testnet"
	"github.com/causeway/causeway/server/regionapi"
)

// TestDevOneRegionOfThreeNodes runs `causeway dev --regions us-east
// --nodes 3`: one region of three nodes without geo-replication (no
// replication listener, no peer certificates), every node serving it.
// Messages published through node 2 are consumed through node 3 (each
// proxied to the stream's leader), the stream is a unit of the region
// with three in-sync replicas, and `causeway status` shows the region.
func TestDevOneRegionOfThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := causewayBinary(t)
	dir := t.TempDir()
	ports := testnet.FreeRanges(t, 3, 3, 6) // HTTP, Kafka, cluster (Raft and data) of three nodes
	dev := startDev(t, bin, dir, "--regions", "us-east", "--nodes", "3", "--data", dir, "--fsync", "never",
		"--http-port", strconv.Itoa(ports[0]), "--kafka-port", strconv.Itoa(ports[1]),
		"--cluster-port", strconv.Itoa(ports[2]), "--spot-replicas", "1", "--spot-port", "0")
	ff := dev.fabric

	// fabric.json: one region, three serving nodes, no replication.
	if len(ff.Regions) != 1 || ff.ReplCA != "" {
		t.Fatalf("fabric.json: %+v", ff)
	}
	r := ff.Regions[0]
	if r.Name != "us-east" || r.Repl != "" || r.Admin != "" || len(r.Nodes) != 3 || r.Nodes[0].HTTP != r.HTTP {
		t.Fatalf("region: %+v", r)
	}
	for _, n := range r.Nodes {
		if n.MetadataOnly || n.Kafka == "" || n.Raft == "" || n.DataAddr == "" || n.Data == "" {
			t.Fatalf("node %d: %+v", n.ID, n)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, tlsutil.DevFabricDir)); !os.IsNotExist(err) {
		t.Fatalf("peer certificates generated for a fabric of one region: %v", err)
	}
	out := dev.waitOutput("one region, us-east, of 3 nodes, every node serving it; no geo-replication",
		"held by 3 of them", "causeway produce --url "+r.Nodes[1].HTTP)
	if strings.Contains(out, "dev link") {
		t.Fatalf("the how-to of a fabric of one region cuts links:\n%s", out)
	}

	// The three nodes form the region's group; a stream created now has
	// three replicas.
	key := ff.AdminKey
	t.Setenv(tokenEnv, key)
	client := adminClient(key)
	for deadline := time.Now().Add(geoTimeout); ; {
		v, many, err := fetchRegionView(client, r.Nodes[2].HTTP)
		active := 0
		for _, n := range v.Nodes {
			if n.Status == "active" {
				active++
			}
		}
		if err == nil && many && v.MetaLeader != 0 && active == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("region not formed: %+v %v %v", v, many, err)
		}
		time.Sleep(100 * time.Millisecond) // polling a process with a deadline
	}
	// Every node serves the region's streams (none is metadata-only).
	for _, n := range r.Nodes {
		resp, err := client.Get(n.HTTP + "/_fabric/_system/_api/streams")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("node %d lists streams: %s", n.ID, resp.Status)
		}
	}

	cli := func(stdin string, args ...string) string {
		t.Helper()
		var o, e bytes.Buffer
		if code := run(args, strings.NewReader(stdin), &o, &e); code != 0 {
			t.Fatalf("causeway %s: exit %d: %s", strings.Join(args, " "), code, e.String())
		}
		return o.String()
	}
	const n = 20
	var lines []string
	for i := range n {
		lines = append(lines, fmt.Sprintf("m%02d", i))
	}
	cli(strings.Join(lines, "\n")+"\n", "produce", "--url", r.Nodes[1].HTTP, "--stream", "orders")
	got := strings.Fields(cli("", "consume", "--url", r.Nodes[2].HTTP, "--stream", "orders", "--subscription", "tour",
		"--initial", "earliest", "--count", strconv.Itoa(n), "--timeout", "60s"))
	if strings.Join(got, " ") != strings.Join(lines, " ") {
		t.Fatalf("consumed through node 3: %q, want %q", got, lines)
	}

	// The stream is a unit of the region with three in-sync replicas, as
	// every node sees it.
	var unit regionapi.UnitView
	for deadline := time.Now().Add(geoTimeout); ; {
		found := 0
		for _, nd := range r.Nodes {
			v, _, err := fetchRegionView(client, nd.HTTP)
			if err != nil {
				continue
			}
			for _, u := range v.Units {
				if strings.HasSuffix(string(u.ID), "/orders") && u.Factor == 3 && len(u.Replicas) == 3 && len(u.InSync) == 3 && u.Leader != 0 {
					unit = u
					found++
				}
			}
		}
		if found == len(r.Nodes) {
			break
		}
		if time.Now().After(deadline) {
			v, _, err := fetchRegionView(client, r.HTTP)
			t.Fatalf("no unit of the stream with 3 in-sync replicas on every node: %+v %v", v.Units, err)
		}
		time.Sleep(100 * time.Millisecond) // polling a process with a deadline
	}
	t.Logf("unit %s led by node %d, in sync %v", unit.ID, unit.Leader, unit.InSync)

	status := cli("", "status", "--data", dir)
	if !strings.Contains(status, "region us-east: 3 nodes") || !strings.Contains(status, "3 of 3 in sync") ||
		!strings.Contains(status, "no geo-replication") || strings.Contains(status, "lag (ops)") {
		t.Fatalf("status:\n%s", status)
	}
	var e bytes.Buffer
	if code := run([]string{"dev", "link", "down", "us-east", "eu-west", "--data", dir}, nil, &bytes.Buffer{}, &e); code != 1 ||
		!strings.Contains(e.String(), `no region "eu-west"`) {
		t.Fatalf("dev link in a fabric of one region: exit %d %s", code, e.String())
	}

	dev.stop()
	if _, err := os.Stat(filepath.Join(dir, fabricFileName)); !os.IsNotExist(err) {
		t.Fatalf("fabric.json left behind: %v", err)
	}
}
