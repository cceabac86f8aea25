package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// --console wins over the YAML file's console, which wins over the
// default (off); a value that is not a boolean is refused.
func TestConsoleSwitch(t *testing.T) {
	dir := t.TempDir()
	on := filepath.Join(dir, "on.yaml")
	if err := os.WriteFile(on, []byte("console: true\nauth: {enabled: false}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"--console"}, true},
		{[]string{"--console=false"}, false},
		{[]string{"--config", on}, true},
		{[]string{"--config", on, "--console=false"}, false},
	} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var nf nodeFlags
		nf.register(fs)
		if err := fs.Parse(append(c.args, "--data", dir)); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if _, _, err := nf.loadAll(); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if got := nf.console.enabled(); got != c.want {
			t.Errorf("%v: console %v, want %v", c.args, got, c.want)
		}
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var nf nodeFlags
	nf.register(fs)
	if err := fs.Parse([]string{"--console=maybe"}); err == nil {
		t.Error("--console=maybe was accepted")
	}
}
