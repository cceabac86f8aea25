package main

import (
	"bytes"
	"strings"
	"testing"
)

// The streamapp command refuses what it does not take before it asks any
// node (the URL here answers nothing).
func TestStreamAppRefusesBadArguments(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--help"}, 0, ""},
		{[]string{}, 2, "causeway streamapp create"},
		{[]string{"frob"}, 2, `unknown action "frob"`},
		{[]string{"create", "--query", "SELECT 1"}, 2, "--name is required"},
		{[]string{"create", "--name", "a"}, 2, "--query or --file is required"},
		{[]string{"create", "--name", "a", "--query", "q", "--file", "f"}, 2, "not both"},
		{[]string{"list", "--name", "a"}, 2, "--name is not taken by list"},
		{[]string{"get", "--name", "a", "--query", "q"}, 2, "not taken by get"},
		{[]string{"delete", "--name", "a", "--active"}, 2, "--active is taken by create only"},
		{[]string{"get", "--name", "a", "--last", "5"}, 2, "dry-run only"},
		{[]string{"activate", "--name", "a", "--regions", "x"}, 2, "create and update only"},
		{[]string{"list", "stray"}, 2, `unexpected argument "stray"`},
		{[]string{"create", "--name", "a", "--file", "/nonexistent/q.sql"}, 2, "--file"},
		{[]string{"list", "--url", "ftp://x"}, 2, "--url"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"streamapp"}, c.args...), strings.NewReader(""), &stdout, &stderr)
		if code != c.code || !strings.Contains(stderr.String(), c.msg) {
			t.Errorf("streamapp %v: exit %d, stderr %q; want %d with %q", c.args, code, stderr.String(), c.code, c.msg)
		}
	}
}
