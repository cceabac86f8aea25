package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/server"
)

// produceTo produces values to topic's partition p and fails on an error.
func produceTo(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, p int32, values ...string) {
	t.Helper()
	for _, v := range values {
		for {
			err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)}).FirstErr()
			if err != nil && strings.Contains(err.Error(), "invalid record partitioning choice") && ctx.Err() == nil {
				// The client's metadata does not show a partition just
				// added yet (ForceMetadataRefresh does not wait for it).
				time.Sleep(20 * time.Millisecond)
				continue
			}
			if err != nil {
				t.Fatalf("produce %s to %s/%d: %v", v, topic, p, err)
			}
			break
		}
	}
}

// readPartitions reads n records of topic from the start (no group) and
// returns the values by partition.
func readPartitions(ctx context.Context, t *testing.T, srv *server.Server, topic string, n int) map[int32][]string {
	t.Helper()
	cl := kafkaClient(t, srv, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	out := map[int32][]string{}
	for got := 0; got < n; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d: %v", got, n, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			out[r.Partition] = append(out[r.Partition], string(r.Value))
			got++
		})
	}
	return out
}

// CreatePartitions (kadm) raises a topic's partition count, only upwards;
// the messages already in the topic stay in their partitions (a topic
// created with one partition keeps its stream as partition 0).
func TestKafkaCreatePartitions(t *testing.T) {
	srv := startNode(t, nil)
	ctx := testCtx(t)
	adm := adminOf(t, srv)
	prod := kafkaClient(t, srv, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for _, tc := range []struct {
		topic    string
		from, to int
	}{{"grow-one", 1, 3}, {"grow-two", 2, 5}} {
		if _, err := adm.CreateTopic(ctx, int32(tc.from), 1, nil, tc.topic); err != nil {
			t.Fatalf("create %s: %v", tc.topic, err)
		}
		for p := range tc.from {
			produceTo(ctx, t, prod, tc.topic, int32(p), fmt.Sprint("before-", p))
		}
		resp, err := adm.UpdatePartitions(ctx, tc.to, tc.topic)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatalf("%s: update partitions to %d: %v", tc.topic, tc.to, err)
		}
		details, err := adm.ListTopics(ctx, tc.topic)
		if err != nil || len(details[tc.topic].Partitions) != tc.to {
			t.Fatalf("%s after growing: %+v, %v", tc.topic, details[tc.topic].Partitions, err)
		}
		prod.ForceMetadataRefresh()
		for p := range tc.to {
			produceTo(ctx, t, prod, tc.topic, int32(p), fmt.Sprint("after-", p))
		}
		got := readPartitions(ctx, t, srv, tc.topic, tc.from+tc.to)
		for p := range tc.to {
			want := []string{fmt.Sprint("after-", p)}
			if p < tc.from {
				want = append([]string{fmt.Sprint("before-", p)}, want...)
			}
			if fmt.Sprint(got[int32(p)]) != fmt.Sprint(want) {
				t.Fatalf("%s partition %d: %v, want %v", tc.topic, p, got[int32(p)], want)
			}
		}
		// Partitions never shrink, nor stay the same.
		for _, n := range []int{tc.to - 1, tc.to} {
			resp, err := adm.UpdatePartitions(ctx, n, tc.topic)
			if err != nil {
				t.Fatal(err)
			}
			if err := resp.Error(); !errors.Is(err, kerr.InvalidPartitions) {
				t.Fatalf("%s: set %d partitions: %v, want INVALID_PARTITIONS", tc.topic, n, err)
			}
		}
	}
	resp, err := adm.UpdatePartitions(ctx, 4, "no-such-topic")
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Error(); !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("unknown topic: %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
	}
	if _, err := adm.ValidateUpdatePartitions(ctx, 9, "grow-one"); err != nil {
		t.Fatal(err)
	}
	if details, _ := adm.ListTopics(ctx, "grow-one"); len(details["grow-one"].Partitions) != 3 {
		t.Fatalf("validate-only changed the topic: %d partitions", len(details["grow-one"].Partitions))
	}
}

