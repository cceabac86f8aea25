package streamworkers

import (
	"sync"
	"time"
)

// Bounds of the rows a worker has handed to the broker and not yet seen
// stored: past them it waits before it reads more.
const (
	maxInflightBatches = 16
	maxPendingRows     = 200_000
	// haltWait bounds how long a stopping worker waits for its rows in
	// flight. They are sent again by its successor: one that lands after
	// its successor attached the producer name would be stored twice (the
	// broker's de-duplication sees only stored rows), so the wait is long;
	// the storage answers every append (an error at worst) well before.
	haltWait = time.Minute
)

// outbox follows the batches of pending rows a worker handed to the
// broker (publishes in flight) or wrote (collection upserts), in hand-over
// order: the rows of the completed batches at its head are the ones sent,
// a prefix of the worker's pending rows. Publishes complete on the
// storage's writer goroutines, hence the lock.
type outbox struct {
	mu      sync.Mutex
	batches []*sendBatch
	// kick has a value when a batch completed.
	kick chan struct{}
}

// sendBatch is consecutive pending rows sent together.
type sendBatch struct {
	rows int   // how many
	last int64 // the sequence id of the last one
	done bool
	err  error
	bad  int // rows the target refused for good (counted as errors)
}

func newOutbox() *outbox { return &outbox{kick: make(chan struct{}, 1)} }

func (o *outbox) push(b *sendBatch) {
	o.mu.Lock()
	o.batches = append(o.batches, b)
	o.mu.Unlock()
}

// complete marks b done (from any goroutine).
func (o *outbox) complete(b *sendBatch, bad int, err error) {
	o.mu.Lock()
	b.done, b.bad, b.err = true, bad, err
	o.mu.Unlock()
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// inflight is the number of batches not collected yet.
func (o *outbox) inflight() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.batches)
}

// popDone removes the completed batches at the head and returns them.
// When one of them failed, it is returned last, and every batch after it
// is left in the outbox.
func (o *outbox) popDone() []*sendBatch {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []*sendBatch
	for len(o.batches) > 0 && o.batches[0].done {
		b := o.batches[0]
		o.batches = o.batches[1:]
		out = append(out, b)
		if b.err != nil {
			break
		}
	}
	return out
}

// waitAll blocks until every batch handed out completed, or until stop is
// closed or d passes (false).
func (o *outbox) waitAll(stop <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		o.mu.Lock()
		all := true
		for _, b := range o.batches {
			all = all && b.done
		}
		o.mu.Unlock()
		if all {
			return true
		}
		select {
		case <-o.kick:
		case <-stop:
			return false
		case <-t.C:
			return false
		}
	}
}

// waitHead blocks until the head batch completed (or stop, or d).
func (o *outbox) waitHead(stop <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		o.mu.Lock()
		ok := len(o.batches) == 0 || o.batches[0].done
		o.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-o.kick:
		case <-stop:
			return
		case <-t.C:
			return
		}
	}
}

// reset forgets every batch (all completed: after a failure, the rows
// not collected are sent again).
func (o *outbox) reset() {
	o.mu.Lock()
	o.batches = nil
	o.mu.Unlock()
}
