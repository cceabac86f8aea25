package e2e

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/replicator/shell"
)

// TestWipedRegionDedupsResends is issue 11's item 1: a client published
// client:0..999 (and other:0..9) to us-east, acknowledged and replicated;
// us-east loses its disk and restarts, and while it is joining (its peers
// cut it off) the client re-sends client:990..999 under the same producer
// name and sequence ids, as a Pulsar client does on reconnect, and another
// producer attached during the join publishes with automatic sequence ids.
// The re-sends must be answered as duplicates once the region recovered its
// previous life's messages, the automatic ids must continue after the
// recovered ones (not restart at 0, which the other regions would drop as
// duplicates), and every region must end with the same stream.
func TestWipedRegionDedupsResends(t *testing.T) {
	f := newFabric(t, threeRegions, func(c *broker.Config) { c.JoinTimeout = 10 * time.Minute })
	f.publish("us-east", "rs", "client", 0, 1000)
	f.publish("us-east", "rs", "other", 0, 10)
	f.waitCount("rs", 1010)

	f.Stop("us-east")
	if err := os.RemoveAll(f.Configs["us-east"].DataDir); err != nil {
		t.Fatal(err)
	}
	// Its peers cut it off: it stays joining, whatever the timing.
	peers := []string{"eu-west", "ap-south"}
	for _, p := range peers {
		if err := f.Server(p).Repl.SetLinkDown("us-east", true); err != nil {
			t.Fatal(err)
		}
	}
	f.Start("us-east")
	if f.Server("us-east").Repl.Joined() {
		t.Fatal("us-east joined with every peer cut off")
	}
	s, err := f.node("us-east").StreamForUse(streamName("rs"), nil)
	if err != nil {
		t.Fatal(err)
	}
	client, err := s.AttachProducer("client", -1)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	other, err := s.AttachProducer("other", -1)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var resend []broker.Message
	for i := 990; i < 1000; i++ {
		resend = append(resend, broker.Message{Payload: []byte("client:" + strconv.Itoa(i)), SequenceID: int64(i)})
	}
	resent := make(chan []broker.PublishResult, 1)
	client.PublishAsync(resend, func(r []broker.PublishResult) { resent <- r })
	next := make(chan []broker.PublishResult, 1)
	client.PublishAsync([]broker.Message{{Payload: []byte("client:1000"), SequenceID: 1000}},
		func(r []broker.PublishResult) { next <- r })
	auto := make(chan []broker.PublishResult, 1)
	other.PublishAsync([]broker.Message{{Payload: []byte("other:10"), SequenceID: -1}},
		func(r []broker.PublishResult) { auto <- r })
	if f.Server("us-east").Repl.Joined() {
		t.Fatal("us-east joined with every peer cut off")
	}

	for _, p := range peers {
		if err := f.Server(p).Repl.SetLinkDown("us-east", false); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(ch chan []broker.PublishResult) []broker.PublishResult {
		t.Helper()
		select {
		case r := <-ch:
			return r
		case <-time.After(waitTimeout):
			t.Fatalf("publish not answered after %s\n%s", waitTimeout, f.statusDump())
			return nil
		}
	}
	for i, r := range wait(resent) {
		if r.Err != nil || !r.Duplicate {
			t.Fatalf("re-send of client:%d answered %+v, want a duplicate", 990+i, r)
		}
	}
	for _, ch := range []chan []broker.PublishResult{next, auto} {
		for _, r := range wait(ch) {
			if r.Err != nil || r.Duplicate {
				t.Fatalf("new message answered %+v", r)
			}
		}
	}
	if seq := other.LastSequenceID(); seq != 10 {
		t.Fatalf("other's automatic sequence id is %d, want 10 (after its recovered 0..9)", seq)
	}

	f.waitCount("rs", 1012)
	want := map[string][2]int{"client": {0, 1001}, "other": {0, 11}}
	for _, r := range threeRegions {
		checkExactlyOnce(t, r, f.records(r, "rs"), want)
	}
	// Same streams, and the status says so: the delivered vectors agree.
	ref, err := f.Server("us-east").Repl.Status()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range peers {
		f.waitStatus(r, func(st shell.Status) bool { return st.Delivered.Equal(ref.Delivered) })
	}
}
