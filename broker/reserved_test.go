package broker

import (
	"errors"
	"net/http"
	"testing"

	"github.com/causeway/causeway/broker/naming"
)

// TestReservedStreams: a collection's op log and change feed refuse client
// producers and deletion, whatever their state; the node's own writers get
// through the internal entry points; reading stays open.
func TestReservedStreams(t *testing.T) {
	n, err := Open(Config{Region: "us", DataDir: t.TempDir(), Fsync: "never"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	for _, tc := range []struct {
		name     string
		reserved bool
	}{
		{"_col.users", true},
		{"_changes.users", true},
		{"users", false},
		{"_collections", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sn := naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric, Name: tc.name}
			st, err := n.StreamForUse(sn, nil)
			if err != nil {
				t.Fatal(err)
			}
			p, err := st.AttachProducer("client", -1)
			if tc.reserved != (err != nil) {
				t.Fatalf("AttachProducer: %v", err)
			}
			if tc.reserved {
				if !errors.Is(err, naming.ErrReserved) || HTTPStatus(err) != http.StatusForbidden {
					t.Fatalf("AttachProducer: %v (status %d), want ErrReserved and 403", err, HTTPStatus(err))
				}
				if st.Source().EndOffset() != 0 || len(st.ProducerNames()) != 0 {
					t.Fatalf("a refused producer left %d messages and producers %v", st.Source().EndOffset(), st.ProducerNames())
				}
				if p, err = st.AttachInternalProducer("_collections", -1); err != nil {
					t.Fatalf("AttachInternalProducer: %v", err)
				}
			}
			if r := p.Publish([]Message{{Payload: []byte("x"), SequenceID: -1}}); r[0].Err != nil {
				t.Fatal(r[0].Err)
			}
			if recs, err := st.Source().Read(0, 10, 1<<20); err != nil || len(recs) != 1 {
				t.Fatalf("read: %d records, %v", len(recs), err)
			}
			p.Close()
			err = n.DeleteStream(sn, true)
			if tc.reserved != (err != nil) {
				t.Fatalf("DeleteStream: %v", err)
			}
			if tc.reserved {
				if !errors.Is(err, naming.ErrReserved) || HTTPStatus(err) != http.StatusForbidden {
					t.Fatalf("DeleteStream: %v, want ErrReserved and 403", err)
				}
				if _, err := n.Stream(sn); err != nil {
					t.Fatalf("a refused deletion removed the stream: %v", err)
				}
				if err := n.DeleteInternalStream(sn); err != nil {
					t.Fatalf("DeleteInternalStream: %v", err)
				}
			}
			if _, err := n.Stream(sn); !errors.Is(err, ErrStreamNotFound) {
				t.Fatalf("stream still there after deletion: %v", err)
			}
		})
	}
}
