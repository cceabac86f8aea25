package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// devPlan is what `causeway dev` runs, decided from its flags alone (no
// I/O): its regions, their nodes, and what those nodes do.
type devPlan struct {
	regions []string
	// nodes is every region's node count.
	nodes int
	// geo: the regions replicate to each other (two regions or more):
	// replication listeners, peers, a fabric secret and peer TLS.
	geo bool
	// allServe: the regions have several nodes (--nodes 2 or more) and
	// every one serves its region through the region's data path (streams
	// replicated between the region's nodes). With geo, each node has its
	// own replication listener and the region's replication runs on the
	// node leading the region's journals, decided at runtime.
	allServe bool
}

// geoRegionOfNodes: regions of several nodes that replicate to each other
// (each region's SPOT group spread over its nodes).
func (p devPlan) geoRegionOfNodes() bool { return p.geo && p.allServe }

// geoOnlyDevFlags mean something only between regions; a fabric of one
// region refuses them rather than ignore them.
var geoOnlyDevFlags = []string{"fabric-secret", "repl-port", "repl-tls", "wan-jitter", "wan-latency", "wan-loss"}

// maxDevNodes bounds --nodes (each node is a process's worth of
// listeners and a Raft replica on this machine).
const maxDevNodes = 7

// planDev decides the plan from --regions, --nodes and the names of the
// flags given explicitly (set).
func planDev(regions string, nodes int, set map[string]bool) (devPlan, error) {
	names := strings.Split(regions, ",")
	if nodes < 1 || nodes > maxDevNodes {
		return devPlan{}, fmt.Errorf("--nodes %d: want 1 to %d", nodes, maxDevNodes)
	}
	if len(names) >= 2 {
		return devPlan{regions: names, nodes: nodes, geo: true, allServe: nodes >= 2}, nil
	}
	if names[0] == "" {
		return devPlan{}, errors.New("--regions: give at least one region name")
	}
	if nodes < 2 {
		return devPlan{}, fmt.Errorf("--regions %s --nodes 1: one region of one node is `causeway serve --region %s`; give two regions or more (a fabric), or --nodes 2 or more (a replicated region)", regions, regions)
	}
	if given := givenFlags(set, geoOnlyDevFlags); given != "" {
		return devPlan{}, fmt.Errorf("%s: a fabric of one region has no links between regions (no geo-replication); leave them out, or give two regions or more", given)
	}
	return devPlan{regions: names, nodes: nodes, allServe: true}, nil
}

// givenFlags lists, sorted, those of flags that set holds ("--a, --b"; ""
// when none).
func givenFlags(set map[string]bool, flags []string) string {
	var given []string
	for _, f := range flags {
		if set[f] {
			given = append(given, "--"+f)
		}
	}
	slices.Sort(given)
	return strings.Join(given, ", ")
}

// devPortBases are the first ports the flags give: 0 asks for ephemeral
// ports, a negative Kafka port for no Kafka listeners.
type devPortBases struct {
	HTTP, Kafka, Repl, Cluster int
}

// devNodePorts are one node's ports: 0 is an ephemeral port, -1 no
// listener.
type devNodePorts struct {
	HTTP, Kafka, Repl, Raft, Data int
}

// ports lays out every node's ports, indexed [region][node]. Node 1 of
// region i takes HTTP, Kafka and replication ports base+i, as with one
// node per region; the other nodes follow, region by region
// (base+regions...). Without geo-replication no node has a replication
// port. With several nodes per region, the Raft ports start at the cluster
// base, region by region, and the data addresses' ports follow them.
func (p devPlan) ports(b devPortBases) [][]devNodePorts {
	seq := func(base, k int) int {
		switch {
		case base < 0:
			return -1
		case base == 0:
			return 0
		}
		return base + k
	}
	regions := len(p.regions)
	out := make([][]devNodePorts, regions)
	for i := range regions {
		out[i] = make([]devNodePorts, p.nodes)
		for j := range p.nodes {
			k := i // HTTP, Kafka and replication offset
			if j > 0 {
				k = regions + i*(p.nodes-1) + j - 1
			}
			np := devNodePorts{HTTP: seq(b.HTTP, k), Kafka: seq(b.Kafka, k), Repl: -1, Raft: -1, Data: -1}
			if p.geo {
				np.Repl = seq(b.Repl, k)
			}
			if p.nodes > 1 {
				np.Raft = seq(b.Cluster, i*p.nodes+j)
				np.Data = seq(b.Cluster, regions*p.nodes+i*p.nodes+j)
			}
			out[i][j] = np
		}
	}
	return out
}
