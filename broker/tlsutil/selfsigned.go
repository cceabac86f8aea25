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
	tmpl, err := newTemplate(rnd, hosts[0], "Causeway development", now, validity)
	if err != nil {
		return nil, nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	tmpl.IsCA = true
	addHosts(tmpl, hosts)
	return createCert(rnd, tmpl, nil, nil)
}

// newTemplate is the part every generated certificate shares: a random
// serial, the name, the validity (from an hour before now, for clocks
// slightly behind).
func newTemplate(rnd io.Reader, commonName, org string, now time.Time, validity time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rnd, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("tls: draw serial: %w", err)
	}
	return &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{org}, CommonName: commonName},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		BasicConstraintsValid: true,
	}, nil
}

// addHosts makes tmpl valid for hosts (DNS names or IP addresses).
func addHosts(tmpl *x509.Certificate, hosts []string) {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
}

// createCert draws a P-256 key and signs tmpl with parentKey as parent
// (nil, nil: self-signed); it returns the certificate and the new key,
// PEM-encoded.
func createCert(rnd io.Reader, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: generate key: %w", err)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rnd, tmpl, parent, &key.PublicKey, parentKey)
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
	c, _, err := loadPair(certFile, keyFile)
	return err == nil && fresh(c, now)
}

// fresh reports whether c is valid at now and for devRenewBefore more.
func fresh(c *x509.Certificate, now time.Time) bool {
	return !now.Before(c.NotBefore) && !now.Add(devRenewBefore).After(c.NotAfter)
}

// loadPair reads a PEM certificate and its PEM EC key, and checks that
// they belong together.
func loadPair(certFile, keyFile string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(certFile)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: read %s: %w", certFile, err)
	}
	c, err := parseCert(b)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: %s: %w", certFile, err)
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: read %s: %w", keyFile, err)
	}
	key, err := parseKey(kb)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: %s: %w", keyFile, err)
	}
	if pub, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return nil, nil, fmt.Errorf("tls: %s is not the key of %s", keyFile, certFile)
	}
	return c, key, nil
}

func parseCert(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(blk.Bytes)
}

func parseKey(b []byte) (*ecdsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM key")
	}
	return x509.ParseECPrivateKey(blk.Bytes)
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
