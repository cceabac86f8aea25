package tlsutil

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestGenerateSelfSigned(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	certPEM, keyPEM, err := GenerateSelfSigned(rand.Reader, []string{"localhost", "127.0.0.1"}, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(certPEM)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	for _, host := range []string{"localhost", "127.0.0.1"} {
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, DNSName: host, CurrentTime: now}); err != nil {
			t.Errorf("verify for %s: %v", host, err)
		}
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: pool, DNSName: "example.com", CurrentTime: now}); err == nil {
		t.Error("valid for a host it does not name")
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost", CurrentTime: now.Add(2 * time.Hour)}); err == nil {
		t.Error("valid after its expiry")
	}
	if _, _, err := GenerateSelfSigned(rand.Reader, nil, now, time.Hour); err == nil {
		t.Error("a certificate for no host")
	}
}

func TestEnsureDevCertKeepsAndRenews(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Now()
	cert, key, err := EnsureDevCert(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(cert)
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st.Mode(), err)
	}
	if _, _, err := EnsureDevCert(dir, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(cert); string(again) != string(first) {
		t.Fatal("a valid certificate was replaced")
	}
	if _, _, err := EnsureDevCert(dir, now.Add(devValidity)); err != nil {
		t.Fatal(err)
	}
	if renewed, _ := os.ReadFile(cert); string(renewed) == string(first) {
		t.Fatal("an expiring certificate was kept")
	}
	// A damaged key is replaced too.
	if err := os.WriteFile(key, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := EnsureDevCert(dir, now); err != nil {
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(cert, key); err != nil {
		t.Fatalf("after repair: %v", err)
	}
}

func TestServerConfigHandshake(t *testing.T) {
	data := t.TempDir()
	srvCfg, err := Config{Dev: true}.Server(data, time.Now())
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
	cliCfg, err := ClientConfig(filepath.Join(data, DevDir, "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cliCfg.ServerName = "localhost"
	c, err := tls.Dial("tcp", ln.Addr().String(), cliCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hi" {
		t.Fatalf("echo %q %v", buf, err)
	}
	// A client that does not trust the certificate fails the handshake.
	if c2, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{ServerName: "localhost"}); err == nil {
		c2.Close()
		t.Fatal("an untrusted self-signed certificate was accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		c  Config
		ok bool
	}{
		{Config{}, true},
		{Config{Dev: true}, true},
		{Config{CertFile: "c", KeyFile: "k"}, true},
		{Config{CertFile: "c"}, false},
		{Config{ClientCAFile: "ca"}, false},
	} {
		if err := tc.c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: %v", tc.c, err)
		}
	}
	if cfg, err := (Config{}).Server(t.TempDir(), time.Now()); cfg != nil || err != nil {
		t.Fatalf("TLS off: %v %v", cfg, err)
	}
	if _, err := (Config{CertFile: "/nonexistent", KeyFile: "/nonexistent"}).Server(t.TempDir(), time.Now()); err == nil {
		t.Fatal("missing files loaded")
	}
}
