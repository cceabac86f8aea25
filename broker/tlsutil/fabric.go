package tlsutil

import (
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A development fabric's mutual TLS: one CA, and one certificate per
// region signed by it, good for both ends of a peer link (a region serves
// with it and dials with it). Every region verifies its peers with the CA
// (broker.Config.ReplTLS: CertFile, KeyFile, ClientCAFile).

// DevFabricDir is the directory under `causeway dev`'s data directory
// that holds the fabric's CA (ca.pem, ca-key.pem) and the regions'
// certificates ({region}.pem, {region}-key.pem).
const DevFabricDir = "repl-tls"

// GenerateCA returns a self-signed ECDSA P-256 CA certificate named name,
// valid from now for validity, that signs certificates and nothing else,
// and its private key, both PEM-encoded.
func GenerateCA(rnd io.Reader, name string, now time.Time, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	tmpl, err := newTemplate(rnd, name, "Causeway development", now, validity)
	if err != nil {
		return nil, nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	tmpl.IsCA = true
	tmpl.MaxPathLenZero = true
	return createCert(rnd, tmpl, nil, nil)
}

// IssueCert returns a certificate named name for hosts (DNS names or IP
// addresses), signed by the CA (caCertPEM, caKeyPEM), valid from now for
// validity (never past the CA) for server and client authentication
// (both ends of mutual TLS), and its new private key, both PEM-encoded.
func IssueCert(rnd io.Reader, caCertPEM, caKeyPEM []byte, name string, hosts []string, now time.Time, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	if len(hosts) == 0 {
		return nil, nil, errors.New("tls: a certificate needs at least one host")
	}
	ca, err := parseCert(caCertPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: CA certificate: %w", err)
	}
	caKey, err := parseKey(caKeyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: CA key: %w", err)
	}
	if !ca.IsCA {
		return nil, nil, errors.New("tls: the signing certificate is not a CA")
	}
	tmpl, err := newTemplate(rnd, name, "Causeway development", now, validity)
	if err != nil {
		return nil, nil, err
	}
	if tmpl.NotAfter.After(ca.NotAfter) {
		tmpl.NotAfter = ca.NotAfter
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	addHosts(tmpl, hosts)
	return createCert(rnd, tmpl, ca, caKey)
}

// CertFiles are the PEM files of a certificate and its key.
type CertFiles struct {
	CertFile string
	KeyFile  string
}

// DevFabric are the files of a development fabric's mutual TLS.
type DevFabric struct {
	// CAFile is the CA every region verifies its peers with.
	CAFile string
	// Regions holds each region's certificate and key.
	Regions map[string]CertFiles
}

// EnsureDevFabric makes sure dir holds a development CA and, for each
// region, a certificate signed by it for hosts, all valid at now for a
// while. It generates only what is missing, unreadable, about to expire,
// not for those hosts or not signed by the CA (all of them when the CA is
// replaced). Key files are readable by their owner only.
func EnsureDevFabric(dir string, regions, hosts []string, now time.Time) (DevFabric, error) {
	f := DevFabric{CAFile: filepath.Join(dir, "ca.pem"), Regions: map[string]CertFiles{}}
	if len(regions) == 0 || len(hosts) == 0 {
		return f, errors.New("tls: a development fabric needs regions and hosts")
	}
	for _, r := range regions {
		if !safeFileName(r) || r == "ca" {
			return f, fmt.Errorf("tls: region name %q cannot name a certificate file", r)
		}
		f.Regions[r] = CertFiles{CertFile: filepath.Join(dir, r+".pem"), KeyFile: filepath.Join(dir, r+"-key.pem")}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return f, fmt.Errorf("tls: create %s: %w", dir, err)
	}
	caKeyFile := filepath.Join(dir, "ca-key.pem")
	ca, _, err := loadPair(f.CAFile, caKeyFile)
	renewAll := err != nil || !ca.IsCA || !fresh(ca, now)
	if renewAll {
		certPEM, keyPEM, err := GenerateCA(rand.Reader, "Causeway development fabric CA", now, devValidity)
		if err != nil {
			return f, err
		}
		if err := writePair(f.CAFile, caKeyFile, certPEM, keyPEM); err != nil {
			return f, err
		}
	}
	caPEM, err := os.ReadFile(f.CAFile)
	if err != nil {
		return f, fmt.Errorf("tls: read %s: %w", f.CAFile, err)
	}
	caKeyPEM, err := os.ReadFile(caKeyFile)
	if err != nil {
		return f, fmt.Errorf("tls: read %s: %w", caKeyFile, err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	for _, r := range regions {
		files := f.Regions[r]
		if !renewAll && validIssued(files, pool, hosts, now) {
			continue
		}
		certPEM, keyPEM, err := IssueCert(rand.Reader, caPEM, caKeyPEM, r, hosts, now, devValidity)
		if err != nil {
			return f, err
		}
		if err := writePair(files.CertFile, files.KeyFile, certPEM, keyPEM); err != nil {
			return f, err
		}
	}
	return f, nil
}

// validIssued reports whether files hold a pair signed by a CA of pool,
// valid at now for a while, for client and server use, for every host.
func validIssued(files CertFiles, pool *x509.CertPool, hosts []string, now time.Time) bool {
	c, _, err := loadPair(files.CertFile, files.KeyFile)
	if err != nil || !fresh(c, now) {
		return false
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}); err != nil {
		return false
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
				return false
			}
		} else if !slices.Contains(c.DNSNames, h) {
			return false
		}
	}
	return true
}

// writePair writes a key (owner-readable) and its certificate.
func writePair(certFile, keyFile string, certPEM, keyPEM []byte) error {
	if err := writeFile(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	return writeFile(certFile, certPEM, 0o644)
}

// safeFileName reports whether name can be a file name in a directory
// as it is: ASCII letters, digits and _-. only, not starting with a dot.
func safeFileName(name string) bool {
	if name == "" || strings.HasPrefix(name, ".") {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
