package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestPlanDev: which fabrics `causeway dev` runs and which flags it
// refuses. Two regions or more are geo-replicated, every node of a region
// of several nodes serving it (its SPOT group spread over its nodes); one region needs two nodes or more, every one serving, and
// refuses the flags of the links between regions.
func TestPlanDev(t *testing.T) {
	for _, tc := range []struct {
		name    string
		regions string
		nodes   int
		set     []string
		want    devPlan
		wantErr string
	}{
		{name: "default fabric", regions: "us-east,eu-west,ap-south", nodes: 1,
			want: devPlan{regions: []string{"us-east", "eu-west", "ap-south"}, nodes: 1, geo: true}},
		{name: "fabric of regions of three nodes", regions: "a,b", nodes: 3, set: []string{"wan-latency", "repl-port", "cluster-port"},
			want: devPlan{regions: []string{"a", "b"}, nodes: 3, geo: true, allServe: true}},
		{name: "fabric of regions of two nodes", regions: "us-east,eu-west,ap-south", nodes: 2,
			want: devPlan{regions: []string{"us-east", "eu-west", "ap-south"}, nodes: 2, geo: true, allServe: true}},
		{name: "fabric of regions of one node keeps SPOT flags", regions: "a,b", nodes: 1, set: []string{"spot-port", "spot-replicas"},
			want: devPlan{regions: []string{"a", "b"}, nodes: 1, geo: true}},
		{name: "SPOT flags in geo regions of several nodes", regions: "a,b", nodes: 3, set: []string{"spot-replicas-other", "spot-port", "http-port"},
			want: devPlan{regions: []string{"a", "b"}, nodes: 3, geo: true, allServe: true}},
		{name: "one region of three nodes", regions: "us-east", nodes: 3, set: []string{"http-port", "kafka-port", "cluster-port", "spot-port"},
			want: devPlan{regions: []string{"us-east"}, nodes: 3, allServe: true}},
		{name: "one region of two nodes", regions: "us-east", nodes: 2,
			want: devPlan{regions: []string{"us-east"}, nodes: 2, allServe: true}},
		{name: "one region of seven nodes", regions: "r", nodes: 7,
			want: devPlan{regions: []string{"r"}, nodes: 7, allServe: true}},
		{name: "one region of one node is serve", regions: "us-east", nodes: 1, wantErr: "one region of one node is `causeway serve --region us-east`"},
		{name: "too many nodes", regions: "us-east", nodes: 8, wantErr: "--nodes 8: want 1 to 7"},
		{name: "no nodes", regions: "a,b", nodes: 0, wantErr: "--nodes 0: want 1 to 7"},
		{name: "no region", regions: "", nodes: 3, wantErr: "--regions: give at least one region name"},
		{name: "WAN flags without links", regions: "us-east", nodes: 3, set: []string{"wan-loss", "wan-latency", "http-port"},
			wantErr: "--wan-latency, --wan-loss: a fabric of one region has no links between regions"},
		{name: "replication flags without links", regions: "us-east", nodes: 3, set: []string{"repl-tls", "fabric-secret", "repl-port", "wan-jitter"},
			wantErr: "--fabric-secret, --repl-port, --repl-tls, --wan-jitter: a fabric of one region"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := map[string]bool{}
			for _, f := range tc.set {
				set[f] = true
			}
			got, err := planDev(tc.regions, tc.nodes, set)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("planDev: %+v, %v; want an error with %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("planDev: %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// TestDevPorts: the ports of every node. Node 1 of each region keeps the
// ports it had with one node per region; the other nodes follow (HTTP,
// Kafka and, with geo-replication, replication alike); Raft ports start
// at the cluster base and data ports follow them; a fabric of one region
// has no replication ports.
func TestDevPorts(t *testing.T) {
	type np = devNodePorts
	bases := devPortBases{HTTP: 8080, Kafka: 9092, Repl: 7400, Cluster: 7600}
	for _, tc := range []struct {
		name  string
		plan  devPlan
		bases devPortBases
		want  [][]devNodePorts
	}{
		{name: "three regions of one node", plan: devPlan{regions: []string{"a", "b", "c"}, nodes: 1, geo: true}, bases: bases,
			want: [][]np{{{8080, 9092, 7400, -1, -1}}, {{8081, 9093, 7401, -1, -1}}, {{8082, 9094, 7402, -1, -1}}}},
		{name: "two regions of three nodes", plan: devPlan{regions: []string{"a", "b"}, nodes: 3, geo: true, allServe: true}, bases: bases,
			want: [][]np{
				{{8080, 9092, 7400, 7600, 7606}, {8082, 9094, 7402, 7601, 7607}, {8083, 9095, 7403, 7602, 7608}},
				{{8081, 9093, 7401, 7603, 7609}, {8084, 9096, 7404, 7604, 7610}, {8085, 9097, 7405, 7605, 7611}},
			}},
		{name: "one region of three nodes", plan: devPlan{regions: []string{"us-east"}, nodes: 3, allServe: true}, bases: bases,
			want: [][]np{{{8080, 9092, -1, 7600, 7603}, {8081, 9093, -1, 7601, 7604}, {8082, 9094, -1, 7602, 7605}}}},
		{name: "one region, ephemeral ports, no Kafka", plan: devPlan{regions: []string{"us-east"}, nodes: 2, allServe: true},
			bases: devPortBases{HTTP: 0, Kafka: -1, Repl: 0, Cluster: 0},
			want:  [][]np{{{0, -1, -1, 0, 0}, {0, -1, -1, 0, 0}}}},
		{name: "two regions of two nodes, ephemeral Kafka and replication", plan: devPlan{regions: []string{"a", "b"}, nodes: 2, geo: true, allServe: true},
			bases: devPortBases{HTTP: 100, Kafka: 0, Repl: 0, Cluster: 200},
			want:  [][]np{{{100, 0, 0, 200, 204}, {102, 0, 0, 201, 205}}, {{101, 0, 0, 202, 206}, {103, 0, 0, 203, 207}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.plan.ports(tc.bases); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ports:\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

// TestNewDevCluster: the addresses of a fabric of one region, fixed and
// ephemeral, and its nodes' options: every node serves, all are voters,
// each knows the others' HTTP URLs; in a fabric of several regions every
// node serves too and has its own replication address, and a region is
// listed to the others with all of them.
func TestNewDevCluster(t *testing.T) {
	plan := devPlan{regions: []string{"us-east"}, nodes: 3, allServe: true}
	c, err := newDevCluster("127.0.0.1", plan, devPortBases{HTTP: 8080, Kafka: 9092, Cluster: 7600})
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"127.0.0.1:8080", "127.0.0.1:8081", "127.0.0.1:8082"}}; !reflect.DeepEqual(c.http, want) {
		t.Fatalf("http %v", c.http)
	}
	if want := [][]string{{"127.0.0.1:9092", "127.0.0.1:9093", "127.0.0.1:9094"}}; !reflect.DeepEqual(c.kafka, want) {
		t.Fatalf("kafka %v", c.kafka)
	}
	if want := [][]string{{"127.0.0.1:7603", "127.0.0.1:7604", "127.0.0.1:7605"}}; !reflect.DeepEqual(c.data, want) {
		t.Fatalf("data %v", c.data)
	}
	if want := [][]string{{"", "", ""}}; !reflect.DeepEqual(c.repl, want) {
		t.Fatalf("a fabric of one region has no replication addresses: %v", c.repl)
	}
	for j := range 3 {
		o := c.options(0, j)
		if o.MetadataOnly || len(o.Meta.Bootstrap) != 3 || len(o.Meta.Peers) != 2 || o.Meta.Secret != c.secret || len(c.secret) < 16 {
			t.Fatalf("node %d options: %+v", j+1, o)
		}
	}
	geo, err := newDevCluster("127.0.0.1", devPlan{regions: []string{"a", "b"}, nodes: 2, geo: true, allServe: true},
		devPortBases{HTTP: 8080, Kafka: -1, Repl: 7400, Cluster: 7600})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		for j := range 2 {
			if o := geo.options(i, j); o.MetadataOnly || len(o.Meta.Bootstrap) != 2 || geo.kafka[i][j] != "" {
				t.Fatalf("a fabric of two regions: region %d node %d must serve, no Kafka: %+v %v", i, j+1, o, geo.kafka)
			}
		}
	}
	if want := [][]string{{"127.0.0.1:7400", "127.0.0.1:7402"}, {"127.0.0.1:7401", "127.0.0.1:7403"}}; !reflect.DeepEqual(geo.repl, want) {
		t.Fatalf("repl %v", geo.repl)
	}
	if got := geo.regionRepl(1); got != "127.0.0.1:7401,127.0.0.1:7403" {
		t.Fatalf("region b as a peer: %q", got)
	}
	ephGeo, err := newDevCluster("127.0.0.1", devPlan{regions: []string{"a", "b"}, nodes: 3, geo: true, allServe: true}, devPortBases{Kafka: -1})
	if err != nil {
		t.Fatal(err)
	}
	seenRepl := map[string]bool{}
	for _, r := range ephGeo.repl {
		for _, a := range r {
			if strings.HasSuffix(a, ":0") || seenRepl[a] {
				t.Fatalf("ephemeral replication addresses not reserved or not distinct: %v", ephGeo.repl)
			}
			seenRepl[a] = true
		}
	}
	eph, err := newDevCluster("127.0.0.1", plan, devPortBases{Kafka: 0})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range append(append(append([]string{}, eph.http[0]...), eph.raft[0]...), eph.data[0]...) {
		if strings.HasSuffix(a, ":0") || seen[a] {
			t.Fatalf("ephemeral addresses not reserved or not distinct: %v %v %v", eph.http, eph.raft, eph.data)
		}
		seen[a] = true
	}
	if eph.kafka[0][2] != "127.0.0.1:0" {
		t.Fatalf("an ephemeral Kafka listener binds port 0: %v", eph.kafka)
	}
}

// TestDevRefusesBeforeStarting: a refused plan writes nothing in the data
// directory (no admin key, no certificates) and exits 1 with the reason.
func TestDevRefusesBeforeStarting(t *testing.T) {
	for _, args := range [][]string{
		{"--regions", "us-east"},
		{"--regions", "us-east", "--nodes", "3", "--wan-latency", "40ms"},
		{"--regions", "us-east", "--nodes", "3", "--repl-tls=false"},
		{"--regions", "a,b", "--nodes", "9"},
	} {
		dir := filepath.Join(t.TempDir(), "dev")
		var out, errOut bytes.Buffer
		code := run(append([]string{"dev", "--data", dir}, args...), nil, &out, &errOut)
		if code != 1 || !strings.HasPrefix(errOut.String(), "causeway dev: ") {
			t.Fatalf("dev %v: exit %d, %q", args, code, errOut.String())
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("dev %v wrote %s: %v", args, dir, err)
		}
	}
}

// TestBenchOneRegionFabric: a fabric.json of one region (causeway dev
// --regions R --nodes N) is refused by the benchmarks' --fabric with what
// they need instead.
func TestBenchOneRegionFabric(t *testing.T) {
	dir := t.TempDir()
	ff := fabricFile{Regions: []fabricRegion{{Name: "us-east", HTTP: "http://127.0.0.1:8080", WS: "ws://127.0.0.1:8080",
		Nodes: []fabricNode{{ID: 1, HTTP: "http://127.0.0.1:8080"}, {ID: 2, HTTP: "http://127.0.0.1:8081"}}}}}
	path := filepath.Join(dir, fabricFileName)
	if err := writeFabricFile(path, ff); err != nil {
		t.Fatal(err)
	}
	rf := regionFlags{fabricFile: path}
	_, err := rf.load()
	if err == nil || !strings.Contains(err.Error(), "describes one region (us-east)") || !strings.Contains(err.Error(), "--url http://127.0.0.1:8080") {
		t.Fatalf("load: %v", err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"bench", "collections", "--fabric", path}, nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "describes one region") {
		t.Fatalf("bench collections: exit %d: %s", code, errOut.String())
	}
}
