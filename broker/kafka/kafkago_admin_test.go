package kafka_test

import (
	"errors"
	"reflect"
	"testing"

	kafkago "github.com/segmentio/kafka-go"
)

// kafka-go's admin client: CreatePartitions grows a topic (and refuses a
// shrink), ListGroups lists a group whose member left as Empty, DeleteGroups
// deletes it; kafka-go's Writer and Reader round-trip repeated headers in
// order.
func TestKafkaGoAdminAndHeaders(t *testing.T) {
	srv := startNode(t, nil)
	ctx := testCtx(t)
	cl := &kafkago.Client{Addr: kafkago.TCP(srv.KafkaAddr())}
	const topic, group = "kgo-admin", "kgo-admin-group"
	if _, err := adminOf(t, srv).CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	resp, err := cl.CreatePartitions(ctx, &kafkago.CreatePartitionsRequest{Topics: []kafkago.TopicPartitionsConfig{{Name: topic, Count: 2}}})
	if err != nil || resp.Errors[topic] != nil {
		t.Fatalf("create partitions: %v %v", err, resp)
	}
	resp, err = cl.CreatePartitions(ctx, &kafkago.CreatePartitionsRequest{Topics: []kafkago.TopicPartitionsConfig{{Name: topic, Count: 1}}})
	if err != nil || !errors.Is(resp.Errors[topic], kafkago.InvalidPartitionNumber) {
		t.Fatalf("shrink: %v %v, want INVALID_PARTITIONS", err, resp)
	}

	headers := []kafkago.Header{{Key: "dup", Value: []byte("a")}, {Key: "dup", Value: []byte("b")}, {Key: "b", Value: []byte("1")}, {Key: "a", Value: []byte("2")}}
	w := &kafkago.Writer{Addr: kafkago.TCP(srv.KafkaAddr()), Topic: topic, RequiredAcks: kafkago.RequireAll, Balancer: &kafkago.RoundRobin{}}
	defer w.Close()
	if err := w.WriteMessages(ctx, kafkago.Message{Value: []byte("x"), Headers: headers}, kafkago.Message{Value: []byte("y"), Headers: headers}); err != nil {
		t.Fatal(err)
	}
	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{srv.KafkaAddr()}, GroupID: group, Topic: topic, StartOffset: kafkago.FirstOffset})
	for range 2 {
		m, err := r.ReadMessage(ctx) // commits
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(m.Headers, headers) {
			t.Fatalf("headers %q, want %q", m.Headers, headers)
		}
	}
	if err := r.Close(); err != nil { // leaves the group
		t.Fatal(err)
	}
	// The group has left: Empty, listed.
	lg, err := cl.ListGroups(ctx, &kafkago.ListGroupsRequest{})
	if err != nil || lg.Error != nil {
		t.Fatalf("list groups: %v %v", err, lg)
	}
	found := false
	for _, g := range lg.Groups {
		found = found || g.GroupID == group
	}
	if !found {
		t.Fatalf("list groups: %+v, want %s", lg.Groups, group)
	}
	dg, err := cl.DeleteGroups(ctx, &kafkago.DeleteGroupsRequest{GroupIDs: []string{group, "unknown-group"}})
	if err != nil {
		t.Fatal(err)
	}
	if dg.Errors[group] != nil || !errors.Is(dg.Errors["unknown-group"], kafkago.GroupIdNotFound) {
		t.Fatalf("delete groups: %v", dg.Errors)
	}
}
