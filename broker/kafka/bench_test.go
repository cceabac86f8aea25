package kafka_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/clients"
)

// BenchmarkProduce compares produce throughput into one node, 1 KiB
// messages, acknowledged only once durable (acks=all; fsync policy always):
// kafka-go's Writer (batches of 100), franz-go (idempotent, its default
// batching) and the node's WebSocket API through the Go client (batches of
// up to 100). Reports MB/s via SetBytes.
func BenchmarkProduce(b *testing.B) {
	payload := []byte(strings.Repeat("x", 1024))
	b.Run("kafka-go", func(b *testing.B) {
		srv := startNode(b, nil)
		w := &kafkago.Writer{Addr: kafkago.TCP(srv.KafkaAddr()), Topic: "bench", RequiredAcks: kafkago.RequireAll,
			AllowAutoTopicCreation: true, BatchSize: 100, BatchTimeout: 1e6}
		defer w.Close()
		msgs := make([]kafkago.Message, 100)
		for i := range msgs {
			msgs[i] = kafkago.Message{Value: payload}
		}
		b.SetBytes(1024)
		b.ResetTimer()
		var wg sync.WaitGroup
		per := (b.N + 3) / 4
		for range 4 { // 4 writers in parallel, as a busy application would
			wg.Add(1)
			go func() {
				defer wg.Done()
				for sent := 0; sent < per; sent += 100 {
					if err := w.WriteMessages(context.Background(), msgs[:min(100, per-sent)]...); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	})
	b.Run("franz-go", func(b *testing.B) {
		srv := startNode(b, nil)
		cl, err := kgo.NewClient(kgo.SeedBrokers(srv.KafkaAddr()), kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("bench"))
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		b.SetBytes(1024)
		b.ResetTimer()
		var wg sync.WaitGroup
		wg.Add(b.N)
		for range b.N {
			cl.Produce(context.Background(), &kgo.Record{Value: payload}, func(_ *kgo.Record, err error) {
				if err != nil {
					b.Error(err)
				}
				wg.Done()
			})
		}
		wg.Wait()
	})
	b.Run("websocket", func(b *testing.B) {
		srv := startNode(b, nil)
		c, err := clients.New(srv.URL())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		p, err := c.CreateProducer(context.Background(), clients.ProducerOptions{Stream: "bench", BatchMaxMessages: 100})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(1024)
		b.ResetTimer()
		for range b.N {
			p.SendAsync(clients.ProducerMessage{Payload: payload}, func(_ wsproto.MessageID, err error) {
				if err != nil {
					b.Error(err)
				}
			})
		}
		if err := p.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	})
}
