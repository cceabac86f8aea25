package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/causeway/causeway/internal/testnet"
)

// TestDevSmoke runs `causeway dev` on a temporary directory, reads its
// fabric.json, publishes in one region and consumes in another with the
// CLI, cuts and heals a link with `causeway dev link`, and checks that
// messages published on both sides of the cut arrive after the heal.
func TestDevSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := causewayBinary(t)
	dir := t.TempDir()
	var out, errOut syncBuffer // written by the process's copier goroutines
	// Three regions; their replication ports are consecutive from a base
	// below the ephemeral range, so no client socket can take one first.
	replBase := strconv.Itoa(testnet.FreeRange(t, 3))
	cmd := exec.Command(bin, "dev", "--data", dir, "--http-port", "0", "--kafka-port", "0", "--repl-port", replBase, "--fsync", "never")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	var ff fabricFile
	deadline := time.Now().Add(geoTimeout)
	for {
		var err error
		if ff, err = readFabricFile(dir); err == nil {
			break
		}
		select {
		case err := <-exited:
			stopped = true
			t.Fatalf("causeway dev exited: %v\n%s", err, errOut.String())
		case <-time.After(20 * time.Millisecond): // pacing a check with a deadline
		}
		if time.Now().After(deadline) {
			t.Fatalf("no fabric.json after %s", geoTimeout)
		}
	}
	if len(ff.Regions) != 3 || ff.Regions[0].Name != "us-east" || ff.Regions[0].Kafka == "" || ff.Regions[0].Repl == "" ||
		!strings.HasSuffix(ff.Regions[0].Admin, "/_api/replication") || !strings.HasPrefix(ff.Regions[0].WS, "ws://") {
		t.Fatalf("fabric.json: %+v", ff)
	}
	if !strings.Contains(out.String(), "causeway dev link down us-east eu-west") {
		t.Fatalf("no how-to printed:\n%s", out.String())
	}
	if ff.AdminKey == "" {
		t.Fatal("authentication is on, but fabric.json holds no admin key")
	}
	t.Setenv(tokenEnv, ff.AdminKey) // the client sub-commands' credential
	east, west := ff.Regions[0].HTTP, ff.Regions[1].HTTP
	cli := func(stdin string, args ...string) string {
		t.Helper()
		var o, e bytes.Buffer
		if code := run(args, strings.NewReader(stdin), &o, &e); code != 0 {
			t.Fatalf("causeway %s: exit %d: %s", strings.Join(args, " "), code, e.String())
		}
		return o.String()
	}
	consume := func(url string, n int) []string {
		t.Helper()
		got := cli("", "consume", "--url", url, "--stream", "tour", "--subscription", "smoke", "--initial", "earliest",
			"--count", strconv.Itoa(n), "--timeout", "60s")
		return strings.Fields(got)
	}
	cli("first\n", "produce", "--url", east, "--stream", "tour")
	if got := consume(west, 1); len(got) != 1 || got[0] != "first" {
		t.Fatalf("consumed in eu-west: %q", got)
	}
	cli("", "dev", "link", "down", "us-east", "eu-west", "--data", dir)
	status := cli("", "status", "--data", dir)
	if !strings.Contains(status, "down (cut)") || !strings.Contains(status, "us-east delivered") {
		t.Fatalf("status after the cut:\n%s", status)
	}
	cli("east-side\n", "produce", "--url", east, "--stream", "tour")
	cli("west-side\n", "produce", "--url", west, "--stream", "tour")
	cli("", "dev", "link", "up", "eu-west", "us-east", "--data", dir)
	got := consume(west, 2)
	if len(got) != 2 || !containsAll(got, "east-side", "west-side") {
		t.Fatalf("consumed in eu-west after the heal: %q", got)
	}
	var e bytes.Buffer
	if code := run([]string{"dev", "link", "down", "us-east", "nowhere", "--data", dir}, nil, &bytes.Buffer{}, &e); code == 0 {
		t.Fatal("link to an unknown region succeeded")
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Fatalf("causeway dev exit: %v\n%s", err, errOut.String())
		}
	case <-time.After(geoTimeout):
		t.Fatal("causeway dev did not stop on SIGTERM")
	}
	if _, err := os.Stat(filepath.Join(dir, fabricFileName)); !os.IsNotExist(err) {
		t.Fatalf("fabric.json left behind: %v", err)
	}
}

func containsAll(xs []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, x := range xs {
			found = found || x == w
		}
		if !found {
			return false
		}
	}
	return true
}
