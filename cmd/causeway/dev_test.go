package main

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/tlsutil"
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
	// The how-to is printed after fabric.json is written: wait for it.
	for !strings.Contains(out.String(), "Stop with Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("no how-to printed:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond) // pacing a check with a deadline
	}
	if !strings.Contains(out.String(), "causeway dev link down us-east eu-west") {
		t.Fatalf("no how-to printed:\n%s", out.String())
	}
	if ff.AdminKey == "" {
		t.Fatal("authentication is on, but fabric.json holds no admin key")
	}
	checkPeerTLS(t, dir, ff)
	if !strings.Contains(out.String(), "Links between regions: mutual TLS") {
		t.Fatalf("the how-to does not say the links are TLS:\n%s", out.String())
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

// checkPeerTLS checks that the regions' peer links are mutual TLS with
// the dev fabric's CA: us-east's replication listener proves itself with
// its certificate to a client holding eu-west's, and refuses a client
// without a certificate and a plain-text one.
func checkPeerTLS(t *testing.T, dir string, ff fabricFile) {
	t.Helper()
	if ff.ReplCA == "" {
		t.Fatal("fabric.json names no CA: the peer links are plain TCP")
	}
	tlsDir := filepath.Join(dir, tlsutil.DevFabricDir)
	if ff.ReplCA != filepath.Join(tlsDir, "ca.pem") {
		t.Fatalf("replCA %s", ff.ReplCA)
	}
	east := ff.Regions[0]
	dial := func(withCert bool) error {
		cfg, err := tlsutil.ClientConfig(ff.ReplCA)
		if err != nil {
			t.Fatal(err)
		}
		if withCert {
			pair, err := tls.LoadX509KeyPair(filepath.Join(tlsDir, "eu-west.pem"), filepath.Join(tlsDir, "eu-west-key.pem"))
			if err != nil {
				t.Fatal(err)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: geoTimeout}, Config: cfg}
		c, err := d.Dial("tcp", east.Repl)
		if err != nil {
			return err
		}
		defer c.Close()
		st := c.(*tls.Conn).ConnectionState()
		if len(st.VerifiedChains) == 0 || st.PeerCertificates[0].Subject.CommonName != east.Name {
			t.Fatalf("the replication listener of %s showed %q", east.Name, st.PeerCertificates[0].Subject.CommonName)
		}
		if withCert {
			return nil
		}
		// TLS 1.3 reports a refused client certificate on the first read.
		_ = c.SetDeadline(time.Now().Add(geoTimeout))
		_, err = c.Read(make([]byte, 1))
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return nil
		}
		return err
	}
	if err := dial(true); err != nil {
		t.Fatalf("mutual TLS with the replication listener of %s: %v", east.Name, err)
	}
	if err := dial(false); err == nil {
		t.Fatalf("the replication listener of %s served a client without a certificate", east.Name)
	}
	plain, err := net.DialTimeout("tcp", east.Repl, geoTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	_, _ = plain.Write([]byte("CAUSEWAY plain-text hello\n"))
	_ = plain.SetDeadline(time.Now().Add(geoTimeout))
	// A TLS server closes the connection, after an alert record at most.
	got, err := io.ReadAll(plain)
	if ne, ok := err.(net.Error); (ok && ne.Timeout()) || (len(got) > 0 && got[0] != 0x15) {
		t.Fatalf("the replication listener of %s answered plain text with %q (%v)", east.Name, got, err)
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
