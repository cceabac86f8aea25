package spot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/internal/testnet"
)

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
		cfg.Replicas = append(cfg.Replicas, ReplicaConfig{ID: uint64(i), RaftAddress: testnet.FreeAddr(t)})
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

// link is an emulated WAN link for forwarded requests: a one-way delay,
// and a switch that cuts it. A cut link fails new requests at once and
// loses the answers of requests in flight (the request may have been
// served: the forwarder's retry must not apply it twice).
type link struct {
	delay time.Duration
	cut   atomic.Bool
	base  http.RoundTripper
}

var errLinkCut = errors.New("emulated link cut")

func (l *link) RoundTrip(r *http.Request) (*http.Response, error) {
	if l.cut.Load() {
		return nil, errLinkCut
	}
	if err := pause(r.Context(), l.delay); err != nil {
		return nil, err
	}
	resp, err := l.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if err := pause(r.Context(), l.delay); err != nil || l.cut.Load() {
		resp.Body.Close()
		return nil, errLinkCut
	}
	return resp, nil
}

// pause waits d (a link's latency, not synchronisation).
func pause(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// fabric is a home region "us" with replicas and a region "eu" without,
// which forwards to us over an emulated link.
type fabric struct {
	home, away *node
	link       *link
}

func startFabric(t testing.TB, replicas int, delay time.Duration, tune func(*Config)) *fabric {
	t.Helper()
	homeCfg := testConfig(t, "us", replicas)
	if tune != nil {
		tune(&homeCfg)
	}
	home := startNode(t, homeCfg, Options{})
	l := &link{delay: delay, base: http.DefaultTransport.(*http.Transport).Clone()}
	awayCfg := Config{
		Region:         "eu",
		Regions:        map[string][]string{"us": {home.url()}},
		RetryTimeout:   homeCfg.RetryTimeout,
		AttemptTimeout: homeCfg.AttemptTimeout,
		HTTPClient:     &http.Client{Transport: l},
	}
	away := startNode(t, awayCfg, Options{})
	return &fabric{home: home, away: away, link: l}
}

// httpClient speaks the HTTP API of a node.
type httpClient struct {
	base string
	hc   *http.Client
}

func newHTTPClient(base string) *httpClient {
	return &httpClient{base: base, hc: &http.Client{Timeout: 20 * time.Second}}
}

// do sends a request and decodes the JSON answer into out (when not nil).
func (c *httpClient) do(ctx context.Context, method, path, body string, out any) (int, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("answer %d %s: %w", resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode, nil
}

// txnAnswer is the answer to POST .../transaction.
type txnAnswer struct {
	Error              bool       `json:"error"`
	ErrorCode          string     `json:"errorCode"`
	ErrorMessage       string     `json:"errorMessage"`
	FailedOperation    *int       `json:"failedOperation"`
	FailedPrecondition *int       `json:"failedPrecondition"`
	Results            []OpResult `json:"results"`
	Index              uint64     `json:"index"`
}

func (c *httpClient) txn(ctx context.Context, body string) (int, txnAnswer, error) {
	var a txnAnswer
	status, err := c.do(ctx, http.MethodPost, "/_fabric/_system/_api/transaction", body, &a)
	return status, a, err
}

func nopLogger() *zap.Logger { return zap.NewNop() }
