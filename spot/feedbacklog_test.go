package spot

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/causeway/causeway/broker"
)

func backlogMsgs(seqs ...int64) []broker.Message {
	out := make([]broker.Message, len(seqs))
	for i, s := range seqs {
		out[i] = broker.Message{Key: "k", Payload: []byte("{}"), SequenceID: s}
	}
	return out
}

// TestFeedBacklog: events wait while their collection's stream refuses
// them and go out in order, coalesced, once it takes them; a collection
// that fails does not hold the others back; the bounds drop the oldest.
func TestFeedBacklog(t *testing.T) {
	a, b := Ref{Tenant: "t", Fabric: "f", Collection: "a"}, Ref{Tenant: "t", Fabric: "f", Collection: "b"}
	var bl feedBacklog
	bl.add(a, backlogMsgs(1, 2))
	bl.add(b, backlogMsgs(10))
	bl.add(a, backlogMsgs(3))
	bl.add(b, backlogMsgs(11))

	got := map[Ref][]int64{}
	calls := 0
	refuseA := true
	publish := func(ref Ref, msgs []broker.Message) error {
		calls++
		if ref == a && refuseA {
			return errors.New("not leading")
		}
		for _, m := range msgs {
			got[ref] = append(got[ref], m.SequenceID)
		}
		return nil
	}
	if failed := bl.flush(publish); failed != 1 {
		t.Fatalf("%d failed calls, want 1 (a, tried once per flush)", failed)
	}
	if calls != 3 || !slices.Equal(got[b], []int64{10, 11}) || len(got[a]) != 0 {
		t.Fatalf("after the first flush: %d calls, published %v", calls, got)
	}
	if bl.messages != 3 || bl.empty() {
		t.Fatalf("%d messages wait, want 3", bl.messages)
	}
	bl.add(a, backlogMsgs(4))
	refuseA = false
	calls = 0
	if failed := bl.flush(publish); failed != 0 || calls != 1 {
		t.Fatalf("second flush: %d failed, %d calls, want 0 and 1 (a's batches in one call)", failed, calls)
	}
	if !slices.Equal(got[a], []int64{1, 2, 3, 4}) || !bl.empty() || bl.messages != 0 || bl.bytes != 0 {
		t.Fatalf("published %v, backlog %+v", got, bl)
	}

	// Coalescing stops at maxPublishMessages.
	for i := range maxPublishMessages + 1 {
		bl.add(a, backlogMsgs(int64(100+i)))
	}
	var sizes []int
	bl.flush(func(_ Ref, msgs []broker.Message) error { sizes = append(sizes, len(msgs)); return nil })
	if !slices.Equal(sizes, []int{maxPublishMessages, 1}) {
		t.Fatalf("publish calls of %v events", sizes)
	}

	// Past the bound the oldest go, down to nine tenths of it.
	var bounded feedBacklog
	dropped := 0
	for i := range maxBacklogMessages + 10 {
		dropped += bounded.add(a, backlogMsgs(int64(i)))
	}
	keep := maxBacklogMessages * 9 / 10
	if want := maxBacklogMessages + 1 - keep; dropped != want || bounded.dropped != want || bounded.messages != keep+9 {
		t.Fatalf("dropped %d (%d), %d wait; want %d dropped, %d waiting", dropped, bounded.dropped, bounded.messages, want, keep+9)
	}
	if first, want := bounded.batches[0].msgs[0].SequenceID, int64(maxBacklogMessages+1-keep); first != want {
		t.Fatalf("oldest kept %d, want %d", first, want)
	}
	big := feedBacklog{}
	huge := broker.Message{Payload: make([]byte, maxBacklogBytes+1)}
	big.add(a, backlogMsgs(1))
	if n := big.add(b, []broker.Message{huge}); n != 1 || len(big.batches) != 1 || big.batches[0].ref != b {
		t.Fatalf("a batch over the byte bound: dropped %d, kept %v", n, fmt.Sprint(len(big.batches)))
	}
}
