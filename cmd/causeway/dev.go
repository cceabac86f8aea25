package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/tlsutil"
	"github.com/causeway/causeway/replicator/shell"
	"github.com/causeway/causeway/server"
	"github.com/causeway/causeway/spot"
)

// fabricFileName is the file causeway dev writes in its data directory.
const fabricFileName = "fabric.json"

// fabricFile describes a running fabric: what clients, the bench tool and
// `causeway dev link` / `causeway status` need to reach every region.
type fabricFile struct {
	Regions []fabricRegion `json:"regions"`
	WAN     fabricWAN      `json:"wan"`

	// AdminKey is the superuser API key of every region ("" when
	// authentication is off).
	AdminKey string `json:"adminKey,omitempty"`

	// ReplCA is the CA that signed every region's peer certificate: the
	// links between regions are mutual TLS ("" when they are plain TCP,
	// --repl-tls=false).
	ReplCA string `json:"replCA,omitempty"`
}

type fabricRegion struct {
	Name string `json:"name"`
	// HTTP is the HTTP API's base URL; WS the WebSocket API's.
	HTTP string `json:"http"`
	WS   string `json:"ws"`
	// Kafka is the Kafka listener's address ("" when off).
	Kafka string `json:"kafka,omitempty"`
	// Repl is the replication listener's address ("" in a fabric of one
	// region: no geo-replication).
	Repl string `json:"repl"`
	// Admin is the replication admin URL: GET for status, POST
	// {admin}/links/{peer}/down|up to cut or restore a link ("" without
	// geo-replication). In a region of several nodes it is node 1's, which
	// answers 503 unless it runs the region's replication.
	Admin string `json:"admin"`
	Data  string `json:"data"`
	// Nodes are the region's nodes when it has several (fabric_nodes.go);
	// absent, the fields above describe its only node. With several, the
	// fields above are those of node 1.
	Nodes []fabricNode `json:"nodes,omitempty"`
}

type fabricWAN struct {
	Latency string  `json:"latency"`
	Jitter  string  `json:"jitter"`
	Loss    float64 `json:"loss"`
}

