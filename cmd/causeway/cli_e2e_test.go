package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/server"
)

// TestProduceConsumeAgainstRealNode runs the produce and consume commands
// against a node started in-process on a loopback port.
func TestProduceConsumeAgainstRealNode(t *testing.T) {
	srv, err := server.Start(broker.Config{Region: "cli", DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0"}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	lines := []string{"first", "second line", `{"json":"too"}`}
	var out, errOut bytes.Buffer
	code := run([]string{"produce", "--url", srv.URL(), "--stream", "cli", "--key", "k", "--property", "a=b"},
		strings.NewReader(strings.Join(lines, "\n")+"\n"), &out, &errOut)
	if code != 0 {
		t.Fatalf("produce exit %d: %s", code, errOut.String())
	}
	out.Reset()
	errOut.Reset()
	code = run([]string{"consume", "--url", srv.URL(), "--stream", "cli", "--subscription", "s", "--initial", "earliest", "--count", "3"},
		strings.NewReader(""), &out, &errOut)
	if code != 0 {
		t.Fatalf("consume exit %d: %s", code, errOut.String())
	}
	if got := strings.Split(strings.TrimSpace(out.String()), "\n"); strings.Join(got, "|") != strings.Join(lines, "|") {
		t.Fatalf("consumed %q, want %q", got, lines)
	}
	out.Reset()
	code = run([]string{"consume", "--url", srv.URL(), "--stream", "cli", "--subscription", "j", "--initial", "earliest",
		"--count", "1", "--format", "json"}, strings.NewReader(""), &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), `"a":"b"`) || !strings.Contains(out.String(), `"k"`) {
		t.Fatalf("json consume exit %d: %s", code, out.String())
	}
}
