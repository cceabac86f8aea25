package ws

import (
	"context"
	"sync"
	"time"
)

// handoffWait bounds how long a producer attaching under a name waits for
// the previous connection under that name to finish its writes.
const handoffWait = 5 * time.Second

// busyWait bounds how long a producer attaching under a name that is
// attached, and not yet known to be leaving, keeps trying: a client that
// reconnects after its connection dropped can arrive before the server has
// read the drop. A second live producer under the name is refused after it.
const busyWait = 2 * time.Second

// handoff orders a producer's reconnection after its previous connection:
// a connection that ends keeps its producer attached until its appends in
// flight are durable (so their sequence ids are in the stream's
// de-duplication state), and a new connection under the same name waits
// for that instead of being refused as busy. Without it a client that
// resends after a dropped connection can store a message twice: the
// resend arrives before the original's append completes.
type handoff struct {
	mu      sync.Mutex
	leaving map[string]chan struct{} // stream + producer name -> closed when detached
}

func handoffKey(stream, producer string) string { return stream + "\x00" + producer }

// leave marks key as leaving; the returned func marks it gone.
func (h *handoff) leave(key string) func() {
	ch := make(chan struct{})
	h.mu.Lock()
	if h.leaving == nil {
		h.leaving = make(map[string]chan struct{})
	}
	h.leaving[key] = ch
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		if h.leaving[key] == ch {
			delete(h.leaving, key)
		}
		h.mu.Unlock()
		close(ch)
	}
}

// wait waits until the producer under key is gone, if it is leaving, for
// at most handoffWait; it reports whether one was leaving.
func (h *handoff) wait(ctx context.Context, key string) bool {
	h.mu.Lock()
	ch := h.leaving[key]
	h.mu.Unlock()
	if ch == nil {
		return false
	}
	t := time.NewTimer(handoffWait)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
	return true
}

// attach runs try (attaching a producer under key) until it is not refused
// as busy: at once, then after the name's leaving connection is gone, then
// with a growing backoff for up to busyWait while the name stays attached
// (its connection may have dropped without the server having read it yet).
func (h *handoff) attach(ctx context.Context, key string, busy func(error) bool, try func() error) error {
	err := try()
	if !busy(err) {
		return err
	}
	if h.wait(ctx, key) {
		if err = try(); !busy(err) {
			return err
		}
	}
	deadline := time.NewTimer(busyWait)
	defer deadline.Stop()
	for backoff := 5 * time.Millisecond; busy(err); backoff = min(2*backoff, 200*time.Millisecond) {
		retry := time.NewTimer(backoff)
		select {
		case <-retry.C:
		case <-deadline.C:
			retry.Stop()
			return err
		case <-ctx.Done():
			retry.Stop()
			return err
		}
		h.wait(ctx, key) // if it started leaving meanwhile, its writes finish first
		err = try()
	}
	return err
}