func runDev(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "link" {
		return runDevLink(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	regions := fs.String("regions", "us-east,eu-west,ap-south", "comma-separated region names; one region (with --nodes 2 or more) is a replicated region without geo-replication")
	data := fs.String("data", "causeway-dev", "data directory (one sub-directory per region, and fabric.json)")
	host := fs.String("host", "127.0.0.1", "address every listener binds to")
	httpPort := fs.Int("http-port", 8080, "HTTP/WebSocket port of the first region, the next regions take the next ports (0: ephemeral)")
	kafkaPort := fs.Int("kafka-port", 9092, "Kafka port of the first region, likewise (0: ephemeral, -1: no Kafka listener)")
	replPort := fs.Int("repl-port", 7400, "replication port of the first region, likewise; with --nodes > 1 every node has one, laid out as the HTTP ports (0: ephemeral)")
	latency := fs.String("wan-latency", "0s", "emulated one-way latency between regions, e.g. 40ms")
	jitter := fs.String("wan-jitter", "0s", "emulated jitter added to the latency, e.g. 5ms")
	loss := fs.String("wan-loss", "0", "emulated loss rate between regions, 0..1")
	secret := fs.String("fabric-secret", "", "fabric secret (default: random for this run)")
	replTLS := fs.Bool("repl-tls", true, "mutual TLS between regions, with a dev CA and a certificate per region generated into DATA/"+tlsutil.DevFabricDir)
	fsync := fs.String("fsync", "", "fsync policy: always (default), interval, never")
	logLevel := fs.String("log-level", "warn", "debug, info, warn, error")
	nodes := fs.Int("nodes", 1, "nodes per region, forming the region's metadata group, every node serving the region (its streams replicated between them); with several regions each node has a replication listener and the region's replication runs on one of them, decided at runtime")
	clusterPort := fs.Int("cluster-port", 7600, "with --nodes > 1: Raft port of the first region's first node, the next nodes take the next ports, then their data addresses (0: ephemeral)")
	consoleOn := fs.Bool("console", true, "serve the web console at /console on every node")
	pinned := registerDevFabrics(fs) // dev_fabrics.go
	spotFlags := registerSpotDevFlags(fs)
	devSec := registerDevSecurity(fs)
	if code, goOn := parseArgs(fs, args, stdout, stderr); !goOn {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "causeway dev:", err)
		return 1
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	plan, err := planDev(*regions, *nodes, set)
	if err == nil {
		err = pinned.check(plan)
	}
	if err != nil {
		return fail(err)
	}
	names := plan.regions
	var wan broker.WANConfig
	if err := parseWAN(&wan, *latency, *jitter, *loss); err != nil {
		return fail(err)
	}
	if *secret == "" && plan.geo {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		*secret = hex.EncodeToString(b)
	}
	authCfg, adminKey, err := devSec.config(*data)
	if err != nil {
		return fail(err)
	}
	log, err := newLogger(*logLevel)
	if err != nil {
		return fail(err)
	}
	defer func() { _ = log.Sync() }()
	// Signals are caught before any region starts: a SIGTERM during
	// start-up stops the regions started so far gracefully.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	// peerAddrs[i] is region i's replication address as the others list
	// it (every node's, comma-joined); none in a fabric of one region.
	var peerAddrs []string
	var cluster *devCluster
	if plan.nodes > 1 {
		bases := devPortBases{HTTP: *httpPort, Kafka: *kafkaPort, Repl: *replPort, Cluster: *clusterPort}
		if cluster, err = newDevCluster(*host, plan, bases); err != nil {
			return fail(err)
		}
		if plan.geo {
			for i := range names {
				peerAddrs = append(peerAddrs, cluster.regionRepl(i))
			}
		}
	} else if peerAddrs, err = devAddrs(*host, *replPort, len(names)); err != nil {
		return fail(err)
	}
	var spotCfgs []*spot.Config
	if plan.geoRegionOfNodes() { // each region's group over its nodes
		spotCfgs, err = devSpotConfigs(spotFlags, *host, names, plan.nodes)
	} else {
		spotNodes := 1 // nodes a region's SPOT group is spread over
		if plan.allServe {
			spotNodes = plan.nodes
		}
		spotCfgs, err = spotFlags.configs(*host, names, spotNodes)
	}
	if err != nil {
		return fail(err)
	}
	var peerTLS *tlsutil.DevFabric
	if *replTLS && plan.geo {
		f, err := tlsutil.EnsureDevFabric(filepath.Join(*data, tlsutil.DevFabricDir), names, devTLSHosts(*host), time.Now())
		if err != nil {
			return fail(err)
		}
		peerTLS = &f
	}
	port := func(base, i int) string {
		if base == 0 {
			return net.JoinHostPort(*host, "0")
		}
		return net.JoinHostPort(*host, strconv.Itoa(base+i))
	}
	var servers []*server.Server    // every node
	var firsts []*server.Server     // node 1 of each region
	var byRegion [][]*server.Server // each region's nodes
	stopAll := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, s := range servers {
			if err := s.Shutdown(ctx); err != nil {
				log.Error("shutdown", zap.Error(err))
			}
		}
	}
	ff := fabricFile{AdminKey: adminKey, WAN: fabricWAN{Latency: wan.Latency.String(), Jitter: wan.Jitter.String(), Loss: wan.Loss}}
	if peerTLS != nil {
		ff.ReplCA = peerTLS.CAFile
	}
	for i, name := range names {
		cfg := broker.Config{Region: name, DataDir: filepath.Join(*data, name), HTTPAddr: port(*httpPort, i), Fsync: *fsync, Auth: authCfg}
		if plan.geo {
			peers := map[string]string{}
			for j, p := range names {
				if j != i {
					peers[p] = peerAddrs[j]
				}
			}
			// Node 1's address; startRegion gives each node its own.
			replAddr, _, _ := strings.Cut(peerAddrs[i], ",")
			cfg.ReplAddr, cfg.Peers, cfg.FabricSecret, cfg.WAN = replAddr, peers, *secret, wan
		}
		if *kafkaPort >= 0 {
			cfg.KafkaAddr = port(*kafkaPort, i)
		}
		if peerTLS != nil { // a region's nodes share its certificate
			files := peerTLS.Regions[name]
			cfg.ReplTLS = tlsutil.Config{CertFile: files.CertFile, KeyFile: files.KeyFile, ClientCAFile: peerTLS.CAFile}
		}
		if err := cfg.WithDefaults().Validate(); err != nil {
			stopAll()
			return fail(err)
		}
		select {
		case sig := <-sigs:
			fmt.Fprintf(stdout, "%s during start-up: stopping the fabric\n", sig)
			stopAll()
			return 0
		default:
		}
		opts := server.Options{Spot: spotCfgs[i], Console: *consoleOn}
		var srv *server.Server
		var regionNodes []*server.Server
		if cluster == nil {
			srv, err = server.StartWith(cfg, log.Named(name), opts)
			if srv != nil {
				regionNodes = []*server.Server{srv}
			}
		} else {
			regionNodes, err = cluster.startRegion(i, cfg, opts, *data, log)
			if len(regionNodes) > 0 {
				srv = regionNodes[0]
			}
		}
		servers = append(servers, regionNodes...)
		if err != nil {
			stopAll()
			return fail(fmt.Errorf("start %s: %w", name, err))
		}
		firsts = append(firsts, srv)
		byRegion = append(byRegion, regionNodes)
		fr := fabricRegion{Name: name, HTTP: srv.URL(), WS: "ws://" + srv.Addr(), Kafka: srv.KafkaAddr(), Data: cfg.DataDir}
		switch {
		case srv.Repl != nil:
			fr.Repl, fr.Admin = srv.Repl.Addr(), srv.URL()+shell.AdminPath
		case srv.Standby != nil: // listens only while it runs the region's replication
			fr.Repl, fr.Admin = cfg.ReplAddr, srv.URL()+shell.AdminPath
		}
		if cluster != nil {
			fr.Nodes = cluster.fabricNodes(i, regionNodes, *data, name)
		}
		ff.Regions = append(ff.Regions, fr)
	}
	if plan.geoRegionOfNodes() {
		connectSpotNodes(byRegion, names) // forwarded requests try a region's nodes in turn
	} else {
		connectSpot(firsts, names)
	}
	if plan.geoRegionOfNodes() {
		// The how-to's commands (status, link) talk to each region's
		// replication: print it once every region runs it.
		awaitGeoRunners(byRegion, 30*time.Second, log)
	}
	if err := pinned.create(firsts[0], servers); err != nil {
		stopAll()
		return fail(err)
	}
	path := filepath.Join(*data, fabricFileName)
	if err := writeFabricFile(path, ff); err != nil {
		stopAll()
		return fail(err)
	}
	var banner bytes.Buffer
	switch {
	case plan.geoRegionOfNodes():
		printDevNodes(&banner, ff, *data)
	case plan.geo:
		printDevHowTo(&banner, ff, *data)
	default:
		printDevRegion(&banner, ff, *data)
	}
	pinned.print(&banner, firsts[0])
	if *consoleOn {
		printDevConsole(&banner, ff)
	}
	printDevAuth(&banner, adminKey)
	printSpotHowTo(&banner, ff)
	fmt.Fprint(stdout, withCLI(banner.String(), devCLI(*data, log)))
	code := 0
	select {
	case sig := <-sigs:
		fmt.Fprintf(stdout, "\n%s: stopping the fabric\n", sig)
	case err := <-firstDone(servers):
		log.Error("a region's HTTP server stopped", zap.Error(err))
		code = 1
	}
	stopAll()
	_ = os.Remove(path)
	return code
}

// devAddrs returns n addresses: consecutive ports from base, or ephemeral
// ones reserved by listening and closing (peers must know every address
// before any node starts).
func devAddrs(host string, base, n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		if base != 0 {
			out[i] = net.JoinHostPort(host, strconv.Itoa(base+i))
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("reserve a port: %w", err)
		}
		out[i] = ln.Addr().String()
		defer ln.Close()
	}
	return out, nil
}

