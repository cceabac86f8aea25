package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/internal/testfabric"
	"github.com/causeway/causeway/server"
)

// kafkaFabric starts an in-process fabric of regions, each node with its
// Kafka listener.
func kafkaFabric(t *testing.T, regions ...string) *testfabric.Fabric {
	t.Helper()
	f := testfabric.New(t, regions, func(c *broker.Config) { c.KafkaAddr = "127.0.0.1:0" })
	f.StartAll()
	return f
}

func adminOf(t *testing.T, srv *server.Server) *kadm.Client {
	t.Helper()
	return kadm.NewClient(kafkaClient(t, srv))
}

// waitPartitions waits until topic has want partitions in srv's region
// (Metadata without auto-creation).
func waitPartitions(ctx context.Context, t *testing.T, srv *server.Server, topic string, want int) {
	t.Helper()
	cl := kafkaClient(t, srv)
	for {
		req := kmsg.NewPtrMetadataRequest()
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		got := -1
		if err == nil && len(resp.Topics) == 1 && resp.Topics[0].ErrorCode == 0 {
			got = len(resp.Topics[0].Partitions)
		}
		if got == want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("topic %s: %d partitions (err %v), want %d: %v", topic, got, err, want, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// consumeAll reads n records of topic in srv's region with a consumer
// group, commits and leaves, and returns the records by value (failing on
// a duplicate).
func consumeAll(ctx context.Context, t *testing.T, srv *server.Server, group, topic string, n int) map[string]*kgo.Record {
	t.Helper()
	cons := kafkaClient(t, srv, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	got := map[string]*kgo.Record{}
	for len(got) < n {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("group %s consumed %d of %d: %v", group, len(got), n, ctx.Err())
		}
		for _, e := range fs.Errors() {
			if !errors.Is(e.Err, kerr.UnknownTopicOrPartition) {
				t.Fatalf("fetch %s/%d: %v", e.Topic, e.Partition, e.Err)
			}
		}
		fs.EachRecord(func(r *kgo.Record) {
			if _, dup := got[string(r.Value)]; dup {
				t.Fatalf("record %q twice", r.Value)
			}
			got[string(r.Value)] = r
		})
	}
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	cons.Close() // leaves the group
	return got
}

// A 3-partition topic created in one region exists with 3 partitions in
// every region; 2,000 messages produced there are consumed by a consumer
// group in another region, each from the partition it was produced to.
// (Before topic metadata was fabric-wide, the topic did not exist in the
// other regions: its partition streams showed up as three unrelated topics
// and the group read nothing.)
func TestKafkaPartitionedTopicAcrossRegions(t *testing.T) {
	f := kafkaFabric(t, "us-east", "eu-west", "ap-south")
	a, b, c := f.Server("us-east"), f.Server("eu-west"), f.Server("ap-south")
	ctx := testCtx(t)
	const topic, n = "orders", 2000
	resp, err := adminOf(t, a).CreateTopics(ctx, 3, 1, map[string]*string{"retention.ms": kmsg.StringPtr("86400000")}, topic)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	prod := kafkaClient(t, a)
	part := map[string]int32{}
	for i := 0; i < n; i += 100 {
		var recs []*kgo.Record
		for j := i; j < i+100; j++ {
			recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint("k", j%37)), Value: []byte(fmt.Sprint("v", j))})
		}
		res := prod.ProduceSync(ctx, recs...)
		if err := res.FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
		for _, r := range res {
			part[string(r.Record.Value)] = r.Record.Partition
		}
	}
	used := map[int32]bool{}
	for _, p := range part {
		used[p] = true
	}
	if len(used) != 3 {
		t.Fatalf("produced to partitions %v, want 3", used)
	}
	for _, srv := range []*server.Server{b, c} {
		waitPartitions(ctx, t, srv, topic, 3)
	}
	got := consumeAll(ctx, t, b, "billing", topic, n)
	for v, r := range got {
		if p, ok := part[v]; !ok || p != r.Partition {
			t.Fatalf("record %q from partition %d in eu-west, produced to %d (known %v)", v, r.Partition, p, ok)
		}
	}
	// Partitions added in one region appear in every region.
	grown, err := adminOf(t, c).UpdatePartitions(ctx, 5, topic)
	if err == nil {
		err = grown.Error()
	}
	if err != nil {
		t.Fatalf("update partitions in ap-south: %v", err)
	}
	waitPartitions(ctx, t, a, topic, 5)
	waitPartitions(ctx, t, b, topic, 5)
	// The configs travelled with the topic.
	cfgs, err := adminOf(t, c).DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := cfgs.On(topic, nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe configs: %v %v", err, rc.Err)
	}
	found := false
	for _, kv := range rc.Configs {
		if kv.Key == "retention.ms" && kv.MaybeValue() == "86400000" {
			found = true
		}
	}
	if !found {
		t.Fatalf("configs in ap-south: %+v, want retention.ms=86400000", rc.Configs)
	}
}

