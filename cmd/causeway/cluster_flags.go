package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/causeway/causeway/region"
	"github.com/causeway/causeway/region/meta"
	"github.com/causeway/causeway/server"
)

// clusterSecretEnv names the environment variable that may carry the
// region secret (so that it does not show in the process list).
const clusterSecretEnv = "CAUSEWAY_CLUSTER_SECRET"

// minClusterSecret is the shortest region secret accepted (as the fabric
// secret's).
const minClusterSecret = 16

// clusterFile is the YAML file's cluster section: this node's place in a
// region of many nodes. Absent: a region of one node.
type clusterFile struct {
	Node       uint64            `yaml:"node"`
	Raft       string            `yaml:"raft"`
	DataAddr   string            `yaml:"dataAddr"`
	HTTPURL    string            `yaml:"httpURL"`
	Voters     map[uint64]string `yaml:"voters"`
	Peers      []string          `yaml:"peers"`
	Secret     string            `yaml:"secret"`
	SecretFile string            `yaml:"secretFile"`
}

// clusterFlags are serve's flags for a region of many nodes; each
// overrides the file's key of the same meaning.
type clusterFlags struct {
	node                                   uint64
	raft, dataAddr, httpURL, voters, peers string
	secret, secretFile                     string
}

func (f *clusterFlags) register(fs *flag.FlagSet) {
	fs.Uint64Var(&f.node, "cluster-node", 0, "this node's id in its region (1 and up, stable across restarts and wipes); with the other --cluster flags the node joins its region's metadata group (default: a region of one node)")
	fs.StringVar(&f.raft, "cluster-raft", "", "host:port of this node's Raft listener for the region's metadata group (an address the region's other nodes reach)")
	fs.StringVar(&f.dataAddr, "cluster-data", "", "host:port this node will ship stream data between the region's nodes on (carried in the region's metadata; nothing listens on it yet)")
	fs.StringVar(&f.httpURL, "cluster-http-url", "", "HTTP base URL the region's other nodes reach this node at (default: http(s)://--http, which must then name a host)")
	fs.StringVar(&f.voters, "cluster-voters", "", "the initial voters of a new region, id=raftHost:port,... (e.g. 1=10.0.0.1:7600,2=10.0.0.2:7600,3=10.0.0.3:7600); the same on every node")
	fs.StringVar(&f.peers, "cluster-peers", "", "HTTP base URLs of the region's other nodes, comma-separated (asked whether the region exists, and to add a joining node)")
	fs.StringVar(&f.secret, "cluster-secret", "", "secret shared by the region's nodes, >= 16 bytes: signs their requests to each other (or $"+clusterSecretEnv+")")
	fs.StringVar(&f.secretFile, "cluster-secret-file", "", "file holding the region secret (instead of --cluster-secret)")
}

// given reports whether any flag of a region of many nodes was given.
func (f *clusterFlags) given() bool {
	return f.node != 0 || f.raft != "" || f.dataAddr != "" || f.httpURL != "" || f.voters != "" || f.peers != "" ||
		f.secret != "" || f.secretFile != ""
}

func (c clusterFile) given() bool {
	return c.Node != 0 || c.Raft != "" || c.DataAddr != "" || c.HTTPURL != "" || len(c.Voters) > 0 || len(c.Peers) > 0 ||
		c.Secret != "" || c.SecretFile != ""
}

