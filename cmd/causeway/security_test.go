package main

import (
	"bytes"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/auth"
)

func TestSecurityFlags(t *testing.T) {
	off := false
	for _, tc := range []struct {
		args    []string
		file    *bool // the configuration file's auth.enabled
		wantOn  bool
		wantErr bool
	}{
		{args: nil, wantOn: true},
		{args: nil, file: &off, wantOn: false},
		{args: []string{"--auth=false"}, wantOn: false},
		{args: []string{"--auth=true"}, file: &off, wantOn: true},
		{args: []string{"--auth=maybe"}, wantErr: true},
	} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		var f securityFlags
		f.register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		cfg := broker.Config{Auth: auth.Config{Enabled: tc.file}}
		err := f.apply(&cfg)
		if (err != nil) != tc.wantErr {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if err == nil && cfg.Auth.On() != tc.wantOn {
			t.Errorf("%v (file %v): auth on = %v", tc.args, tc.file, cfg.Auth.On())
		}
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var f securityFlags
	f.register(fs)
	_, key, _ := auth.NewKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err := fs.Parse([]string{"--tls-dev", "--admin-key", key, "--tls-cert", "c.pem", "--tls-key", "k.pem"}); err != nil {
		t.Fatal(err)
	}
	var cfg broker.Config
	if err := f.apply(&cfg); err != nil {
		t.Fatal(err)
	}
	if !cfg.TLS.Dev || cfg.TLS.CertFile != "c.pem" || cfg.TLS.KeyFile != "k.pem" || cfg.Auth.AdminKey != key {
		t.Fatalf("%+v %+v", cfg.TLS, cfg.Auth)
	}
}

func TestDevSecurityKeepsItsKey(t *testing.T) {
	dir := t.TempDir()
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	d := registerDevSecurity(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	cfg, key, err := d.config(dir)
	if err != nil || !auth.IsKey(key) || cfg.AdminKey != key || len(cfg.JWTSecret) < auth.MinSecretBytes || !cfg.On() {
		t.Fatalf("%+v %q %v", cfg, key, err)
	}
	if st, err := os.Stat(filepath.Join(dir, "admin.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("admin.key: %v %v", st, err)
	}
	again, key2, err := d.config(dir)
	if err != nil || key2 != key || again.JWTSecret != cfg.JWTSecret {
		t.Fatal("a second run changed the fabric's key or secret")
	}
	if err := os.WriteFile(filepath.Join(dir, "admin.key"), []byte("junk\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.config(dir); err == nil {
		t.Fatal("a damaged admin.key was accepted")
	}
	if err := fs.Parse([]string{"--auth=false"}); err != nil {
		t.Fatal(err)
	}
	if cfg, key, err := d.config(dir); err != nil || key != "" || cfg.On() {
		t.Fatalf("--auth=false: %+v %q %v", cfg, key, err)
	}
}

func TestAdminClientSendsToken(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get("Authorization") }))
	defer srv.Close()
	if _, err := adminClient("k1").Get(srv.URL); err != nil || got != "Bearer k1" {
		t.Fatalf("explicit token: %q %v", got, err)
	}
	t.Setenv(tokenEnv, "k2")
	if _, err := adminClient("").Get(srv.URL); err != nil || got != "Bearer k2" {
		t.Fatalf("token from the environment: %q %v", got, err)
	}
	var out bytes.Buffer
	if code := runKeygen(nil, &out, io.Discard); code != 0 || !auth.IsKey(strings.TrimSpace(out.String())) {
		t.Fatalf("keygen: %d %q", code, out.String())
	}
}

// syncBuffer is a bytes.Buffer safe to read while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
