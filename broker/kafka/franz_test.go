package kafka_test

import (
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// franz-go: an idempotent producer (its default) and a group consumer.
func TestFranzGo(t *testing.T) {
	srv := startNode(t, nil)
	ctx := testCtx(t)
	const topic = "franz"
	adm, err := kgo.NewClient(kgo.SeedBrokers(srv.KafkaAddr()))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if _, err := kadm.NewClient(adm).CreateTopic(ctx, 3, 1, nil, topic); err != nil {
		t.Fatalf("create topic: %v", err)
	}

	prod, err := kgo.NewClient(kgo.SeedBrokers(srv.KafkaAddr()), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	sent := makeMsgs("franz", 3000)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var perr error
	for _, m := range sent {
		r := &kgo.Record{Topic: topic, Key: []byte(m.key), Value: []byte(m.value)}
		for k, v := range m.headers {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
		}
		wg.Add(1)
		prod.Produce(ctx, r, func(_ *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				mu.Lock()
				perr = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if perr != nil {
		t.Fatalf("produce: %v", perr)
	}

	cons, err := kgo.NewClient(kgo.SeedBrokers(srv.KafkaAddr()), kgo.ConsumerGroup("franz-group"), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var got []msg
	for len(got) < len(sent) {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("received %d of %d: %v", len(got), len(sent), err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			m := msg{key: string(r.Key), value: string(r.Value), headers: map[string]string{}}
			for _, h := range r.Headers {
				m.headers[h.Key] = string(h.Value)
			}
			got = append(got, m)
		})
	}
	checkSame(t, sent, got)
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	offs, err := kadm.NewClient(adm).FetchOffsets(ctx, "franz-group")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	offs.Each(func(o kadm.OffsetResponse) { total += o.At })
	if total != int64(len(sent)) {
		t.Fatalf("committed offsets sum to %d, want %d", total, len(sent))
	}
}