// devTLSHosts are the names the regions' peer certificates are valid
// for: the loopback names and the address every listener binds to (the
// address peers dial).
func devTLSHosts(host string) []string {
	hosts := append([]string(nil), tlsutil.DevHosts...)
	if !slices.Contains(hosts, host) {
		hosts = append(hosts, host)
	}
	return hosts
}

// firstDone reports the first HTTP server that stops.
func firstDone(servers []*server.Server) <-chan error {
	ch := make(chan error, len(servers))
	for _, s := range servers {
		go func() { ch <- <-s.Done() }()
	}
	return ch
}

// writeFabricFile writes fabric.json atomically.
func writeFabricFile(path string, ff fabricFile) error {
	b, err := json.MarshalIndent(ff, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readFabricFile reads the fabric.json of a data directory.
func readFabricFile(dataDir string) (fabricFile, error) {
	var ff fabricFile
	path := filepath.Join(dataDir, fabricFileName)
	b, err := os.ReadFile(path)
	if err != nil {
		return ff, fmt.Errorf("read %s (is causeway dev running with --data %s?): %w", path, dataDir, err)
	}
	if err := json.Unmarshal(b, &ff); err != nil {
		return ff, fmt.Errorf("parse %s: %w", path, err)
	}
	return ff, nil
}

func (ff fabricFile) region(name string) (fabricRegion, error) {
	for _, r := range ff.Regions {
		if r.Name == name {
			return r, nil
		}
	}
	var names []string
	for _, r := range ff.Regions {
		names = append(names, r.Name)
	}
	return fabricRegion{}, fmt.Errorf("no region %q in the fabric (regions: %s)", name, strings.Join(names, ", "))
}

func printDevHowTo(w io.Writer, ff fabricFile, data string) {
	fmt.Fprintf(w, "causeway dev: %d regions running; WAN latency %s, jitter %s, loss %v\n\n",
		len(ff.Regions), ff.WAN.Latency, ff.WAN.Jitter, ff.WAN.Loss)
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "region\thttp / websocket\tkafka\treplication")
	for _, r := range ff.Regions {
		kafka := r.Kafka
		if kafka == "" {
			kafka = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, r.HTTP, kafka, r.Repl)
	}
	_ = tw.Flush()
	if ff.ReplCA != "" {
		fmt.Fprintf(w, "\nLinks between regions: mutual TLS (every region's certificate is signed by %s)\n", ff.ReplCA)
	} else {
		fmt.Fprintln(w, "\nLinks between regions: plain TCP (--repl-tls=false)")
	}
	a, b := ff.Regions[0], ff.Regions[1]
	dataFlag := ""
	if data != "causeway-dev" {
		dataFlag = " --data " + data
	}
	fmt.Fprintf(w, `
Fabric description: %[1]s
Try it, in another terminal:
  # publish in %[3]s, consume in %[5]s
  causeway consume --url %[2]s --stream orders --subscription tour --initial earliest &
  echo hello | causeway produce --url %[4]s --stream orders
  # cut the link, publish on both sides, heal: everything arrives
  causeway dev link down %[3]s %[5]s%[6]s
  causeway dev link up %[3]s %[5]s%[6]s
  # replication lag per region pair
  causeway status%[6]s
Stop with Ctrl-C.
`, filepath.Join(data, fabricFileName), b.HTTP, a.Name, a.HTTP, b.Name, dataFlag)
}