// Two regions cut from each other create the same topic with 4 and 2
// partitions and produce to every partition; once the link heals both
// regions have 4 partitions, and a consumer group in each region reads
// everything produced on both sides (partition p is one stream everywhere).
func TestKafkaConcurrentTopicCreation(t *testing.T) {
	f := kafkaFabric(t, "us-east", "eu-west")
	a, b := f.Server("us-east"), f.Server("eu-west")
	ctx := testCtx(t)
	const topic = "race"
	f.Cut("us-east", "eu-west", true)
	var want []string
	for _, side := range []struct {
		srv        *server.Server
		name       string
		partitions int
	}{{a, "a", 4}, {b, "b", 2}} {
		resp, err := adminOf(t, side.srv).CreateTopics(ctx, int32(side.partitions), 1, nil, topic)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatalf("create in %s: %v", side.name, err)
		}
		prod := kafkaClient(t, side.srv, kgo.RecordPartitioner(kgo.ManualPartitioner()))
		for p := range side.partitions {
			for i := range 50 {
				v := fmt.Sprintf("%s-%d-%d", side.name, p, i)
				want = append(want, v)
				if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: int32(p), Value: []byte(v)}).FirstErr(); err != nil {
					t.Fatalf("produce %s: %v", v, err)
				}
			}
		}
	}
	f.Cut("us-east", "eu-west", false)
	for _, srv := range []*server.Server{a, b} {
		waitPartitions(ctx, t, srv, topic, 4)
	}
	for _, srv := range []*server.Server{a, b} {
		got := consumeAll(ctx, t, srv, "g", topic, len(want))
		for _, v := range want {
			r, ok := got[v]
			var side string
			var p, i int
			if _, err := fmt.Sscanf(v, "%1s-%d-%d", &side, &p, &i); err != nil {
				t.Fatal(err)
			}
			if !ok || int(r.Partition) != p {
				t.Fatalf("%s: record %s missing or in the wrong partition", srv.Addr(), v)
			}
		}
	}
}

// A region that does not know a topic yet does not auto-create it at once:
// it answers LEADER_NOT_AVAILABLE (retriable), so the topic's metadata can
// arrive from the region that created it instead of a one-partition fork
// being made here.
func TestKafkaAutoCreateWaitsForFabric(t *testing.T) {
	f := kafkaFabric(t, "us-east", "eu-west")
	a, b := f.Server("us-east"), f.Server("eu-west")
	ctx := testCtx(t)
	const topic = "late"
	f.Cut("us-east", "eu-west", true)
	resp, err := adminOf(t, a).CreateTopics(ctx, 3, 1, nil, topic)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = true
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	mr, err := req.RequestWith(ctx, kafkaClient(t, b))
	if err != nil {
		t.Fatal(err)
	}
	if len(mr.Topics) != 1 || mr.Topics[0].ErrorCode != kerr.LeaderNotAvailable.Code {
		t.Fatalf("metadata in eu-west: %+v, want LEADER_NOT_AVAILABLE", mr.Topics)
	}
	f.Cut("us-east", "eu-west", false)
	waitPartitions(ctx, t, b, topic, 3)
}

// A region whose disk is wiped gets its topics back when it rejoins: the
// topic events travel with the rest of the fabric's history, so the topic
// has its partitions there again and a group reads everything.
func TestKafkaTopicsSurviveWipe(t *testing.T) {
	f := kafkaFabric(t, "us-east", "eu-west")
	ctx := testCtx(t)
	const topic, n = "wiped", 60
	resp, err := adminOf(t, f.Server("us-east")).CreateTopics(ctx, 3, 1, nil, topic)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	prod := kafkaClient(t, f.Server("us-east"))
	for i := range n {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprint("v", i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	waitPartitions(ctx, t, f.Server("eu-west"), topic, 3)
	f.Stop("eu-west")
	cfg := f.Configs["eu-west"]
	cfg.DataDir = t.TempDir()
	f.Configs["eu-west"] = cfg
	b := f.Start("eu-west")
	waitPartitions(ctx, t, b, topic, 3)
	consumeAll(ctx, t, b, "after-wipe", topic, n)
}
