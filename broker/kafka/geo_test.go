package kafka_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/clients"
	"github.com/causeway/causeway/internal/testnet"
	"github.com/causeway/causeway/server"
)

// startGeo starts one node per region, wired full mesh, each with its
// Kafka listener.
func startGeo(t *testing.T, regions ...string) map[string]*server.Server {
	t.Helper()
	addrs := testnet.FreeAddrs(t, len(regions))
	out := map[string]*server.Server{}
	for i, r := range regions {
		peers := map[string]string{}
		for j, p := range regions {
			if p != r {
				peers[p] = addrs[j]
			}
		}
		cfg := broker.Config{Region: r, DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", KafkaAddr: "127.0.0.1:0",
			ReplAddr: addrs[i], Peers: peers, FabricSecret: "kafka-geo-secret-0123456789", Fsync: "never"}
		srv, err := server.Start(cfg, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).Named(r))
		if err != nil {
			t.Fatalf("start %s: %v", r, err)
		}
		out[r] = srv
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil && !strings.Contains(err.Error(), "already") {
				t.Logf("shutdown %s: %v", r, err)
			}
		})
	}
	return out
}

// Messages produced over Kafka in one region, on a stream that is global
// (the default in a fabric of several regions), are consumed in another
// region over Kafka and over WebSocket, with keys, headers and timestamps,
// in order, once each.
func TestKafkaAcrossRegions(t *testing.T) {
	nodes := startGeo(t, "eu-west", "us-east")
	a, b := nodes["us-east"], nodes["eu-west"]
	ctx := testCtx(t)
	const topic, n = "geo-orders", 300
	prod := kafkaClient(t, a, kgo.AllowAutoTopicCreation())
	base := time.UnixMilli(1_700_000_000_000)
	for i := range n {
		r := &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint("k", i%7)), Value: []byte(fmt.Sprint("v", i)),
			Timestamp: base.Add(time.Duration(i) * time.Millisecond),
			Headers:   []kgo.RecordHeader{{Key: "i", Value: []byte(fmt.Sprint(i))}, {Key: "from", Value: []byte("us-east")}}}
		if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
	}

	// Over Kafka in eu-west: the topic exists there once the first
	// replicated message arrived; the client retries metadata meanwhile.
	cons := kafkaClient(t, b, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := 0
	for got < n {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d in eu-west: %v", got, n, ctx.Err())
		}
		for _, e := range fs.Errors() {
			if !strings.Contains(e.Err.Error(), "UNKNOWN_TOPIC") {
				t.Fatalf("fetch: %v", e.Err)
			}
		}
		fs.EachRecord(func(r *kgo.Record) {
			i := got
			if string(r.Value) != fmt.Sprint("v", i) || string(r.Key) != fmt.Sprint("k", i%7) {
				t.Fatalf("record %d in eu-west: key %q value %q", i, r.Key, r.Value)
			}
			h := map[string]string{}
			for _, x := range r.Headers {
				h[x.Key] = string(x.Value)
			}
			if h["i"] != fmt.Sprint(i) || h["from"] != "us-east" {
				t.Fatalf("record %d in eu-west: headers %v", i, h)
			}
			if want := base.Add(time.Duration(i) * time.Millisecond); !r.Timestamp.Equal(want) {
				t.Fatalf("record %d in eu-west: timestamp %v, want %v", i, r.Timestamp, want)
			}
			got++
		})
	}

	// Over WebSocket in eu-west, from the earliest message.
	ws := wsClient(t, b)
	sub, err := ws.Subscribe(ctx, clients.ConsumerOptions{Streams: []string{topic}, Subscription: "geo-ws", InitialPosition: clients.Earliest})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		m, err := sub.Receive(ctx)
		if err != nil {
			t.Fatalf("receive %d: %v", i, err)
		}
		if string(m.Payload) != fmt.Sprint("v", i) || m.Key != fmt.Sprint("k", i%7) || m.Properties["i"] != fmt.Sprint(i) {
			t.Fatalf("message %d over WebSocket in eu-west: payload %q key %q props %v", i, m.Payload, m.Key, m.Properties)
		}
	}
}
