package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/auth"
	"github.com/causeway/causeway/server"
)

// Every command refuses what it does not take (exit 2, the reason and the
// usage on stderr, nothing started or created) and answers -h/--help with
// its usage on stdout, exit 0.
func TestCommandsRefuseStrayArguments(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "never-created")
	cases := []struct {
		args   []string
		code   int
		stderr string // a fragment of what stderr says
	}{
		{[]string{"serve", "--data", dir, "stray"}, 2, `unexpected argument "stray"`},
		{[]string{"serve", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"status", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"dev", "lnk", "down", "a", "b"}, 2, `unexpected argument "lnk"`},
		{[]string{"dev", "--data", dir, "stray"}, 2, `unexpected argument "stray"`},
		{[]string{"dev", "link", "down", "a"}, 2, "usage: causeway dev link"},
		{[]string{"keygen", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"node", "frob", "1"}, 2, "causeway node drain"},
		{[]string{"frob"}, 2, `unknown command "frob"`},
		{[]string{"bench", "pubsub", "stray"}, 2, `unexpected argument "stray"`},
		{[]string{"bench", "collections", "stray"}, 2, `unexpected argument "stray"`},
		{[]string{"bench", "spot", "stray"}, 2, `unexpected argument "stray"`},
		{[]string{"bench", "geo", "stray"}, 2, `unexpected argument "stray"`},
		{[]string{"serve", "--help"}, 0, ""},
		{[]string{"dev", "--help"}, 0, ""},
		{[]string{"dev", "link", "-h"}, 0, ""},
		{[]string{"dev", "link", "down", "a", "b", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"status", "-h"}, 0, ""},
		{[]string{"keygen", "--help"}, 0, ""},
		{[]string{"node", "--help"}, 0, ""},
		{[]string{"help"}, 0, ""},
		{[]string{"bench", "pubsub", "--help"}, 0, ""},
		{[]string{"bench", "kafka", "-h"}, 0, ""},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(c.args, strings.NewReader(""), &stdout, &stderr)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, c.code, stderr.String())
			}
			if c.code == 0 && (stdout.Len() == 0 || stderr.Len() != 0) {
				t.Fatalf("help: %d bytes of usage on stdout, stderr %q", stdout.Len(), stderr.String())
			}
			if c.code != 0 && !strings.Contains(stderr.String(), c.stderr) {
				t.Fatalf("stderr %q does not say %q", stderr.String(), c.stderr)
			}
		})
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a refused serve created its data directory: %v", err)
	}
}

func TestLogFormats(t *testing.T) {
	for _, f := range []string{"auto", "console", "json"} {
		if _, err := newLoggerAs("info", f); err != nil {
			t.Errorf("--log-format=%s: %v", f, err)
		}
	}
	if _, err := newLoggerAs("info", "xml"); err == nil || !strings.Contains(err.Error(), "--log-format") {
		t.Errorf("--log-format=xml: %v", err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"serve", "--data", t.TempDir(), "--log-format", "xml"}, strings.NewReader(""), &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), "--log-format") {
		t.Errorf("serve --log-format=xml: exit %d, %s", code, stderr.String())
	}
}

// A node that cannot start says why in one line (no stack trace) and
// exits non-zero: the HTTP port in use, a bad address, a data directory
// another node holds.
func TestServeStartFailuresAreOneLine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	held := t.TempDir()
	off := false
	holder, err := server.Start(broker.Config{DataDir: held, HTTPAddr: "127.0.0.1:0", Auth: auth.Config{Enabled: &off}}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Shutdown(context.Background()) })
	cases := []struct {
		name string
		args []string
		says string
	}{
		{"port in use", []string{"--http", ln.Addr().String()}, "address already in use"},
		{"bad address", []string{"--http", "nonsense:::"}, "too many colons"},
		{"data directory held", []string{"--data", held, "--http", "127.0.0.1:0"}, held},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"serve", "--data", t.TempDir(), "--log-format", "json", "--log-level", "warn", "--kafka", ""}, c.args...)
			code := run(args, strings.NewReader(""), &stdout, &stderr)
			if code == 0 {
				t.Fatal("started")
			}
			last := strings.TrimSpace(stderr.String())
			if i := strings.LastIndexByte(last, '\n'); i >= 0 {
				last = last[i+1:]
			}
			if !strings.HasPrefix(last, "causeway serve: cannot start:") || !strings.Contains(last, c.says) || strings.Contains(stderr.String(), "stacktrace") {
				t.Fatalf("stderr: %s", stderr.String())
			}
		})
	}
}

// A client command refused for its credentials says where they come
// from; `status --url` takes --token (or $CAUSEWAY_TOKEN).
func TestRefusedCredentialsSayWhereTheyComeFrom(t *testing.T) {
	on := true
	_, key, err := auth.NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(broker.Config{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Auth: auth.Config{Enabled: &on, AdminKey: key}}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	t.Setenv(tokenEnv, "")
	for _, args := range [][]string{
		{"status", "--url", srv.URL()},
		{"produce", "--url", srv.URL(), "--stream", "s"},
		{"consume", "--url", srv.URL(), "--stream", "s", "--subscription", "x", "--count", "1"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, strings.NewReader("hello\n"), &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "--token or $"+tokenEnv) {
			t.Errorf("%v without a token: exit %d, stderr %s", args, code, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"status", "--url", srv.URL(), "--token", key}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Errorf("status --token: exit %d, %s", code, stderr.String())
	}
}

func TestWithCLI(t *testing.T) {
	banner := "Try:\n  causeway consume --url X &\n  echo hi | causeway produce --url Y\nprose: causeway status asks\n"
	want := "Try:\n  causeway-dev/bin/causeway consume --url X &\n  echo hi | causeway-dev/bin/causeway produce --url Y\nprose: causeway status asks\n"
	if got := withCLI(banner, "causeway-dev/bin/causeway"); got != want {
		t.Fatalf("got %q", got)
	}
	dst := filepath.Join(t.TempDir(), "bin", "causeway")
	self, _ := os.Executable()
	if err := copyExecutable(self, dst); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dst); err != nil || st.Mode()&0o100 == 0 {
		t.Fatalf("copied binary: %v, %v", st, err)
	}
}
