package pubsub_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/bench/pubsub"
	"github.com/causeway/causeway/bench/report"
	"github.com/causeway/causeway/bench/target/causewayws"
	"github.com/causeway/causeway/bench/target/kafkago"
	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/server"
)

const testTimeout = 60 * time.Second

func startNode(t *testing.T, kafka bool) *server.Server {
	t.Helper()
	cfg := broker.Config{Region: "bench", DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Fsync: "never"}
	if kafka {
		cfg.KafkaAddr = "127.0.0.1:0"
	}
	srv, err := server.Start(cfg, zap.NewNop())
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv
}

// checkCounts fails unless every acknowledged message reached every
// subscription exactly once and nothing failed.
func checkCounts(t *testing.T, rep report.Report, wantSent int64) {
	t.Helper()
	c := rep.Counts
	if wantSent > 0 && c["sent"] != wantSent {
		t.Errorf("sent %d, want %d", c["sent"], wantSent)
	}
	if c["sent"] == 0 || c["acked"] != c["sent"] {
		t.Errorf("acked %d of %d sent", c["acked"], c["sent"])
	}
	subs := int64(max(rep.Params.Subscriptions, 1))
	if c["expected"] < c["acked"]*subs || c["received"] != c["expected"] || c["missing"] != 0 || c["duplicates"] != 0 || c["errors"] != 0 {
		t.Errorf("counts %v (errors %v), want received = acked × %d subscriptions (× regions), nothing lost, duplicated or failed", c, rep.Errors, subs)
	}
	if l, ok := rep.Latency(pubsub.LatencyPublishDeliver); !ok || l.Summary.Count == 0 {
		t.Errorf("no publish-deliver latencies measured: %+v", rep.Latencies)
	}
	if err := rep.Validate(); err == nil {
		t.Errorf("report without a format version validated")
	}
	rep.Format = report.FormatVersion
	if err := rep.Validate(); err != nil {
		t.Errorf("report does not validate: %v", err)
	}
}

func TestPubsubCausewayCount(t *testing.T) {
	srv := startNode(t, false)
	tg, err := causewayws.New(srv.URL(), causewayws.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	rep, err := pubsub.Run(ctx, tg, pubsub.Config{
		MessageBytes: 200, Count: 3000, Producers: 2, Consumers: 2, Subscriptions: 2, Streams: 2,
		SubscriptionType: "shared", Warmup: 0,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, rep, 3000)
}

// TestPubsubCausewayBinaryCount is TestPubsubCausewayCount with the client
// speaking causeway-binary-v1.
func TestPubsubCausewayBinaryCount(t *testing.T) {
	srv := startNode(t, false)
	tg, err := causewayws.New(srv.URL(), causewayws.Options{Binary: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	rep, err := pubsub.Run(ctx, tg, pubsub.Config{
		MessageBytes: 200, Count: 3000, Producers: 2, Consumers: 2, Subscriptions: 2, Streams: 2,
		SubscriptionType: "shared", Warmup: 0,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Target != "causeway-binary" {
		t.Errorf("target %q in the report, want causeway-binary", rep.Target)
	}
	checkCounts(t, rep, 3000)
}

func TestPubsubCausewayFixedRatePartitions(t *testing.T) {
	srv := startNode(t, false)
	tg, err := causewayws.New(srv.URL(), causewayws.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	rep, err := pubsub.Run(ctx, tg, pubsub.Config{
		MessageBytes: 1024, Rate: 2000, Duration: 2 * time.Second, Warmup: 500 * time.Millisecond,
		Producers: 2, Consumers: 2, Partitions: 3, SubscriptionType: "failover",
	})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, rep, 0)
	if got := rep.Counts["sent"]; got < 3000 || got > 4001 {
		t.Errorf("sent %d messages in 2 s at 2000/s", got)
	}
	if rep.Params.Correction == pubsub.Correction(0) {
		t.Errorf("fixed-rate run reports no coordinated-omission correction")
	}
}

func TestKafkaScenario(t *testing.T) {
	srv := startNode(t, true)
	tg, err := kafkago.New(srv.KafkaAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	rep, err := pubsub.Run(ctx, tg, pubsub.Config{
		MessageBytes: 512, Count: 2000, Producers: 2, Consumers: 2, Partitions: 2, SubscriptionType: "shared",
	})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, rep, 2000)
}

// TestPubsubCausewayNamedStreamSpread runs on a named, partitioned stream
// created beforehand, with producers and consumers spread over two clients
// (pubsub.Spread) with a consumer per partition (pubsub.PerPartition), and
// checks the run used that stream's partitions.
func TestPubsubCausewayNamedStreamSpread(t *testing.T) {
	srv := startNode(t, false)
	var ts []pubsub.Target
	for range 2 {
		tg, err := causewayws.New(srv.URL(), causewayws.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tg)
	}
	spread, err := pubsub.Spread(ts...)
	if err != nil {
		t.Fatal(err)
	}
	sp := pubsub.PerPartition(spread)
	defer sp.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	rep, err := pubsub.Run(ctx, sp, pubsub.Config{
		MessageBytes: 200, Count: 2000, Producers: 3, Consumers: 3, Partitions: 2, SubscriptionType: "shared",
		Stream: "named", KeepStreams: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, rep, 2000)
	plan := pubsub.Plan{Streams: []string{"named"}, Partitions: 2}
	if err := sp.Cleanup(ctx, plan); err != nil {
		t.Errorf("deleting named-partition-0 and -1 after the run: %v (the run did not use them)", err)
	}
}
