package kafka_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/causeway/causeway/clients"
)

// Record headers round-trip as Kafka defines them, an ordered list with
// repeated keys and null values, through franz-go and kcat (librdkafka);
// a WebSocket consumer sees the properties map (the last value of each
// key) and nothing internal. (Before, `dup=a,dup=b` came back as `dup=b`
// and headers came back sorted.)
func TestKafkaHeadersOrderedList(t *testing.T) {
	srv := startNode(t, nil)
	ctx := testCtx(t)
	const topic = "headers"
	want := []kgo.RecordHeader{{Key: "dup", Value: []byte("a")}, {Key: "dup", Value: []byte("b")},
		{Key: "z", Value: []byte("1")}, {Key: "a", Value: []byte("2")}, {Key: "nil", Value: nil}, {Key: "empty", Value: []byte{}}}
	prod := kafkaClient(t, srv, kgo.AllowAutoTopicCreation())
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("v"), Headers: want}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cons := kafkaClient(t, srv, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	fs := cons.PollRecords(ctx, 1)
	recs := fs.Records()
	if len(recs) != 1 {
		t.Fatalf("fetched %d records: %v", len(recs), fs.Errors())
	}
	if got := recs[0].Headers; !reflect.DeepEqual(got, want) {
		t.Fatalf("headers %q, want %q", got, want)
	}

	ws := wsClient(t, srv)
	sub, err := ws.Subscribe(ctx, clients.ConsumerOptions{Streams: []string{topic}, Subscription: "h", InitialPosition: clients.Earliest})
	if err != nil {
		t.Fatal(err)
	}
	m, err := sub.Receive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if wantProps := map[string]string{"dup": "b", "z": "1", "a": "2", "nil": "", "empty": ""}; !reflect.DeepEqual(m.Properties, wantProps) {
		t.Fatalf("WebSocket properties %q, want %q", m.Properties, wantProps)
	}

	// kcat: librdkafka producing and consuming repeated, unsorted headers.
	kcatPath(t)
	runKcat(t, ctx, "k:one\n", "-P", "-b", srv.KafkaAddr(), "-t", "kcat-headers", "-K", ":",
		"-H", "dup=a", "-H", "dup=b", "-H", "z=1", "-H", "a=2")
	out := runKcat(t, ctx, "", "-C", "-b", srv.KafkaAddr(), "-t", "kcat-headers", "-o", "beginning", "-e", "-q", "-f", "%k\t%s\t%h\n")
	if got, wantLine := strings.TrimSpace(out), "k\tone\tdup=a,dup=b,z=1,a=2"; got != wantLine {
		t.Fatalf("kcat read %q, want %q", got, wantLine)
	}
	// And kcat reads what franz-go wrote, in order.
	out = runKcat(t, ctx, "", "-C", "-b", srv.KafkaAddr(), "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%h\n")
	if got := strings.TrimSpace(out); !strings.HasPrefix(got, "dup=a,dup=b,z=1,a=2,nil") {
		t.Fatalf("kcat read headers %q", got)
	}
}
