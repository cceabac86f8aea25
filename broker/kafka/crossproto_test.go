package kafka_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/causeway/causeway/clients"
	"github.com/causeway/causeway/server"
)

func wsClient(t *testing.T, srv *server.Server) *clients.Client {
	t.Helper()
	c, err := clients.New(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func kafkaClient(t *testing.T, srv *server.Server, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	c, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(srv.KafkaAddr())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// A message produced over Kafka is consumed over WebSocket with its key,
// headers as properties and timestamp as event time; a Kafka group commit
// is the WebSocket subscription's position.
func TestKafkaToWebSocket(t *testing.T) {
	srv := startNode(t, nil)
	ctx := testCtx(t)
	const topic, n = "k2ws", 500
	prod := kafkaClient(t, srv, kgo.AllowAutoTopicCreation())
	base := time.UnixMilli(1_700_000_000_000)
	for i := range n {
		r := &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint("k", i)), Value: []byte(fmt.Sprint("v", i)),
			Timestamp: base.Add(time.Duration(i) * time.Millisecond),
			Headers:   []kgo.RecordHeader{{Key: "h", Value: []byte(fmt.Sprint(i))}}}
		if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
	}
	ws := wsClient(t, srv)
	cons, err := ws.Subscribe(ctx, clients.ConsumerOptions{Streams: []string{topic}, Subscription: "ws-sub", InitialPosition: clients.Earliest})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		m, err := cons.Receive(ctx)
		if err != nil {
			t.Fatalf("receive %d: %v", i, err)
		}
		if string(m.Payload) != fmt.Sprint("v", i) || m.Key != fmt.Sprint("k", i) || m.Properties["h"] != fmt.Sprint(i) {
			t.Fatalf("message %d: payload %q key %q props %v", i, m.Payload, m.Key, m.Properties)
		}
		if want := base.Add(time.Duration(i) * time.Millisecond); !m.EventTime.Equal(want) {
			t.Fatalf("message %d: event time %v, want %v", i, m.EventTime, want)
		}
	}

	// A Kafka group commits 300; a WebSocket consumer on the subscription
	// named after the group starts there.
	adm := kadm.NewClient(kafkaClient(t, srv))
	offs := kadm.Offsets{}
	offs.Add(kadm.Offset{Topic: topic, Partition: 0, At: 300, LeaderEpoch: -1})
	if resp, err := adm.CommitOffsets(ctx, "shared-group", offs); err != nil || resp.Error() != nil {
		t.Fatalf("commit: %v %v", err, resp.Error())
	}
	shared, err := ws.Subscribe(ctx, clients.ConsumerOptions{Streams: []string{topic}, Subscription: "shared-group", Type: clients.Failover})
	if err != nil {
		t.Fatal(err)
	}
	m, err := shared.Receive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Payload) != "v300" {
		t.Fatalf("after a Kafka commit of 300 the WebSocket consumer got %q first", m.Payload)
	}
	// Acknowledging over WebSocket moves the Kafka group's committed offset.
	for i := 301; i < 400; i++ {
		if m, err = shared.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := shared.AckCumulative(m); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(testTimeout)
	for {
		fetched, err := adm.FetchOffsets(ctx, "shared-group")
		if err != nil {
			t.Fatal(err)
		}
		if o, ok := fetched.Lookup(topic, 0); ok && o.At == 400 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("committed offset never reached 400: %v", fetched)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(20 * time.Millisecond): // polling an ack that travels asynchronously
		}
	}
}

// A message published over WebSocket is consumed over Kafka with its key,
// properties as headers and event time as timestamp.
func TestWebSocketToKafka(t *testing.T) {
	srv := startNode(t, nil)
	ctx := testCtx(t)
	const stream, n = "ws2k", 500
	ws := wsClient(t, srv)
	prod, err := ws.CreateProducer(ctx, clients.ProducerOptions{Stream: stream})
	if err != nil {
		t.Fatal(err)
	}
	base := time.UnixMilli(1_600_000_000_000)
	for i := range n {
		prod.SendAsync(clients.ProducerMessage{Payload: []byte(fmt.Sprint("v", i)), Key: fmt.Sprint("k", i),
			Properties: map[string]string{"p": fmt.Sprint(i)}, EventTime: base.Add(time.Duration(i) * time.Second)}, nil)
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cons := kafkaClient(t, srv, kgo.ConsumeTopics(stream), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	i := 0
	for i < n {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("received %d of %d", i, n)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatal(err) })
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Value) != fmt.Sprint("v", i) || string(r.Key) != fmt.Sprint("k", i) || r.Offset != int64(i) {
				t.Fatalf("record %d: offset %d key %q value %q", i, r.Offset, r.Key, r.Value)
			}
			if len(r.Headers) != 1 || r.Headers[0].Key != "p" || string(r.Headers[0].Value) != fmt.Sprint(i) {
				t.Fatalf("record %d: headers %v", i, r.Headers)
			}
			if want := base.Add(time.Duration(i) * time.Second); !r.Timestamp.Equal(want) {
				t.Fatalf("record %d: timestamp %v, want %v", i, r.Timestamp, want)
			}
			i++
		})
	}
}
