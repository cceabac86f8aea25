package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/region/meta"
	"github.com/causeway/causeway/server"
)

// devCluster lays out `causeway dev --nodes N` (N > 1): every region's
// nodes with their HTTP, Kafka, replication, Raft and data addresses,
// known before any starts (each node is given its peers), and the secret
// the region's nodes share.
//
// Every node serves its region: its streams are replicated between the
// region's nodes. In a fabric of several regions each node has its own
// replication listener and the region's replication runs on the node
// leading the region's journals (server/regiongeo.go); the other regions
// list all of the region's replication addresses and dial them in turn.
// Each region's SPOT group is spread over its first nodes (spot_dev.go).
type devCluster struct {
	plan   devPlan
	secret string
	// http, kafka, repl, raft and data are indexed [region][node]; kafka
	// is "" for a node without a Kafka listener, repl "" without
	// geo-replication.
	http, kafka, repl, raft, data [][]string
}

// newDevCluster reserves the addresses plan.ports lays out on host; port 0
// reserves an ephemeral port (a Kafka listener just binds port 0: its
// address is registered once it listens).
func newDevCluster(host string, plan devPlan, bases devPortBases) (*devCluster, error) {
	c := &devCluster{plan: plan}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	c.secret = hex.EncodeToString(b)
	r := &devReserver{host: host}
	defer r.release()
	for _, region := range plan.ports(bases) {
		var http, kafka, repl, raft, data []string
		for _, np := range region {
			h, err := r.addr(np.HTTP)
			if err != nil {
				return nil, err
			}
			rp, err := r.addr(np.Repl)
			if err != nil {
				return nil, err
			}
			ra, err := r.addr(np.Raft)
			if err != nil {
				return nil, err
			}
			d, err := r.addr(np.Data)
			if err != nil {
				return nil, err
			}
			k := ""
			if np.Kafka >= 0 {
				k = net.JoinHostPort(host, strconv.Itoa(np.Kafka))
			}
			http, kafka, repl = append(http, h), append(kafka, k), append(repl, rp)
			raft, data = append(raft, ra), append(data, d)
		}
		c.http, c.kafka, c.repl = append(c.http, http), append(c.kafka, kafka), append(c.repl, repl)
		c.raft, c.data = append(c.raft, raft), append(c.data, data)
	}
	return c, nil
}

// devReserver turns laid-out ports into addresses on host: port 0
// reserves an ephemeral port by listening on it until release (no two
// reservations get the same port), -1 is no address.
type devReserver struct {
	host string
	held []net.Listener
}

func (r *devReserver) addr(port int) (string, error) {
	switch {
	case port < 0:
		return "", nil
	case port > 0:
		return net.JoinHostPort(r.host, strconv.Itoa(port)), nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(r.host, "0"))
	if err != nil {
		return "", fmt.Errorf("reserve a port: %w", err)
	}
	r.held = append(r.held, ln)
	return ln.Addr().String(), nil
}

func (r *devReserver) release() {
	for _, ln := range r.held {
		_ = ln.Close()
	}
	r.held = nil
}

// options are node j's (0-based) of region i: all of the region's nodes
// are its initial voters.
func (c *devCluster) options(i, j int) *server.RegionOptions {
	voters := map[region.NodeID]string{}
	var peers []string
	for k := range c.plan.nodes {
		voters[region.NodeID(k+1)] = c.raft[i][k]
		if k != j {
			peers = append(peers, "http://"+c.http[i][k])
		}
	}
	return &server.RegionOptions{Meta: meta.Config{
		Node: region.NodeID(j + 1), Addrs: region.Addrs{Raft: c.raft[i][j], Data: c.data[i][j]},
		Bootstrap: voters, Peers: peers, Secret: c.secret}}
}

// nodeDataDir is node j's (0-based) data directory: {data}/{region} for
// node 1 (as with one node per region), {data}/{region}-node{j+1} for the
// others.
func nodeDataDir(dataDir, region string, j int) string {
	if j == 0 {
		return filepath.Join(dataDir, region)
	}
	return filepath.Join(dataDir, region+"-node"+strconv.Itoa(j+1))
}

