package kafka_test

import (
	"context"
	"sync"
	"testing"

	"github.com/IBM/sarama"
)

// sarama: a sync producer (acks=all, snappy) and a consumer group.
func TestSarama(t *testing.T) {
	srv := startNode(t, nil)
	ctx := testCtx(t)
	const topic = "sarama"
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Compression = sarama.CompressionSnappy
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Metadata.AllowAutoTopicCreation = true

	admin, err := sarama.NewClusterAdmin([]string{srv.KafkaAddr()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}, false); err != nil {
		t.Fatalf("create topic: %v", err)
	}

	prod, err := sarama.NewSyncProducer([]string{srv.KafkaAddr()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	sent := makeMsgs("sarama", 2000)
	for i := 0; i < len(sent); i += 100 {
		var batch []*sarama.ProducerMessage
		for _, m := range sent[i : i+100] {
			pm := &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(m.key), Value: sarama.StringEncoder(m.value)}
			for k, v := range m.headers {
				pm.Headers = append(pm.Headers, sarama.RecordHeader{Key: []byte(k), Value: []byte(v)})
			}
			batch = append(batch, pm)
		}
		if err := prod.SendMessages(batch); err != nil {
			t.Fatalf("send: %v", err)
		}
	}

	group, err := sarama.NewConsumerGroup([]string{srv.KafkaAddr()}, "sarama-group", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer group.Close()
	h := &saramaHandler{want: len(sent), done: make(chan struct{})}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	consumeErr := make(chan error, 1)
	go func() {
		for cctx.Err() == nil {
			if err := group.Consume(cctx, []string{topic}, h); err != nil {
				consumeErr <- err
				return
			}
		}
		consumeErr <- nil
	}()
	select {
	case <-h.done:
	case err := <-consumeErr:
		t.Fatalf("consume: %v", err)
	case <-ctx.Done():
		t.Fatalf("received %d of %d", h.count(), len(sent))
	}
	cancel()
	<-consumeErr
	checkSame(t, sent, h.got)
}

type saramaHandler struct {
	mu   sync.Mutex
	got  []msg
	want int
	done chan struct{}
	once sync.Once
}

func (h *saramaHandler) count() int { h.mu.Lock(); defer h.mu.Unlock(); return len(h.got) }

func (h *saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *saramaHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		got := msg{key: string(m.Key), value: string(m.Value), headers: map[string]string{}}
		for _, hd := range m.Headers {
			got.headers[string(hd.Key)] = string(hd.Value)
		}
		h.mu.Lock()
		h.got = append(h.got, got)
		n := len(h.got)
		h.mu.Unlock()
		sess.MarkMessage(m, "")
		if n >= h.want {
			h.once.Do(func() { close(h.done) })
		}
	}
	return nil
}
