package geo_test

import (
	"context"
	"testing"
	"time"

	"github.com/causeway/causeway/bench/geo"
	"github.com/causeway/causeway/bench/pubsub"
	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/internal/testfabric"
)

const testTimeout = 60 * time.Second

// startFabric starts one node per region, wired full mesh on loopback,
// with wan on every outgoing link.
func startFabric(t *testing.T, regions []string, wan broker.WANConfig) geo.Fabric {
	t.Helper()
	f := testfabric.New(t, regions, func(c *broker.Config) { c.WAN = wan })
	f.StartAll()
	var fab geo.Fabric
	for _, r := range regions {
		fab.Regions = append(fab.Regions, geo.Region{Name: r, HTTP: f.Server(r).URL()})
	}
	return fab
}

func TestGeoScenario(t *testing.T) {
	fab := startFabric(t, []string{"us-east", "eu-west", "ap-south"}, broker.WANConfig{Latency: 5 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	rep, err := geo.Run(ctx, fab, geo.Config{
		Workload: pubsub.Config{MessageBytes: 256, Rate: 500, Duration: 2 * time.Second, Warmup: 500 * time.Millisecond, Producers: 2, Consumers: 1},
		WAN:      "latency 5ms",
	})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Counts
	if c["sent"] == 0 || c["acked"] != c["sent"] || c["expected"] != 2*c["acked"] || c["received"] != c["expected"] ||
		c["missing"] != 0 || c["duplicates"] != 0 || c["errors"] != 0 {
		t.Fatalf("counts %v (errors %v): want every message in both other regions once", c, rep.Errors)
	}
	for _, to := range []string{"eu-west", "ap-south"} {
		l, ok := rep.Latency(pubsub.LagSeries("us-east", to))
		if !ok || l.Summary.Count == 0 {
			t.Errorf("no lag measured us-east>%s: %+v", to, rep.Latencies)
		}
		// The emulated link adds 5 ms one way: a lag below it would mean
		// the bench measured something else.
		if ok && l.Summary.MinUs < 4000 {
			t.Errorf("lag us-east>%s min %v µs, below the emulated 5 ms", to, l.Summary.MinUs)
		}
	}
	if rep.Scenario != "geo" || rep.Params.Extra["wan"] != "latency 5ms" || rep.Params.Extra["publish region"] != "us-east" {
		t.Errorf("report scenario %q extra %v", rep.Scenario, rep.Params.Extra)
	}
}
