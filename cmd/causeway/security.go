package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/auth"
)

// tokenEnv is the environment variable the client sub-commands (produce,
// consume, status, dev link) take their bearer token from when --token is
// not given.
const tokenEnv = "CAUSEWAY_TOKEN"

// securityFlags are serve's authentication and TLS flags. Authentication
// is on unless the configuration file or --auth=false turns it off.
type securityFlags struct {
	auth, adminKey, tlsCert, tlsKey string
	tlsDev                          bool
}

func (f *securityFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.auth, "auth", "", "authenticate every request: true (default) or false")
	fs.StringVar(&f.adminKey, "admin-key", "", "superuser API key to make sure of at start (see causeway keygen; default: generated at the first start and printed once)")
	fs.BoolVar(&f.tlsDev, "tls-dev", false, "serve TLS with a self-signed certificate generated into DATA/tls")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate (PEM) for the HTTP/WebSocket and Kafka listeners")
	fs.StringVar(&f.tlsKey, "tls-key", "", "TLS private key (PEM)")
}

// apply lays the flags over cfg (which holds the file's settings) and
// turns authentication on when neither said otherwise.
func (f *securityFlags) apply(cfg *broker.Config) error {
	switch f.auth {
	case "":
		if cfg.Auth.Enabled == nil {
			on := true
			cfg.Auth.Enabled = &on
		}
	case "true", "false":
		v := f.auth == "true"
		cfg.Auth.Enabled = &v
	default:
		return fmt.Errorf("--auth=%q: want true or false", f.auth)
	}
	if f.adminKey != "" {
		cfg.Auth.AdminKey = f.adminKey
	}
	if f.tlsDev {
		cfg.TLS.Dev = true
	}
	if f.tlsCert != "" || f.tlsKey != "" {
		cfg.TLS.CertFile, cfg.TLS.KeyFile = f.tlsCert, f.tlsKey
	}
	return nil
}

// printAdminKey shows a generated superuser key once, with how to use it.
func printAdminKey(w io.Writer, key string) {
	fmt.Fprintf(w, `
Superuser API key (shown once; keep it, only its hash is stored):

  %[1]s

Use it as a bearer token:  export %[2]s=%[1]s
  curl -H "Authorization: Bearer $%[2]s" ...   (or ?token= on WebSocket URLs)

`, key, tokenEnv)
}

// runKeygen prints a fresh API key, for the adminKey setting.
func runKeygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintln(fs.Output(), "usage: causeway keygen   (prints a new API key, for --admin-key)") }
	if code, goOn := parseArgs(fs, args, stdout, stderr); !goOn {
		return code
	}
	_, key, err := auth.NewKey(rand.Reader)
	if err != nil {
		fmt.Fprintln(stderr, "causeway keygen:", err)
		return 1
	}
	fmt.Fprintln(stdout, key)
	return 0
}

// devSecurity is `causeway dev`'s --auth flag.
type devSecurity struct{ auth *bool }

func registerDevSecurity(fs *flag.FlagSet) devSecurity {
	return devSecurity{auth: fs.Bool("auth", true, "authenticate every request with the printed superuser key")}
}

// config returns the regions' authentication settings: one superuser key
// and one token secret for the whole fabric, kept in the data directory
// across runs (admin.key, jwt.secret; owner-readable only). key is ""
// when authentication is off.
func (d devSecurity) config(dataDir string) (cfg auth.Config, key string, err error) {
	off := false
	if !*d.auth {
		return auth.Config{Enabled: &off}, "", nil
	}
	on := true
	key, err = readOrCreate(filepath.Join(dataDir, "admin.key"), func() (string, error) {
		_, k, err := auth.NewKey(rand.Reader)
		return k, err
	})
	if err == nil && !auth.IsKey(key) {
		err = errors.New("admin.key does not hold an API key")
	}
	if err != nil {
		return cfg, "", err
	}
	secret, err := readOrCreate(filepath.Join(dataDir, "jwt.secret"), func() (string, error) {
		b := make([]byte, auth.MinSecretBytes)
		_, err := rand.Read(b)
		return hex.EncodeToString(b), err
	})
	if err != nil {
		return cfg, "", err
	}
	return auth.Config{Enabled: &on, AdminKey: key, JWTSecret: secret}, key, nil
}

// readOrCreate returns the trimmed content of file, creating it with
// create's value first when it does not exist.
func readOrCreate(file string, create func() (string, error)) (string, error) {
	b, err := os.ReadFile(file)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	v, err := create()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(file, []byte(v+"\n"), 0o600); err != nil {
		return "", err
	}
	return v, nil
}

// printDevAuth tells how to use the fabric's superuser key.
func printDevAuth(w io.Writer, key string) {
	if key == "" {
		fmt.Fprintln(w, "Authentication is off (--auth=false).")
		return
	}
	fmt.Fprintf(w, `Superuser API key of every region (also in fabric.json; --auth=false turns authentication off):
  export %s=%s
`, tokenEnv, key)
}

// adminClient is an HTTP client that sends token (or $CAUSEWAY_TOKEN when
// token is empty) as a bearer token.
func adminClient(token string) *http.Client {
	if token == "" {
		token = os.Getenv(tokenEnv)
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: bearer{token: token, next: http.DefaultTransport}}
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.token != "" && r.Header.Get("Authorization") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return b.next.RoundTrip(r)
}
