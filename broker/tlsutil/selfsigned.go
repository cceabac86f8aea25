package tlsutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// devValidity is how long a generated certificate is valid; it is
// regenerated when less than devRenewBefore remains.
const (
	devValidity    = 365 * 24 * time.Hour
	devRenewBefore = 7 * 24 * time.Hour
)

// DevHosts are the names a development certificate is valid for.
var DevHosts = []string{"localhost", "127.0.0.1", "::1"}

// GenerateSelfSigned returns a self-signed ECDSA P-256 certificate for
// hosts (DNS names or IP addresses), valid from now for validity, and its
// private key, both PEM-encoded. The certificate is its own CA: clients
// trust it by adding it to their roots.
func GenerateSelfSigned(rnd io.Reader, hosts []string, now time.Time, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	if len(hosts) == 0 {
		return nil, nil, errors.New("tls: a certificate needs at least one host")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: generate key: %w", err)
	}
	serial, err := rand.Int(rnd, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("tls: draw serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"Causeway development"}, CommonName: hosts[0]},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rnd, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: create certificate: %w", err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: encode key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	return certPEM, keyPEM, nil
}

// EnsureDevCert makes sure dir holds a development certificate (cert.pem)
// and key (key.pem) valid at now for DevHosts and this machine's host
// name, generating them when they are missing, unreadable or about to
// expire. The key file is readable by its owner only.
func EnsureDevCert(dir string, now time.Time) (certFile, keyFile string, err error) {
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if validDevCert(certFile, keyFile, now) {
		return certFile, keyFile, nil
	}
	hosts := append([]string(nil), DevHosts...)
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		hosts = append(hosts, h)
	}
	certPEM, keyPEM, err := GenerateSelfSigned(rand.Reader, hosts, now, devValidity)
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("tls: create %s: %w", dir, err)
	}
	if err := writeFile(keyFile, keyPEM, 0o600); err != nil {
		return "", "", err
	}
	if err := writeFile(certFile, certPEM, 0o644); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// validDevCert reports whether the pair loads and stays valid a while.
func validDevCert(certFile, keyFile string, now time.Time) bool {
	b, err := os.ReadFile(certFile)
	if err != nil {
		return false
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return false
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil || now.Before(c.NotBefore) || now.Add(devRenewBefore).After(c.NotAfter) {
		return false
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return false
	}
	kblk, _ := pem.Decode(kb)
	if kblk == nil {
		return false
	}
	key, err := x509.ParseECPrivateKey(kblk.Bytes)
	if err != nil {
		return false
	}
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	return ok && pub.Equal(&key.PublicKey)
}

// writeFile writes b to name through a temporary file and a rename, so a
// crash leaves the old file or the new one.
func writeFile(name string, b []byte, perm os.FileMode) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, perm); err != nil {
		return fmt.Errorf("tls: write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return fmt.Errorf("tls: rename %s: %w", tmp, err)
	}
	return nil
}
