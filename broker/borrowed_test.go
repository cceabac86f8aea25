package broker

import (
	"bytes"
	"sync"
	"testing"

	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
)

// keepingReplicator keeps what it is given past done, as the replication
// shell does (journal, sender), and reports the region joined or not.
type keepingReplicator struct {
	mu     sync.Mutex
	joined bool
	ready  []func(error)
	kept   [][]byte
}

func (r *keepingReplicator) PublishStream(_ *Stream, recs []segment.Record, done func(uint64, error)) {
	r.mu.Lock()
	for _, rec := range recs {
		r.kept = append(r.kept, rec.Payload)
	}
	r.mu.Unlock()
	done(0, nil)
}

func (r *keepingReplicator) Joined() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.joined
}

func (r *keepingReplicator) AwaitJoined(ready func(error)) {
	r.mu.Lock()
	if !r.joined {
		r.ready = append(r.ready, ready)
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	ready(nil)
}

func (r *keepingReplicator) join() {
	r.mu.Lock()
	r.joined = true
	ready := r.ready
	r.ready = nil
	r.mu.Unlock()
	for _, f := range ready {
		f(nil)
	}
}

// publishBorrowed publishes payloads out of one buffer with
// PublishBorrowedAsync and overwrites the buffer as soon as done ran, as
// the Kafka listener reuses its decompression buffers.
func publishBorrowed(t *testing.T, p *Producer, payloads ...string) <-chan []PublishResult {
	t.Helper()
	buf := []byte{}
	for _, s := range payloads {
		buf = append(buf, s...)
	}
	msgs := make([]Message, len(payloads))
	at := 0
	for i, s := range payloads {
		msgs[i] = Message{Payload: buf[at : at+len(s) : at+len(s)], SequenceID: -1}
		at += len(s)
	}
	ch := make(chan []PublishResult, 1)
	p.PublishBorrowedAsync(msgs, func(rs []PublishResult) {
		for i := range buf {
			buf[i] = 'X'
		}
		ch <- rs
	})
	return ch
}

func wantResults(t *testing.T, rs []PublishResult) {
	t.Helper()
	for i, r := range rs {
		if r.Err != nil {
			t.Fatalf("message %d: %v", i, r.Err)
		}
	}
}

// TestPublishBorrowed: whatever path a publish takes, the buffer its
// payloads came from is the caller's again once done ran. A segment log
// has copied them by then; a memory stream, a replicated stream and a
// publish held while the region joins keep their own copies.
func TestPublishBorrowed(t *testing.T) {
	want := []string{"first", "second", "third"}
	readBack := func(t *testing.T, st *Stream) {
		t.Helper()
		recs, err := st.Source().Read(0, 10, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != len(want) {
			t.Fatalf("%d records, want %d", len(recs), len(want))
		}
		for i, r := range recs {
			if string(r.Payload) != want[i] {
				t.Fatalf("record %d is %q, want %q", i, r.Payload, want[i])
			}
		}
	}
	for _, persistent := range []bool{true, false} {
		name := map[bool]string{true: "segment log", false: "memory stream"}[persistent]
		t.Run(name, func(t *testing.T) {
			n, err := Open(Config{Region: "us", DataDir: t.TempDir(), Fsync: "never"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			st, err := n.StreamForUse(naming.Stream{Persistent: persistent, Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric, Name: "s"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			p, err := st.AttachProducer("p", -1)
			if err != nil {
				t.Fatal(err)
			}
			wantResults(t, <-publishBorrowed(t, p, want...))
			readBack(t, st)
		})
	}
	for _, joined := range []bool{true, false} {
		name := map[bool]string{true: "replicated", false: "held while the region joins"}[joined]
		t.Run(name, func(t *testing.T) {
			n := openTestNode(t, t.TempDir())
			defer n.Close()
			r := &keepingReplicator{joined: joined}
			n.SetReplicator(r)
			st, err := n.StreamForUse(naming.Stream{Persistent: true, Tenant: "_mm", Fabric: "_system", Name: "g"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			p, err := st.AttachProducer("p", -1)
			if err != nil {
				t.Fatal(err)
			}
			done := publishBorrowed(t, p, want...)
			if !joined {
				r.join()
			}
			wantResults(t, <-done)
			r.mu.Lock()
			defer r.mu.Unlock()
			if got := bytes.Join(r.kept, []byte(",")); string(got) != "first,second,third" {
				t.Fatalf("the replicator kept %q", got)
			}
		})
	}
}
