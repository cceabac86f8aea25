package kafka

import (
	"errors"
	"testing"

	"github.com/causeway/causeway/broker"
)

// TestTopicMetaApply: replicated topic events make and remove a topic's
// partition streams; a payload that does not decode, or that names another
// region than the one that shipped it, is refused and changes nothing; an
// event applied twice (a restart re-applies journal tails) changes nothing
// more.
func TestTopicMetaApply(t *testing.T) {
	n, err := broker.Open(broker.Config{Region: "here", DataDir: t.TempDir(), Fsync: "never"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	m := NewTopicMeta(n, nil)
	tp := topics{node: n, meta: m, tenant: "_mm", fabric: "_system"}
	streams := func() []string {
		var out []string
		for _, s := range n.Streams("_mm", "_system") {
			out = append(out, s.Name().Name)
		}
		return out
	}
	enc := func(ev topicEvent) []byte {
		b, err := appendTopicEvent(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	create := evCreate(10, "there", 3, nil)
	for name, tc := range map[string]struct {
		origin  string
		payload []byte
	}{
		"garbage":      {"there", []byte{1, '{', 'x'}},
		"empty":        {"there", nil},
		"wrong origin": {"elsewhere", enc(create)},
	} {
		if err := m.ApplyReplicated(tc.origin, 1, tc.payload); !errors.Is(err, ErrBadTopicEvent) {
			t.Fatalf("%s: %v, want ErrBadTopicEvent", name, err)
		}
		if v, _ := tp.view("t"); v.exists() || len(streams()) != 0 {
			t.Fatalf("%s changed something: %+v, streams %v", name, v, streams())
		}
	}
	for range 2 {
		if err := m.ApplyReplicated("there", 1, enc(create)); err != nil {
			t.Fatal(err)
		}
	}
	if v, _ := tp.view("t"); v.Partitions != 3 || v.Plain {
		t.Fatalf("view %+v, want 3 partitions", v)
	}
	if got := streams(); len(got) != 3 || got[0] != "t-partition-0" || got[2] != "t-partition-2" {
		t.Fatalf("streams %v", got)
	}
	if err := m.ApplyReplicated("there", 2, enc(evGrow(11, "there", 4))); err != nil {
		t.Fatal(err)
	}
	if got := streams(); len(got) != 4 {
		t.Fatalf("streams after growing: %v", got)
	}
	if err := m.ApplyReplicated("there", 3, enc(evDelete(12, "there"))); err != nil {
		t.Fatal(err)
	}
	if v, _ := tp.view("t"); v.exists() || len(streams()) != 0 {
		t.Fatalf("after delete: %+v, streams %v", v, streams())
	}
	// A message arriving late from another region brings a partition
	// stream back: it is no topic of its own.
	if _, err := n.CreateStream(m.streamName("_mm", "_system", "t-partition-1"), broker.StreamInfo{}); err != nil {
		t.Fatal(err)
	}
	if all, err := tp.all(); err != nil || len(all) != 0 {
		t.Fatalf("topics after delete: %v, %v", all, err)
	}
	// The create again (re-applied after a restart) does not bring it back.
	if err := m.ApplyReplicated("there", 1, enc(create)); err != nil {
		t.Fatal(err)
	}
	if v, _ := tp.view("t"); v.exists() || len(streams()) != 1 {
		t.Fatalf("re-applied create resurrected the topic: %+v, streams %v", v, streams())
	}
}
