package httpapi_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// arangojsDir holds the arangojs test script and its package.json (the
// driver's version is pinned in package-lock.json).
const arangojsDir = "testdata/arangojs"

// TestArangoJS runs testdata/arangojs/test.mjs with arangojs from npm
// against a node with authentication on: Basic and JWT logins, databases,
// collections, documents single and batch with _rev preconditions,
// import, indexes, a query over several batches, statistics. It skips
// only when node or npm is missing and CI is not set (.ci/run installs
// both); it installs the locked arangojs with npm ci when it is missing.
func TestArangoJS(t *testing.T) {
	nodeBin, errNode := exec.LookPath("node")
	npmBin, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node or npm is missing under CI (.ci/run installs them): %v %v", errNode, errNpm)
		}
		t.Skipf("node or npm is missing: %v %v", errNode, errNpm)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := os.Stat(filepath.Join(arangojsDir, "node_modules", "arangojs", "package.json")); err != nil {
		cmd := exec.CommandContext(ctx, npmBin, "ci", "--no-audit", "--no-fund")
		cmd.Dir = arangojsDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", arangojsDir, err, out)
		}
	}
	n := startAuthNode(t)
	cmd := exec.CommandContext(ctx, nodeBin, "test.mjs")
	cmd.Dir = arangojsDir
	cmd.Env = append(os.Environ(), "CAUSEWAY_URL="+n.url, "CAUSEWAY_KEY="+n.admin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node test.mjs: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, `{"ok":true`) {
		t.Fatalf("the script did not end with its summary:\n%s\n%s", stdout.String(), stderr.String())
	}
	t.Log(lines[len(lines)-1])
}
