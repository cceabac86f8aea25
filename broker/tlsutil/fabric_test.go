package tlsutil

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestIssueCert(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	caPEM, caKeyPEM, err := GenerateCA(rand.Reader, "test CA", now, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := IssueCert(rand.Reader, caPEM, caKeyPEM, "us-east", []string{"127.0.0.1", "localhost"}, now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	ca, _ := parseCert(caPEM)
	c, _ := parseCert(certPEM)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	for _, tc := range []struct {
		host  string
		usage x509.ExtKeyUsage
		at    time.Time
		ok    bool
	}{
		{"127.0.0.1", x509.ExtKeyUsageServerAuth, now, true},
		{"localhost", x509.ExtKeyUsageClientAuth, now, true},
		{"example.com", x509.ExtKeyUsageServerAuth, now, false},
		{"localhost", x509.ExtKeyUsageServerAuth, now.Add(3 * time.Hour), false}, // clamped to the CA's validity
	} {
		_, err := c.Verify(x509.VerifyOptions{Roots: pool, DNSName: tc.host, CurrentTime: tc.at, KeyUsages: []x509.ExtKeyUsage{tc.usage}})
		if (err == nil) != tc.ok {
			t.Errorf("%s at %v: %v", tc.host, tc.at, err)
		}
	}
	if c.IsCA {
		t.Error("a region certificate can sign certificates")
	}
	// The CA signs certificates and nothing else.
	if !ca.IsCA || ca.KeyUsage&x509.KeyUsageDigitalSignature != 0 || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("CA key usage %b, IsCA %v", ca.KeyUsage, ca.IsCA)
	}
	for _, tc := range []struct {
		name          string
		caPEM, keyPEM []byte
		hosts         []string
	}{
		{"a leaf as CA", certPEM, keyPEM, []string{"localhost"}},
		{"a damaged CA certificate", []byte("junk"), caKeyPEM, []string{"localhost"}},
		{"a damaged CA key", caPEM, []byte("junk"), []string{"localhost"}},
		{"no host", caPEM, caKeyPEM, nil},
	} {
		if _, _, err := IssueCert(rand.Reader, tc.caPEM, tc.keyPEM, "x", tc.hosts, now, time.Hour); err == nil {
			t.Errorf("%s: issued", tc.name)
		}
	}
}

// TestEnsureDevFabric: the first call generates the CA and a certificate
// per region; later calls keep what is valid and regenerate only what is
// missing, damaged, expiring or for other hosts (everything when the CA
// is replaced).
func TestEnsureDevFabric(t *testing.T) {
	dir := filepath.Join(t.TempDir(), DevFabricDir)
	now := time.Now()
	regions, hosts := []string{"us-east", "eu-west"}, []string{"127.0.0.1", "localhost"}
	f, err := EnsureDevFabric(dir, regions, hosts, now)
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	snapshot := func() map[string]string {
		m := map[string]string{"ca": read(f.CAFile)}
		for r, files := range f.Regions {
			m[r] = read(files.CertFile)
		}
		return m
	}
	for _, files := range f.Regions {
		if st, err := os.Stat(files.KeyFile); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("key file %s: %v %v", files.KeyFile, st.Mode(), err)
		}
	}
	first := snapshot()
	changed := func(before, after map[string]string) (out []string) {
		for k := range before {
			if before[k] != after[k] {
				out = append(out, k)
			}
		}
		return out
	}
	again := func(hosts []string, at time.Time) map[string]string {
		t.Helper()
		if _, err := EnsureDevFabric(dir, regions, hosts, at); err != nil {
			t.Fatal(err)
		}
		return snapshot()
	}
	if c := changed(first, again(hosts, now.Add(time.Hour))); len(c) != 0 {
		t.Fatalf("valid files replaced: %v", c)
	}
	// One region's key lost: only that region is regenerated.
	if err := os.Remove(f.Regions["eu-west"].KeyFile); err != nil {
		t.Fatal(err)
	}
	second := again(hosts, now)
	if c := changed(first, second); len(c) != 1 || c[0] != "eu-west" {
		t.Fatalf("after losing eu-west's key, regenerated %v", c)
	}
	// Another host: the regions, not the CA.
	third := again([]string{"127.0.0.2"}, now)
	if c := changed(second, third); len(c) != 2 || third["ca"] != second["ca"] {
		t.Fatalf("for another host, regenerated %v", c)
	}
	// A damaged CA key, or an expiring CA: everything.
	if err := os.WriteFile(filepath.Join(dir, "ca-key.pem"), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	fourth := again([]string{"127.0.0.2"}, now)
	if c := changed(third, fourth); len(c) != 3 {
		t.Fatalf("after a damaged CA key, regenerated %v", c)
	}
	if c := changed(fourth, again([]string{"127.0.0.2"}, now.Add(devValidity))); len(c) != 3 {
		t.Fatalf("at the end of the validity, regenerated %v", c)
	}
	for _, bad := range [][]string{{"../evil"}, {"a/b"}, {""}, {".hidden"}, {"ca"}, nil} {
		if _, err := EnsureDevFabric(dir, bad, hosts, now); err == nil {
			t.Errorf("regions %q accepted", bad)
		}
	}
}

// TestDevFabricMutualTLS: two regions' certificates complete a mutual TLS
// handshake verified by the CA; a client without a certificate, or with
// one of another CA, is refused.
func TestDevFabricMutualTLS(t *testing.T) {
	data := t.TempDir()
	f, err := EnsureDevFabric(filepath.Join(data, "a"), []string{"us-east", "eu-west"}, []string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	other, err := EnsureDevFabric(filepath.Join(data, "b"), []string{"intruder"}, []string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	east := f.Regions["us-east"]
	srvCfg, err := Config{CertFile: east.CertFile, KeyFile: east.KeyFile, ClientCAFile: f.CAFile}.Server(data, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srvCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	dial := func(client CertFiles) error {
		cfg, err := ClientConfig(f.CAFile)
		if err != nil {
			t.Fatal(err)
		}
		if client.CertFile != "" {
			pair, err := tls.LoadX509KeyPair(client.CertFile, client.KeyFile)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		c, err := tls.Dial("tcp", ln.Addr().String(), cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		// TLS 1.3 reports a refused client certificate on the first read.
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("hi")); err != nil {
			return err
		}
		buf := make([]byte, 2)
		if _, err := io.ReadFull(c, buf); err != nil {
			return err
		}
		if st := c.ConnectionState(); len(st.VerifiedChains) == 0 || st.PeerCertificates[0].Subject.CommonName != "us-east" {
			return errors.New("the server's certificate was not verified as us-east's")
		}
		return nil
	}
	if err := dial(f.Regions["eu-west"]); err != nil {
		t.Fatalf("eu-west to us-east: %v", err)
	}
	for name, c := range map[string]CertFiles{"no certificate": {}, "another CA's certificate": other.Regions["intruder"]} {
		err := dial(c)
		var ne net.Error
		if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
			t.Errorf("a client with %s: %v", name, err)
		}
	}
}