// A group with committed offsets and no member is Empty (not Dead) in
// DescribeGroups and listed by ListGroups, also after a restart (when only
// its offsets remain); DeleteGroups refuses it while it has a member
// (NON_EMPTY_GROUP), then deletes it with its offsets, and answers
// GROUP_ID_NOT_FOUND for an unknown group.
func TestKafkaGroupsEmptyListedDeleted(t *testing.T) {
	dir := t.TempDir()
	srv := startNode(t, func(c *broker.Config) { c.DataDir = dir })
	ctx := testCtx(t)
	const topic, group = "idle", "lagging"
	if _, err := adminOf(t, srv).CreateTopic(ctx, 2, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	prod := kafkaClient(t, srv, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	produceTo(ctx, t, prod, topic, 0, "a", "b")
	produceTo(ctx, t, prod, topic, 1, "c")
	consumeAll(ctx, t, srv, group, topic, 3)

	check := func(srv *server.Server) {
		t.Helper()
		adm := adminOf(t, srv)
		described, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			t.Fatal(err)
		}
		if d := described[group]; d.State != "Empty" || d.Err != nil {
			t.Fatalf("describe %s: state %q, err %v; want Empty", group, d.State, d.Err)
		}
		listed, err := adm.ListGroups(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if g, ok := listed[group]; !ok || g.State != "Empty" {
			t.Fatalf("list groups: %+v, want %s Empty", listed, group)
		}
		offs, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			t.Fatal(err)
		}
		if o, _ := offs.Lookup(topic, 0); o.At != 2 {
			t.Fatalf("committed offset of partition 0: %+v, want 2", o)
		}
	}
	// Restart the node: only the group's committed offsets remain.
	ctxShut, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	if err := srv.Shutdown(ctxShut); err != nil {
		t.Fatal(err)
	}
	srv = startNode(t, func(c *broker.Config) { c.DataDir = dir })
	check(srv)

	// A member joins (and polls on): the group is not empty and is not
	// deleted.
	member := kafkaClient(t, srv, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic))
	pctx, stopPolling := context.WithCancel(ctx)
	polling := make(chan struct{})
	go func() {
		defer close(polling)
		for pctx.Err() == nil {
			member.PollFetches(pctx)
		}
	}()
	adm := adminOf(t, srv)
	for {
		described, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			t.Fatal(err)
		}
		if described[group].State == "Stable" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("group never stable: %+v", described[group])
		case <-time.After(20 * time.Millisecond):
		}
	}
	del, err := adm.DeleteGroup(ctx, group)
	if err == nil {
		err = del.Err
	}
	if !errors.Is(err, kerr.NonEmptyGroup) {
		t.Fatalf("delete a group with a member: %v, want NON_EMPTY_GROUP", err)
	}
	stopPolling()
	<-polling
	member.Close() // leaves the group
	del, err = adm.DeleteGroup(ctx, group)
	if err == nil {
		err = del.Err
	}
	if err != nil {
		t.Fatalf("delete the empty group: %v", err)
	}
	described, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	if s := described[group].State; s != "Dead" {
		t.Fatalf("deleted group: state %q, want Dead", s)
	}
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup(topic, 0); ok && o.At >= 0 {
		t.Fatalf("deleted group still has offset %+v", o)
	}
	del, err = adm.DeleteGroup(ctx, "never-was")
	if err == nil {
		err = del.Err
	}
	if !errors.Is(err, kerr.GroupIDNotFound) {
		t.Fatalf("delete an unknown group: %v, want GROUP_ID_NOT_FOUND", err)
	}
}

// A region of one node holds one copy: CreateTopics with a replication
// factor above 1 is refused (INVALID_REPLICATION_FACTOR, as Kafka refuses
// more copies than brokers) and creates nothing; -1 and 1 create the
// topic, answered with factor 1.
func TestKafkaReplicationFactorOnOneNode(t *testing.T) {
	srv := startNode(t, nil)
	ctx := testCtx(t)
	adm := adminOf(t, srv)
	resp, err := adm.CreateTopic(ctx, 1, 2, nil, "three-copies")
	if !errors.Is(err, kerr.InvalidReplicationFactor) {
		t.Fatalf("replication factor 2 on one node: %v (%+v)", err, resp)
	}
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if topics.Has("three-copies") {
		t.Fatal("a refused topic was created")
	}
	for _, rf := range []int16{-1, 1} {
		topic := fmt.Sprintf("rf%d", rf)
		r, err := adm.CreateTopic(ctx, 2, rf, nil, topic)
		if err != nil || r.ReplicationFactor != 1 {
			t.Fatalf("replication factor %d: %v, answered factor %d", rf, err, r.ReplicationFactor)
		}
	}
}
