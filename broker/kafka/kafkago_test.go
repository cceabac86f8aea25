package kafka_test

import (
	"testing"

	kafkago "github.com/segmentio/kafka-go"
)

// kafka-go: a Writer (acks=all, batching, auto-created topic) and a group
// Reader.
func TestKafkaGo(t *testing.T) {
	srv := startNode(t, nil)
	ctx := testCtx(t)
	const topic = "kafkago"
	w := &kafkago.Writer{
		Addr:                   kafkago.TCP(srv.KafkaAddr()),
		Topic:                  topic,
		RequiredAcks:           kafkago.RequireAll,
		BatchSize:              200,
		AllowAutoTopicCreation: true,
		Balancer:               &kafkago.Hash{},
	}
	defer w.Close()
	sent := makeMsgs("kgo", 2000)
	batch := make([]kafkago.Message, 0, len(sent))
	for _, m := range sent {
		km := kafkago.Message{Key: []byte(m.key), Value: []byte(m.value)}
		for k, v := range m.headers {
			km.Headers = append(km.Headers, kafkago.Header{Key: k, Value: []byte(v)})
		}
		batch = append(batch, km)
	}
	if err := w.WriteMessages(ctx, batch...); err != nil {
		t.Fatalf("write: %v", err)
	}

	r := kafkago.NewReader(kafkago.ReaderConfig{
		Brokers:     []string{srv.KafkaAddr()},
		GroupID:     "kafkago-group",
		Topic:       topic,
		StartOffset: kafkago.FirstOffset,
		MaxWait:     100e6,
	})
	defer r.Close()
	var got []msg
	for len(got) < len(sent) {
		km, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("received %d of %d: %v", len(got), len(sent), err)
		}
		m := msg{key: string(km.Key), value: string(km.Value), headers: map[string]string{}}
		for _, h := range km.Headers {
			m.headers[h.Key] = string(h.Value)
		}
		got = append(got, m)
		if len(got)%500 == 0 || len(got) == len(sent) {
			if err := r.CommitMessages(ctx, km); err != nil {
				t.Fatalf("commit: %v", err)
			}
		}
	}
	checkSame(t, sent, got)
}

// kafka-go's Writer defaults to acks=0 ("fire and forget"): such produce
// requests get no response at all, and the messages still arrive in order.
func TestKafkaGoAcksNone(t *testing.T) {
	srv := startNode(t, nil)
	ctx := testCtx(t)
	const topic = "acks0"
	w := &kafkago.Writer{Addr: kafkago.TCP(srv.KafkaAddr()), Topic: topic, AllowAutoTopicCreation: true, RequiredAcks: kafkago.RequireNone}
	defer w.Close()
	sent := makeMsgs("a0", 300)
	for i := 0; i < len(sent); i += 100 {
		var batch []kafkago.Message
		for _, m := range sent[i : i+100] {
			batch = append(batch, kafkago.Message{Key: []byte(m.key), Value: []byte(m.value)})
		}
		if err := w.WriteMessages(ctx, batch...); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{srv.KafkaAddr()}, Topic: topic, Partition: 0, MaxWait: 100e6})
	defer r.Close()
	for i, m := range sent {
		km, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if string(km.Value) != m.value || km.Offset != int64(i) {
			t.Fatalf("message %d: offset %d value %q, want %q", i, km.Offset, km.Value, m.value)
		}
	}
}
