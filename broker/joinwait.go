package broker

import (
	"fmt"
	"sync"
)

// A region that lost its disk rejoins the fabric: until its peers gave back
// its previous life's messages and they are applied, its streams' producer
// de-duplication state is empty, and a client re-sending what that life
// acknowledged (a Pulsar producer reconnecting with the same name and
// sequence ids) would store it a second time. So a producer on a replicated
// stream holds its publishes, in call order, until the replicator reports
// the region joined (Replicator.AwaitJoined); only then are they checked
// against the recovered messages and given sequence ids.

// maxJoinHeldCalls bounds the publish calls one producer holds while the
// region joins; past it a call fails with ErrJoining.
const maxJoinHeldCalls = 1024

// joinHold is a producer's queue of publishes waiting for the join.
type joinHold struct {
	mu sync.Mutex
	// active is set from the first held call until the queue is drained,
	// so later calls queue behind it and keep their order.
	active bool
	calls  []heldPublish
}

type heldPublish struct {
	msgs     []Message
	done     func([]PublishResult)
	borrowed bool // the payloads are the caller's once done ran (publishNow copies them)
}

// holdForJoin queues the call when the producer's stream is replicated and
// the region has not joined yet (or earlier calls are still queued), and
// reports whether it did.
func (p *Producer) holdForJoin(msgs []Message, done func([]PublishResult), borrowed bool) bool {
	r := p.stream.node.replicatorFor(p.stream)
	if r == nil {
		return false
	}
	h := &p.hold
	h.mu.Lock()
	if !h.active && r.Joined() {
		h.mu.Unlock()
		return false
	}
	if len(h.calls) >= maxJoinHeldCalls {
		h.mu.Unlock()
		done(failAll(len(msgs), fmt.Errorf("%w: %d publishes of producer %q already wait", ErrJoining, len(h.calls), p.name)))
		return true
	}
	h.calls = append(h.calls, heldPublish{msgs: msgs, done: done, borrowed: borrowed})
	first := !h.active
	h.active = true
	h.mu.Unlock()
	if first {
		r.AwaitJoined(p.releaseHeld)
	}
	return true
}

// releaseHeld publishes the held calls in order once the region joined, or
// fails them with err.
func (p *Producer) releaseHeld(err error) {
	h := &p.hold
	for {
		h.mu.Lock()
		calls := h.calls
		h.calls = nil
		if len(calls) == 0 {
			h.active = false
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
		for _, c := range calls {
			if err != nil {
				c.done(failAll(len(c.msgs), fmt.Errorf("broker: publish while the region joins: %w", err)))
				continue
			}
			p.publishNow(c.msgs, c.done, c.borrowed)
		}
	}
}

func failAll(n int, err error) []PublishResult {
	rs := make([]PublishResult, n)
	for i := range rs {
		rs[i].Err = err
	}
	return rs
}
