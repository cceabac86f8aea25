package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/causeway/causeway/region"
)

const testClusterSecret = "cluster-secret-0123456789"

// TestClusterFlags: serve's flags for a region of many nodes, alone and
// over the YAML file's cluster section; every bad input is a clear error.
func TestClusterFlags(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "region.secret")
	if err := os.WriteFile(secretFile, []byte("  secret-from-a-file-0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	shortFile := filepath.Join(dir, "short.secret")
	if err := os.WriteFile(shortFile, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const yamlCluster = `region: us-east
cluster:
  node: 2
  raft: 10.0.0.2:7600
  dataAddr: 10.0.0.2:7700
  httpURL: http://10.0.0.2:8080/
  voters: {1: "10.0.0.1:7600", 2: "10.0.0.2:7600", 3: "10.0.0.3:7600"}
  peers: [http://10.0.0.1:8080, http://10.0.0.3:8080]
  secret: ` + testClusterSecret + `
`
	voters := map[region.NodeID]string{1: "10.0.0.1:7600", 2: "10.0.0.2:7600", 3: "10.0.0.3:7600"}
	base := []string{"--cluster-node", "2", "--cluster-raft", "10.0.0.2:7600", "--cluster-data", "10.0.0.2:7700",
		"--cluster-voters", "1=10.0.0.1:7600,2=10.0.0.2:7600,3=10.0.0.3:7600", "--cluster-peers", "http://10.0.0.1:8080,http://10.0.0.3:8080"}
	with := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	cases := []struct {
		name    string
		yaml    string
		env     string
		args    []string
		wantErr string // a part of the error; "" = no error
		check   func(t *testing.T, node region.NodeID, raft, data, http string, voters map[region.NodeID]string, peers []string, secret string)
	}{
		{name: "none: a region of one node"},
		{name: "flags", args: with("--cluster-secret", testClusterSecret),
			check: func(t *testing.T, node region.NodeID, raft, data, http string, v map[region.NodeID]string, peers []string, secret string) {
				if node != 2 || raft != "10.0.0.2:7600" || data != "10.0.0.2:7700" || http != "" || !reflect.DeepEqual(v, voters) ||
					!reflect.DeepEqual(peers, []string{"http://10.0.0.1:8080", "http://10.0.0.3:8080"}) || secret != testClusterSecret {
					t.Fatalf("%d %s %s %q %v %v %q", node, raft, data, http, v, peers, secret)
				}
			}},
		{name: "yaml", yaml: yamlCluster,
			check: func(t *testing.T, node region.NodeID, raft, data, http string, v map[region.NodeID]string, peers []string, secret string) {
				if node != 2 || raft != "10.0.0.2:7600" || data != "10.0.0.2:7700" || http != "http://10.0.0.2:8080" ||
					!reflect.DeepEqual(v, voters) || len(peers) != 2 || secret != testClusterSecret {
					t.Fatalf("%d %s %s %q %v %v %q", node, raft, data, http, v, peers, secret)
				}
			}},
		{name: "flags win over yaml", yaml: yamlCluster,
			args: []string{"--cluster-peers", "https://10.0.0.9:8443", "--cluster-secret-file", secretFile, "--cluster-http-url", "https://me:1"},
			check: func(t *testing.T, node region.NodeID, raft, data, http string, v map[region.NodeID]string, peers []string, secret string) {
				if node != 2 || http != "https://me:1" || !reflect.DeepEqual(peers, []string{"https://10.0.0.9:8443"}) ||
					secret != "secret-from-a-file-0123" || !reflect.DeepEqual(v, voters) {
					t.Fatalf("%d %q %v %v %q", node, http, v, peers, secret)
				}
			}},
		{name: "joiner: peers only, secret from the environment", env: "secret-from-the-env-0123",
			args: []string{"--cluster-node", "4", "--cluster-raft", "h4:7600", "--cluster-data", "h4:7700", "--cluster-peers", "http://h1:8080"},
			check: func(t *testing.T, node region.NodeID, raft, data, http string, v map[region.NodeID]string, peers []string, secret string) {
				if node != 4 || len(v) != 0 || len(peers) != 1 || secret != "secret-from-the-env-0123" {
					t.Fatalf("%d %v %v %q", node, v, peers, secret)
				}
			}},
		{name: "no node id", args: []string{"--cluster-raft", "h:1"}, wantErr: "--cluster-node"},
		{name: "no raft", args: []string{"--cluster-node", "1", "--cluster-data", "h:2", "--cluster-voters", "1=h:1", "--cluster-secret", testClusterSecret}, wantErr: "--cluster-raft"},
		{name: "no data address", args: []string{"--cluster-node", "1", "--cluster-raft", "h:1", "--cluster-voters", "1=h:1", "--cluster-secret", testClusterSecret}, wantErr: "--cluster-data"},
		{name: "wildcard raft", args: []string{"--cluster-node", "1", "--cluster-raft", "0.0.0.0:7600", "--cluster-data", "h:2"}, wantErr: "wildcard"},
		{name: "raft without port", args: []string{"--cluster-node", "1", "--cluster-raft", "h", "--cluster-data", "h:2"}, wantErr: "not host:port"},
		{name: "neither voters nor peers", args: []string{"--cluster-node", "1", "--cluster-raft", "h:1", "--cluster-data", "h:2", "--cluster-secret", testClusterSecret}, wantErr: "initial voters"},
		{name: "bad voters", args: with("--cluster-voters", "one=h:1", "--cluster-secret", testClusterSecret), wantErr: "--cluster-voters"},
		{name: "voter id zero", args: with("--cluster-voters", "0=h:1", "--cluster-secret", testClusterSecret), wantErr: "--cluster-voters"},
		{name: "voter listed elsewhere", args: with("--cluster-voters", "1=h:1,2=h:2", "--cluster-secret", testClusterSecret), wantErr: "voter 2 is listed at h:2"},
		{name: "bad peer", args: with("--cluster-peers", "10.0.0.1:8080", "--cluster-secret", testClusterSecret), wantErr: "peer"},
		{name: "bad http url", args: with("--cluster-http-url", "ftp://x", "--cluster-secret", testClusterSecret), wantErr: "--cluster-http-url"},
		{name: "no secret", args: with(), wantErr: "at least 16 bytes"},
		{name: "short secret", args: with("--cluster-secret", "short"), wantErr: "at least 16 bytes"},
		{name: "short secret file", args: with("--cluster-secret-file", shortFile), wantErr: "at least 16 bytes"},
		{name: "missing secret file", args: with("--cluster-secret-file", filepath.Join(dir, "nowhere")), wantErr: "--cluster-secret-file"},
		{name: "two secrets", args: with("--cluster-secret", testClusterSecret, "--cluster-secret-file", secretFile), wantErr: "not both"},
		{name: "unknown yaml key", yaml: "cluster:\n  nodes: 3\n", wantErr: "nodes"},
		{name: "yaml voter id zero", yaml: "cluster:\n  node: 1\n  raft: h:1\n  dataAddr: h:2\n  voters: {0: h:1}\n  secret: " + testClusterSecret + "\n", wantErr: "start at 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(clusterSecretEnv, tc.env)
			args := append([]string{"--auth=false", "--data", t.TempDir()}, tc.args...)
			if tc.yaml != "" {
				path := filepath.Join(t.TempDir(), "node.yaml")
				if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--config", path)
			}
			nf, err := parseGeoFlags(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			_, reg, err := nf.loadAll()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one about %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check == nil {
				if reg != nil {
					t.Fatalf("a region of one node got region options %+v", reg)
				}
				return
			}
			if reg == nil {
				t.Fatal("no region options")
			}
			m := reg.Meta
			tc.check(t, m.Node, m.Addrs.Raft, m.Addrs.Data, m.Addrs.HTTP, m.Bootstrap, m.Peers, m.Secret)
		})
	}
}