// options lays the flags over the file's cluster section and checks the
// result; nil when neither configures a region of many nodes.
func (f *clusterFlags) options(file clusterFile) (*server.RegionOptions, error) {
	if !f.given() && !file.given() {
		return nil, nil
	}
	pick := func(flagValue, fileValue string) string {
		if flagValue != "" {
			return flagValue
		}
		return fileValue
	}
	node := f.node
	if node == 0 {
		node = file.Node
	}
	if node == 0 {
		return nil, errors.New("cluster: --cluster-node (cluster.node) is required: this node's id in its region, 1 and up")
	}
	c := meta.Config{Node: region.NodeID(node), Addrs: region.Addrs{
		Raft: pick(f.raft, file.Raft), Data: pick(f.dataAddr, file.DataAddr), HTTP: pick(f.httpURL, file.HTTPURL)}}
	if err := checkHostPort("--cluster-raft (cluster.raft)", c.Addrs.Raft); err != nil {
		return nil, err
	}
	if err := checkHostPort("--cluster-data (cluster.dataAddr)", c.Addrs.Data); err != nil {
		return nil, err
	}
	if c.Addrs.HTTP != "" {
		u, err := checkURL(c.Addrs.HTTP)
		if err != nil {
			return nil, fmt.Errorf("cluster: --cluster-http-url (cluster.httpURL): %w", err)
		}
		c.Addrs.HTTP = u
	}
	voters := file.Voters
	if f.voters != "" {
		var err error
		if voters, err = parseReplicas(f.voters); err != nil {
			return nil, fmt.Errorf("cluster: --cluster-voters: %w", err)
		}
	}
	if len(voters) > 0 {
		c.Bootstrap = map[region.NodeID]string{}
	}
	for id, addr := range voters {
		if id == 0 {
			return nil, errors.New("cluster: voters: node ids start at 1")
		}
		if err := checkHostPort(fmt.Sprintf("cluster: voter %d", id), addr); err != nil {
			return nil, err
		}
		c.Bootstrap[region.NodeID(id)] = addr
	}
	if addr, listed := c.Bootstrap[c.Node]; listed && addr != c.Addrs.Raft {
		return nil, fmt.Errorf("cluster: voter %d is listed at %s, but this node's Raft address is %s", c.Node, addr, c.Addrs.Raft)
	}
	peers := file.Peers
	if f.peers != "" {
		peers = strings.Split(f.peers, ",")
	}
	for _, p := range peers {
		u, err := checkURL(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("cluster: peer %q: %w", p, err)
		}
		c.Peers = append(c.Peers, u)
	}
	if len(c.Bootstrap) == 0 && len(c.Peers) == 0 {
		return nil, errors.New("cluster: give the initial voters (--cluster-voters, cluster.voters) or the peers to join through (--cluster-peers, cluster.peers)")
	}
	secret, err := clusterSecret(f, file)
	if err != nil {
		return nil, err
	}
	c.Secret = secret
	return &server.RegionOptions{Meta: c}, nil
}

// clusterSecret is the region secret: --cluster-secret, else the file
// --cluster-secret-file names, else the YAML's secret or secretFile, else
// $CAUSEWAY_CLUSTER_SECRET.
func clusterSecret(f *clusterFlags, file clusterFile) (string, error) {
	if f.secret != "" && f.secretFile != "" {
		return "", errors.New("cluster: give --cluster-secret or --cluster-secret-file, not both")
	}
	if file.Secret != "" && file.SecretFile != "" {
		return "", errors.New("cluster: give cluster.secret or cluster.secretFile, not both")
	}
	secret := os.Getenv(clusterSecretEnv)
	switch {
	case f.secret != "":
		secret = f.secret
	case f.secretFile != "":
		return readSecretFile("--cluster-secret-file", f.secretFile)
	case file.Secret != "":
		secret = file.Secret
	case file.SecretFile != "":
		return readSecretFile("cluster.secretFile", file.SecretFile)
	}
	return checkSecret(secret)
}

func readSecretFile(what, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cluster: %s: %w", what, err)
	}
	return checkSecret(strings.TrimSpace(string(b)))
}

func checkSecret(s string) (string, error) {
	if len(s) < minClusterSecret {
		return "", fmt.Errorf("cluster: the region secret (--cluster-secret, --cluster-secret-file, cluster.secret, cluster.secretFile or $%s) must have at least %d bytes, has %d", clusterSecretEnv, minClusterSecret, len(s))
	}
	return s, nil
}

// checkHostPort checks an address the region's other nodes dial: a host
// (not an unspecified address such as 0.0.0.0) and a port.
func checkHostPort(what, addr string) error {
	if addr == "" {
		return fmt.Errorf("cluster: %s is required", what)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		return fmt.Errorf("cluster: %s: %q is not host:port", what, addr)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return fmt.Errorf("cluster: %s: %q: give an address the region's other nodes reach, not a wildcard", what, addr)
	}
	return nil
}

// checkURL checks an http(s) base URL with a host, and returns it without
// a trailing slash.
func checkURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q: want an http(s) base URL such as http://10.0.0.2:8080", s)
	}
	return strings.TrimSuffix(s, "/"), nil
}
