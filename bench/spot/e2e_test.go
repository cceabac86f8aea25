package spot_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/bench/geo"
	benchspot "github.com/causeway/causeway/bench/spot"
	"github.com/causeway/causeway/internal/testnet"
	"github.com/causeway/causeway/spot"
)

const testTimeout = 60 * time.Second

// delayed adds a one-way delay to every request (an emulated WAN link).
type delayed struct {
	d    time.Duration
	base http.RoundTripper
}

func (l delayed) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case <-time.After(l.d):
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return l.base.RoundTrip(r)
}

func serve(t *testing.T, cfg spot.Config) string {
	t.Helper()
	svc, err := spot.Open(cfg, zap.NewNop(), spot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(spot.NewHandler(svc, nil))
	t.Cleanup(func() {
		srv.Close()
		_ = svc.Close()
	})
	return srv.URL
}

// A home region with one replica and a far region 10 ms away that forwards
// to it: the SPOT HTTP API as spot/ serves it.
func TestSpotScenario(t *testing.T) {
	home := serve(t, spot.Config{
		Region: "us", DataDir: t.TempDir(), RTTMillisecond: 5, ElectionRTT: 20, HeartbeatRTT: 2,
		Replicas: []spot.ReplicaConfig{{ID: 1, RaftAddress: testnet.FreeAddr(t)}},
	})
	far := serve(t, spot.Config{
		Region: "eu", Regions: map[string][]string{"us": {home}},
		HTTPClient: &http.Client{Transport: delayed{d: 10 * time.Millisecond, base: http.DefaultTransport}},
	})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	rep, err := benchspot.Run(ctx, benchspot.Config{
		Regions:  []geo.Region{{Name: "us", HTTP: home}, {Name: "eu", HTTP: far}},
		Accounts: 50, Count: 300, Workers: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Counts
	if c["committed"] != 300 || c["errors"] != 0 || c["invariantBroken"] != 0 || c["accounts"] != 50 {
		t.Fatalf("counts %v, errors %v, notes %v: want 300 transfers committed and the total kept", c, rep.Errors, rep.Notes)
	}
	us, ok1 := rep.Latency(benchspot.TransferSeries("us"))
	eu, ok2 := rep.Latency(benchspot.TransferSeries("eu"))
	if !ok1 || !ok2 || us.Summary.Count == 0 || eu.Summary.Count == 0 {
		t.Fatalf("per-region latencies missing: %+v", rep.Latencies)
	}
	// Forwarded transfers cross the 10 ms link: none can be faster.
	if eu.Summary.MinUs < 10000 {
		t.Errorf("far-region transfer in %v µs, below the emulated 10 ms", eu.Summary.MinUs)
	}
}
