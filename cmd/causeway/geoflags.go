package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/causeway/causeway/broker"
)

// fabricSecretEnv names the environment variable that may carry the
// fabric secret (so that it does not show in the process list).
const fabricSecretEnv = "CAUSEWAY_FABRIC_SECRET"

// geoFlags are the geo-replication flags of serve: they override the YAML
// file's region, peers, repl, fabricSecret and wan.
type geoFlags struct {
	peers                          peerFlag
	repl, secret                   string
	wanLatency, wanJitter, wanLoss string
	tlsCert, tlsKey, tlsCA         string
	joinTimeout                    time.Duration
}

func (g *geoFlags) register(fs *flag.FlagSet) {
	fs.Var(&g.peers, "peer", "another region of the fabric as name=host:port (its replication address), or for a region of several nodes name=host1:port1,host2:port2,... (every node's replication address, dialed in turn: the node running the region's replication answers); repeat for each region")
	fs.StringVar(&g.repl, "repl", "", "replication listen address (required with peers; each node of a region of several nodes has its own)")
	fs.StringVar(&g.secret, "fabric-secret", "", "fabric secret shared by every region, >= 16 bytes (or $"+fabricSecretEnv+")")
	fs.StringVar(&g.wanLatency, "wan-latency", "", "emulated one-way latency on outgoing peer links, e.g. 40ms")
	fs.StringVar(&g.wanJitter, "wan-jitter", "", "emulated jitter added to the latency, e.g. 5ms")
	fs.StringVar(&g.wanLoss, "wan-loss", "", "emulated loss rate on outgoing peer links, 0..1")
	fs.StringVar(&g.tlsCert, "repl-tls-cert", "", "mutual TLS between regions: this region's certificate (PEM)")
	fs.StringVar(&g.tlsKey, "repl-tls-key", "", "mutual TLS between regions: this region's key (PEM)")
	fs.StringVar(&g.tlsCA, "repl-tls-ca", "", "mutual TLS between regions: the fabric CA that verifies every peer (PEM)")
	fs.DurationVar(&g.joinTimeout, "join-timeout", 0, "how long a region starting with an empty data dir waits to hear from every peer before accepting writes (default 5s)")
}

// apply overrides cfg with the flags that were given.
func (g *geoFlags) apply(cfg *broker.Config) error {
	if len(g.peers) > 0 {
		cfg.Peers = map[string]string(g.peers)
	}
	if g.repl != "" {
		cfg.ReplAddr = g.repl
	}
	if g.joinTimeout != 0 {
		cfg.JoinTimeout = g.joinTimeout
	}
	switch {
	case g.secret != "":
		cfg.FabricSecret = g.secret
	case cfg.FabricSecret == "":
		cfg.FabricSecret = os.Getenv(fabricSecretEnv)
	}
	if g.tlsCert != "" || g.tlsKey != "" || g.tlsCA != "" {
		cfg.ReplTLS.CertFile, cfg.ReplTLS.KeyFile, cfg.ReplTLS.ClientCAFile = g.tlsCert, g.tlsKey, g.tlsCA
	}
	return parseWAN(&cfg.WAN, g.wanLatency, g.wanJitter, g.wanLoss)
}

// parseWAN sets the WAN settings given as flag strings ("" = keep).
func parseWAN(w *broker.WANConfig, latency, jitter, loss string) error {
	for _, d := range []struct {
		name string
		s    string
		dst  *time.Duration
	}{{"--wan-latency", latency, &w.Latency}, {"--wan-jitter", jitter, &w.Jitter}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil || v < 0 {
			return fmt.Errorf("%s=%q: want a non-negative duration such as 40ms", d.name, d.s)
		}
		*d.dst = v
	}
	if loss != "" {
		v, err := strconv.ParseFloat(loss, 64)
		if err != nil || !(v >= 0 && v <= 1) {
			return fmt.Errorf("--wan-loss=%q: want a rate in [0, 1]", loss)
		}
		w.Loss = v
	}
	return nil
}

// peerFlag collects repeated --peer name=addr flags.
type peerFlag map[string]string

func (p *peerFlag) String() string {
	var parts []string
	for k, v := range *p {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (p *peerFlag) Set(s string) error {
	name, addr, ok := strings.Cut(s, "=")
	if !ok || name == "" || addr == "" {
		return fmt.Errorf("want name=host:port, got %q", s)
	}
	if *p == nil {
		*p = peerFlag{}
	}
	if _, dup := (*p)[name]; dup {
		return fmt.Errorf("peer %q given twice", name)
	}
	(*p)[name] = addr
	return nil
}
