package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func parseGeoFlags(t *testing.T, args ...string) (nodeFlags, error) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var nf nodeFlags
	nf.register(fs)
	if err := fs.Parse(args); err != nil {
		return nf, err
	}
	return nf, nil
}

func TestGeoConfigFromYAMLAndFlags(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "us-east.yaml")
	yaml := `region: us-east
data: ` + dir + `
repl: 127.0.0.1:7400
peers:
  eu-west: 10.0.0.2:7400
  ap-south: 10.0.0.3:7400
fabricSecret: "0123456789abcdef-secret"
wan: {latency: 40ms, jitter: 5ms, loss: 0.01}
`
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	nf, err := parseGeoFlags(t, "--config", path, "--auth=false")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := nf.load()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Peers) != 2 || cfg.Peers["eu-west"] != "10.0.0.2:7400" || cfg.ReplAddr != "127.0.0.1:7400" ||
		cfg.WAN.Latency != 40*time.Millisecond || cfg.WAN.Jitter != 5*time.Millisecond || cfg.WAN.Loss != 0.01 {
		t.Fatalf("yaml: %+v", cfg)
	}
	// Flags win over the file.
	nf, err = parseGeoFlags(t, "--config", path, "--auth=false", "--peer", "eu-west=h:1", "--repl", "h:0",
		"--fabric-secret", "another-secret-of-16+", "--wan-latency", "1ms", "--wan-loss", "0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err = nf.load(); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Peers) != 1 || cfg.ReplAddr != "h:0" || cfg.FabricSecret != "another-secret-of-16+" ||
		cfg.WAN.Latency != time.Millisecond || cfg.WAN.Loss != 0 || cfg.WAN.Jitter != 5*time.Millisecond {
		t.Fatalf("flags: %+v", cfg)
	}
	// The secret may come from the environment.
	t.Setenv(fabricSecretEnv, "secret-from-the-environment")
	nf, _ = parseGeoFlags(t, "--auth=false", "--data", dir, "--region", "a", "--peer", "b=h:1", "--repl", "h:0")
	if cfg, err = nf.load(); err != nil || cfg.FabricSecret != "secret-from-the-environment" {
		t.Fatalf("env secret: %q, %v", cfg.FabricSecret, err)
	}
}

func TestGeoFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--peer", "no-address"},
		{"--peer", "b=h:1", "--peer", "b=h:2"},
	} {
		if _, err := parseGeoFlags(t, args...); err == nil {
			t.Errorf("%v: parsed", args)
		}
	}
	for _, args := range [][]string{
		{"--wan-latency", "soon"},
		{"--wan-loss", "2"},
		{"--region", "a", "--peer", "b=h:1"}, // no repl, no secret
		{"--region", "a", "--peer", "a=h:1", "--repl", "h:0", "--fabric-secret", strings.Repeat("s", 16)}, // self
	} {
		nf, err := parseGeoFlags(t, append(args, "--auth=false", "--data", t.TempDir())...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if _, err := nf.load(); err == nil {
			t.Errorf("%v: loaded", args)
		}
	}
}
