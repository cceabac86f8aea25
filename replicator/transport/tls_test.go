package transport

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker/tlsutil"
	"github.com/causeway/causeway/internal/testnet"
)

// TestMutualTLS: two transports with mutual TLS exchange frames; a client
// without a certificate is refused by the listener.
func TestMutualTLS(t *testing.T) {
	certPEM, keyPEM, err := tlsutil.GenerateSelfSigned(rand.Reader, []string{"127.0.0.1"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certPEM) {
		t.Fatal("pool")
	}
	server := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	client := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, RootCAs: pool}

	addrs := testnet.FreeAddrs(t, 2)
	addrA, addrB := addrs[0], addrs[1]
	ra, rb := newRecorder(), newRecorder()
	a, err := Listen(Config{Self: "a", Peers: map[string]string{"b": addrB}, ListenAddr: addrA, Secret: testSecret,
		Logger: zaptest.NewLogger(t), ServerTLS: server, ClientTLS: client}, ra)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Listen(Config{Self: "b", Peers: map[string]string{"a": addrA}, ListenAddr: addrB, Secret: testSecret,
		Logger: zaptest.NewLogger(t), ServerTLS: server, ClientTLS: client}, rb)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ra.wait(t, "a's link up", func(r *recorder) bool { return r.up["b"] })
	rb.wait(t, "b's link up", func(r *recorder) bool { return r.up["a"] })
	a.Send("b", []byte("over tls"))
	b.Send("a", []byte("and back"))
	rb.wait(t, "a's frame", func(r *recorder) bool { return len(r.msgs["a"]) == 1 })
	ra.wait(t, "b's frame", func(r *recorder) bool { return len(r.msgs["b"]) == 1 })
	if !bytes.Equal(rb.msgs["a"][0], []byte("over tls")) || !bytes.Equal(ra.msgs["b"][0], []byte("and back")) {
		t.Fatalf("frames: %q %q", rb.msgs["a"], ra.msgs["b"])
	}

	// A client that presents no certificate gets no connection.
	c, err := tls.Dial("tcp", addrB, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	if err == nil {
		_ = c.SetReadDeadline(time.Now().Add(testTimeout))
		_, err = c.Read(make([]byte, 1))
		_ = c.Close()
	}
	if err == nil {
		t.Fatal("a client without a certificate was accepted")
	}
}
