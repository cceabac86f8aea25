package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"sync"
	"text/tabwriter"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/region/meta"
	"github.com/causeway/causeway/server"
)

// devCluster lays out `causeway dev --nodes N` (N > 1): every region's
// nodes with their HTTP, Raft and data addresses, known before any starts
// (each node is given its peers), and the secret the region's nodes share.
//
// Until the data path between a region's nodes exists, node 1 of each
// region is the region as before (streams, collections, keys, SPOT,
// geo-replication) and the other nodes are MetadataOnly: they take part in
// the region's metadata group and refuse everything else.
type devCluster struct {
	nodes  int
	secret string
	// http, raft and data are indexed [region][node].
	http, raft, data [][]string
}

// newDevCluster reserves the addresses: HTTP ports follow the regions'
// first nodes' (httpPort+regions...), Raft ports start at clusterPort and
// data ports follow the Raft ports; port 0 reserves ephemeral ones.
func newDevCluster(host string, regions, nodes, httpPort, clusterPort int) (*devCluster, error) {
	c := &devCluster{nodes: nodes}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	c.secret = hex.EncodeToString(b)
	all := regions * nodes
	firsts, err := devAddrs(host, httpPort, regions)
	if err != nil {
		return nil, err
	}
	extraBase := 0
	if httpPort != 0 {
		extraBase = httpPort + regions
	}
	extras, err := devAddrs(host, extraBase, regions*(nodes-1))
	if err != nil {
		return nil, err
	}
	raft, err := devAddrs(host, clusterPort, all)
	if err != nil {
		return nil, err
	}
	dataBase := 0
	if clusterPort != 0 {
		dataBase = clusterPort + all
	}
	data, err := devAddrs(host, dataBase, all)
	if err != nil {
		return nil, err
	}
	for i := range regions {
		c.http = append(c.http, append([]string{firsts[i]}, extras[i*(nodes-1):(i+1)*(nodes-1)]...))
		c.raft = append(c.raft, raft[i*nodes:(i+1)*nodes])
		c.data = append(c.data, data[i*nodes:(i+1)*nodes])
	}
	return c, nil
}

// options are node j's (0-based) of region i: all of the region's nodes
// are its initial voters.
func (c *devCluster) options(i, j int) *server.RegionOptions {
	voters := map[region.NodeID]string{}
	var peers []string
	for k := range c.nodes {
		voters[region.NodeID(k+1)] = c.raft[i][k]
		if k != j {
			peers = append(peers, "http://"+c.http[i][k])
		}
	}
	return &server.RegionOptions{MetadataOnly: j > 0, Meta: meta.Config{
		Node: region.NodeID(j + 1), Addrs: region.Addrs{Raft: c.raft[i][j], Data: c.data[i][j]},
		Bootstrap: voters, Peers: peers, Secret: c.secret}}
}

// startRegion starts region i's nodes together (a new region's voters
// each ask the others whether the region exists before bootstrapping):
// node 1 with first's configuration and options, the others metadata-only
// in {data}/{region}-node{j}. It returns the nodes that started, node 1
// first when it did, and the errors of the others.
func (c *devCluster) startRegion(i int, first broker.Config, opts server.Options, dataDir string, log *zap.Logger) ([]*server.Server, error) {
	first.HTTPAddr = c.http[i][0]
	opts.Region = c.options(i, 0)
	srvs := make([]*server.Server, c.nodes)
	errs := make([]error, c.nodes)
	var wg sync.WaitGroup
	for j := range c.nodes {
		cfg, o := first, opts
		if j > 0 {
			cfg = broker.Config{Region: first.Region, DataDir: filepath.Join(dataDir, first.Region+"-node"+strconv.Itoa(j+1)),
				HTTPAddr: c.http[i][j], Fsync: first.Fsync, Auth: first.Auth}
			o = server.Options{Region: c.options(i, j)}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			srvs[j], errs[j] = server.StartWith(cfg, log.Named(fmt.Sprintf("%s.node%d", first.Region, j+1)), o)
			if errs[j] != nil {
				errs[j] = fmt.Errorf("node %d: %w", j+1, errs[j])
			}
		}()
	}
	wg.Wait()
	var started []*server.Server
	for _, s := range srvs {
		if s != nil {
			started = append(started, s)
		}
	}
	return started, errors.Join(errs...)
}

// fabricNodes describes region i's running nodes for fabric.json.
func (c *devCluster) fabricNodes(i int, srvs []*server.Server, dataDir, region string) []fabricNode {
	out := make([]fabricNode, len(srvs))
	for j, s := range srvs {
		out[j] = fabricNode{ID: uint64(j + 1), HTTP: s.URL(), WS: "ws://" + s.Addr(), Kafka: s.KafkaAddr(),
			Raft: c.raft[i][j], DataAddr: c.data[i][j], Data: filepath.Join(dataDir, region+"-node"+strconv.Itoa(j+1)), MetadataOnly: j > 0}
	}
	out[0].Data = filepath.Join(dataDir, region)
	return out
}

// printDevNodes tells what the regions' nodes are, when they have several.
func printDevNodes(w io.Writer, ff fabricFile) {
	if len(ff.Regions) == 0 || len(ff.Regions[0].Nodes) < 2 {
		return
	}
	n := len(ff.Regions[0].Nodes)
	fmt.Fprintf(w, `
Every region has %d nodes forming its metadata group (Raft: membership, owners, epochs).
The data path between a region's nodes is not built yet: node 1 of each region serves the
region's streams, collections, keys and SPOT, as in the table above, and nothing is replicated
inside a region; the other nodes only take part in the metadata group (they serve /health,
/metrics and /_api/region/state, and refuse everything else with 421).

`, n)
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "region\tnode\thttp\traft\tdata address\tserves")
	for _, r := range ff.Regions {
		for _, nd := range r.Nodes {
			role := "the region (streams, collections, keys, SPOT)"
			if nd.MetadataOnly {
				role = "metadata group only"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", r.Name, nd.ID, nd.HTTP, nd.Raft, nd.DataAddr, role)
		}
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nThe region's nodes, owners and in-sync replicas: causeway status, or\n  curl -H \"Authorization: Bearer $%s\" %s/_api/region/state\n", tokenEnv, ff.Regions[0].HTTP)
}
