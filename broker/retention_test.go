package broker

import (
	"bytes"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/naming"
)

// TestRetentionSparesOpLogs: node-wide size retention deletes old segments
// of ordinary streams and of change feeds, never of a collection's op log
// (the collection trims it once its ops are in the view and stable).
func TestRetentionSparesOpLogs(t *testing.T) {
	n, err := Open(Config{Region: "us", DataDir: t.TempDir(), Fsync: "never",
		SegmentMaxBytes: 1 << 20, RetentionBytes: 2 << 20}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	payload := bytes.Repeat([]byte("x"), 1000)
	for _, tc := range []struct {
		name string
		kept bool
	}{
		{"orders", false},
		{"_changes.users", false},
		{"_col.users", true},
	} {
		sn := naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric, Name: tc.name}
		st, err := n.StreamForUse(sn, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := st.AttachInternalProducer("writer", -1)
		if err != nil {
			t.Fatal(err)
		}
		for range 400 {
			msgs := make([]Message, 10)
			for i := range msgs {
				msgs[i] = Message{Payload: payload, SequenceID: -1}
			}
			for _, r := range p.Publish(msgs) {
				if r.Err != nil {
					t.Fatal(r.Err)
				}
			}
		}
		p.Close()
		n.EnforceRetention(time.Now())
		if start := st.Source().StartOffset(); (start == 0) != tc.kept {
			t.Fatalf("%s: starts at %d after retention (kept whole: %v)", tc.name, start, tc.kept)
		}
	}
}
