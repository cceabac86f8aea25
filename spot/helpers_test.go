package spot

import (
	"context"
	"net"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// testConfig is a fast group for tests: 5 ms ticks, elections after 10.
func testConfig(t testing.TB, region string, replicas int) Config {
	cfg := Config{
		Region:             region,
		DataDir:            t.TempDir(),
		RTTMillisecond:     5,
		ElectionRTT:        20,
		HeartbeatRTT:       2,
		SnapshotEntries:    200,
		CompactionOverhead: 20,
		RetryTimeout:       3 * time.Second,
		AttemptTimeout:     500 * time.Millisecond,
	}
	for i := 1; i <= replicas; i++ {
		cfg.Replicas = append(cfg.Replicas, ReplicaConfig{ID: uint64(i), RaftAddress: freeAddr(t)})
	}
	return cfg
}

// node is a service with its HTTP handler served on loopback.
type node struct {
	svc *Service
	srv *httptest.Server
}

func (n *node) url() string { return n.srv.URL }

// startNode opens a service and serves its handler; both close with the
// test.
func startNode(t testing.TB, cfg Config, opts Options) *node {
	t.Helper()
	log := zap.NewNop()
	if testing.Verbose() {
		log = zaptest.NewLogger(t, zaptest.Level(testLogLevel))
	}
	svc, err := Open(cfg, log, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewHandler(svc, nil))
	t.Cleanup(func() {
		srv.Close()
		svc.Close()
	})
	return &node{svc: svc, srv: srv}
}

// ctxT returns a context bounded by a generous deadline.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// testLogLevel is the level of the logs verbose test runs show.
var testLogLevel = zap.WarnLevel
