package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Config is the TLS section of a node's configuration. The zero value
// means plain TCP.
type Config struct {
	// CertFile and KeyFile are PEM files of the server certificate (chain)
	// and its private key.
	CertFile string `yaml:"certFile"`
	KeyFile  string `yaml:"keyFile"`
	// ClientCAFile, when set, requires every client to present a
	// certificate signed by one of its CAs (mutual TLS).
	ClientCAFile string `yaml:"clientCAFile"`
	// Dev generates a self-signed certificate for localhost into
	// {data}/tls at the first start and uses it (when CertFile is empty).
	Dev bool `yaml:"dev"`
}

// DevDir is the directory under the data directory where Dev keeps its
// certificate (cert.pem) and key (key.pem).
const DevDir = "tls"

// Enabled reports whether the listeners speak TLS.
func (c Config) Enabled() bool { return c.CertFile != "" || c.Dev }

// Validate reports every invalid setting.
func (c Config) Validate() error {
	var errs []error
	if (c.CertFile == "") != (c.KeyFile == "") {
		errs = append(errs, errors.New("tls: certFile and keyFile go together"))
	}
	if c.ClientCAFile != "" && !c.Enabled() {
		errs = append(errs, errors.New("tls: clientCAFile needs a certificate (certFile or dev)"))
	}
	return errors.Join(errs...)
}

// Server returns the server-side TLS configuration, generating the
// development certificate into dataDir/tls first when Dev asks for it;
// nil when TLS is off.
func (c Config) Server(dataDir string, now time.Time) (*tls.Config, error) {
	if !c.Enabled() {
		return nil, nil
	}
	certFile, keyFile := c.CertFile, c.KeyFile
	if certFile == "" {
		var err error
		if certFile, keyFile, err = EnsureDevCert(filepath.Join(dataDir, DevDir), now); err != nil {
			return nil, err
		}
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: load %s and %s: %w", certFile, keyFile, err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if c.ClientCAFile != "" {
		pool, err := LoadPool(c.ClientCAFile)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// LoadPool reads a PEM file of CA certificates.
func LoadPool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("tls: read %s: %w", file, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("tls: %s holds no PEM certificate", file)
	}
	return pool, nil
}

// ClientConfig trusts the CAs (or self-signed certificate) in caFile, for
// clients and tests of a node with a private certificate.
func ClientConfig(caFile string) (*tls.Config, error) {
	pool, err := LoadPool(caFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}, nil
}
