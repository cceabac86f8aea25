package kafka_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/server"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 60 * time.Second

// startNode starts a node with HTTP/WebSocket and Kafka on loopback.
func startNode(t testing.TB, mutate func(*broker.Config)) *server.Server {
	t.Helper()
	cfg := broker.Config{Region: "test", DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", KafkaAddr: "127.0.0.1:0"}
	if mutate != nil {
		mutate(&cfg)
	}
	var log *zap.Logger
	if tt, ok := t.(*testing.T); ok {
		log = zaptest.NewLogger(tt, zaptest.Level(zap.WarnLevel)).Named("node")
	} else {
		log = zap.NewNop()
	}
	srv, err := server.Start(cfg, log)
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !strings.Contains(err.Error(), "already") {
			t.Logf("shutdown: %v", err)
		}
	})
	return srv
}

// testCtx is a context bounded by testTimeout.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// msg is one expected message.
type msg struct {
	key, value string
	headers    map[string]string
}

func makeMsgs(prefix string, n int) []msg {
	out := make([]msg, n)
	for i := range out {
		out[i] = msg{
			key:     fmt.Sprintf("%s-key-%d", prefix, i%17),
			value:   fmt.Sprintf("%s-value-%d-%s", prefix, i, strings.Repeat("x", i%50)),
			headers: map[string]string{"i": fmt.Sprint(i), "src": prefix},
		}
	}
	return out
}

// checkSame compares received messages with sent ones, in any order
// across partitions but with no loss and no duplicate.
func checkSame(t testing.TB, sent, got []msg) {
	t.Helper()
	want := map[string]msg{}
	for _, m := range sent {
		want[m.value] = m
	}
	seen := map[string]bool{}
	for _, m := range got {
		w, ok := want[m.value]
		if !ok {
			t.Fatalf("unexpected message %q", m.value)
		}
		if seen[m.value] {
			t.Fatalf("duplicate message %q", m.value)
		}
		seen[m.value] = true
		if m.key != w.key {
			t.Fatalf("message %q: key %q, want %q", m.value, m.key, w.key)
		}
		for k, v := range w.headers {
			if m.headers[k] != v {
				t.Fatalf("message %q: header %s=%q, want %q (all: %v)", m.value, k, m.headers[k], v, m.headers)
			}
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("received %d distinct messages, want %d", len(seen), len(want))
	}
}