// startRegion starts region i's nodes together (a new region's voters
// each ask the others whether the region exists before bootstrapping),
// every one serving the region with first's configuration and SPOT
// options and its own addresses: node 1 in first's data directory, the
// others in {data}/{region}-node{j}. It returns the nodes that started,
// node 1 first when it did, and the errors of the others.
func (c *devCluster) startRegion(i int, first broker.Config, opts server.Options, dataDir string, log *zap.Logger) ([]*server.Server, error) {
	srvs := make([]*server.Server, c.plan.nodes)
	errs := make([]error, c.plan.nodes)
	var wg sync.WaitGroup
	for j := range c.plan.nodes {
		cfg := first
		if j > 0 {
			cfg.DataDir = nodeDataDir(dataDir, first.Region, j)
		}
		cfg.HTTPAddr, cfg.KafkaAddr, cfg.ReplAddr = c.http[i][j], c.kafka[i][j], c.repl[i][j]
		o := server.Options{Region: c.options(i, j), Spot: opts.Spot, Console: opts.Console}
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

// fabricNodes describes region i's nodes for fabric.json (every node
// started).
func (c *devCluster) fabricNodes(i int, srvs []*server.Server, dataDir, region string) []fabricNode {
	out := make([]fabricNode, len(srvs))
	for j, s := range srvs {
		out[j] = fabricNode{ID: uint64(j + 1), HTTP: s.URL(), WS: "ws://" + s.Addr(), Kafka: s.KafkaAddr(),
			Repl: c.repl[i][j], Raft: c.raft[i][j], DataAddr: c.data[i][j], Data: nodeDataDir(dataDir, region, j)}
	}
	return out
}

// regionRepl is every node's replication address of region i, comma-
// joined: how the other regions list it as a peer.
func (c *devCluster) regionRepl(i int) string { return strings.Join(c.repl[i], ",") }

// printDevNodes tells what the regions' nodes are, when a fabric of
// several regions has several nodes per region (printDevRegion tells a
// fabric of one region).
func printDevNodes(w io.Writer, ff fabricFile, data string) {
	if len(ff.Regions) < 2 || len(ff.Regions[0].Nodes) < 2 {
		return
	}
	n := len(ff.Regions[0].Nodes)
	fmt.Fprintf(w, "causeway dev: %d regions of %d nodes each, every node serving its region; WAN latency %s, jitter %s, loss %v\n\n",
		len(ff.Regions), n, ff.WAN.Latency, ff.WAN.Jitter, ff.WAN.Loss)
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "region\tnode\thttp / websocket\tkafka\treplication\traft\tdata address")
	for _, r := range ff.Regions {
		for _, nd := range r.Nodes {
			kafka := nd.Kafka
			if kafka == "" {
				kafka = "-"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", r.Name, nd.ID, nd.HTTP, kafka, nd.Repl, nd.Raft, nd.DataAddr)
		}
	}
	_ = tw.Flush()
	fmt.Fprintf(w, `
Every region's nodes form its metadata group (Raft: membership, stream leaders, epochs) and
replicate its streams between them (each stream held by %[1]d of them); any node takes producers,
consumers and readers (proxied to the stream's leader). Each region's replication to the others
runs on one of its nodes at a time, the one leading the region's journals, decided at runtime
(another takes over when it stops): causeway status asks the nodes in turn, and
GET /_api/replication answers 503 on the nodes not running it. Peers list every node's
replication address; the one running the region's replication answers.
Collections are the region's too (served by the node running its replication, proxied from the
others). Each region's SPOT group has one replica on each of its first nodes (--spot-replicas in
the first region, --spot-replicas-other in the others; Raft ports from --spot-port); any node of
any region takes SPOT requests (other regions forward them to the home region's nodes in turn),
and the SPOT change feeds are published by the node running the region's replication.
`, region.DefaultFactor(n))
	if ff.ReplCA != "" {
		fmt.Fprintf(w, "\nLinks between regions: mutual TLS (every region's certificate, shared by its nodes, is signed by %s)\n", ff.ReplCA)
	} else {
		fmt.Fprintln(w, "\nLinks between regions: plain TCP (--repl-tls=false)")
	}
	a, b := ff.Regions[0].Nodes, ff.Regions[1].Nodes
	var urls []string
	for _, nd := range a {
		urls = append(urls, nd.HTTP)
	}
	dataFlag := ""
	if data != "causeway-dev" {
		dataFlag = " --data " + data
	}
	fmt.Fprintf(w, `
Fabric description: %[1]s
Try it, in another terminal:
  # publish through node 2 of %[2]s, consume through node %[3]d of %[4]s
  causeway consume --url %[5]s --stream orders --subscription tour --initial earliest &
  echo hello | causeway produce --url %[6]s --stream orders
  # a client given every node of a region moves to the next one when its node stops
  causeway produce --url %[7]s --stream orders
  # replication lag per region pair; each region's nodes, stream leaders and in-sync replicas
  causeway status%[8]s
  # cut the link between the regions on the nodes running their replication (asked in turn)
  causeway dev link down %[2]s %[4]s%[8]s
Stop with Ctrl-C.
`, filepath.Join(data, fabricFileName), ff.Regions[0].Name, len(b), ff.Regions[1].Name, b[len(b)-1].HTTP, a[1].HTTP,
		strings.Join(urls, ","), dataFlag)
}

// printDevRegion tells what a fabric of one region of several nodes runs
// and how to try it.
func printDevRegion(w io.Writer, ff fabricFile, data string) {
	r := ff.Regions[0]
	nodes := r.nodes()
	fmt.Fprintf(w, "causeway dev: one region, %s, of %d nodes, every node serving it; no geo-replication\n", r.Name, len(nodes))
	fmt.Fprintln(w, "(a fabric of one region: no peers, no replication listener, no fabric secret or peer TLS)")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "node\thttp / websocket\tkafka\traft\tdata address\tdata directory")
	var urls []string
	for _, nd := range nodes {
		kafka := nd.Kafka
		if kafka == "" {
			kafka = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", nd.ID, nd.HTTP, kafka, nd.Raft, nd.DataAddr, nd.Data)
		urls = append(urls, nd.HTTP)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, `
The nodes form the region's metadata group (Raft: membership, stream leaders, epochs) and
replicate its persistent streams: each stream is led by one node and held by %[1]d of them
(a publish is acknowledged once every in-sync replica has fsynced it); any node takes
producers, consumers and readers (proxied to the stream's leader) and HTTP admin requests.
SPOT collections are the region's too: its SPOT group has one replica on each of the first
--spot-replicas nodes (3; Raft ports from --spot-port), and any node takes SPOT requests.
Still each node's own: non-persistent streams.
`, region.DefaultFactor(len(nodes)))
	if len(nodes) < 3 {
		fmt.Fprintln(w, "With fewer than three nodes the loss of one stops writes; --nodes 3 survives it.")
	}
	dataFlag := ""
	if data != "causeway-dev" {
		dataFlag = " --data " + data
	}
	last := nodes[len(nodes)-1].HTTP
	fmt.Fprintf(w, `
Fabric description: %[1]s
Try it, in another terminal:
  # publish through node 2, consume through node %[5]d: both are proxied to the stream's leader
  causeway consume --url %[3]s --stream orders --subscription tour --initial earliest &
  echo hello | causeway produce --url %[2]s --stream orders
  # a client given every node moves to the next one when its node stops
  causeway produce --url %[4]s --stream orders
  # the nodes, who leads each stream, its in-sync replicas
  causeway status%[6]s
Stop with Ctrl-C.
`, filepath.Join(data, fabricFileName), nodes[1].HTTP, last, strings.Join(urls, ","), len(nodes), dataFlag)
}

// awaitGeoRunners waits until a node of every region runs the region's
// replication (its runner is decided at runtime, a moment after the nodes
// start), or until patience runs out (logged: the fabric still starts).
func awaitGeoRunners(byRegion [][]*server.Server, patience time.Duration, log *zap.Logger) {
	deadline := time.Now().Add(patience)
	for {
		waiting := 0
		for _, nodes := range byRegion {
			running := false
			for _, n := range nodes {
				running = running || (n.Standby != nil && n.Standby.Active() != nil)
			}
			if !running {
				waiting++
			}
		}
		if waiting == 0 {
			return
		}
		if time.Now().After(deadline) {
			log.Warn("some regions do not run their replication yet", zap.Int("regions", waiting), zap.Duration("waited", patience))
			return
		}
		time.Sleep(20 * time.Millisecond) // polling the nodes' state with a deadline
	}
}
