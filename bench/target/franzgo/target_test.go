package franzgo_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/bench/pubsub"
	"github.com/causeway/causeway/bench/target/franzgo"
	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/server"
)

// TestFranzGoScenario runs the pubsub workload through a node's Kafka
// listener with franz-go and checks every acknowledged message was
// delivered once.
func TestFranzGoScenario(t *testing.T) {
	cfg := broker.Config{Region: "bench", DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", KafkaAddr: "127.0.0.1:0", Fsync: "always"}
	srv, err := server.Start(cfg, zap.NewNop())
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	tg, err := franzgo.New(srv.KafkaAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := pubsub.Run(ctx, tg, pubsub.Config{
		MessageBytes: 512, Count: 3000, Producers: 2, Consumers: 2, Partitions: 2, SubscriptionType: "shared",
	})
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Counts
	if c["sent"] != 3000 || c["acked"] != 3000 || c["received"] != 3000 || c["errors"] != 0 || c["duplicates"] != 0 || c["missing"] != 0 {
		t.Fatalf("counts %v: want 3000 sent, acked and received once, no errors", c)
	}
	if _, err := franzgo.New("no-port"); err == nil {
		t.Fatal("New accepted an address without a port")
	}
}
