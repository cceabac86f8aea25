package subscription

import (
	"time"

	"go.uber.org/zap"
)

// persister writes the latest cursor whenever it changed, one write at a
// time and at most one per persistInterval: changes arriving meanwhile are
// coalesced into the next write, so acks never wait for an fsync and a
// stream of acks costs at most 50 synced writes a second, not one after
// another (back-to-back synced writes kept the disk busy and doubled the
// latency of the stream's own fsyncs).
type persister struct {
	store    Store
	key      string
	log      *zap.Logger
	snapshot func() (CursorState, uint64)

	wake  chan struct{} // capacity 1
	stop  chan struct{}
	done  chan struct{}
	saved uint64 // cursor version last written; owned by run, then by close

	// failing counts the failed writes since the last success (owned by
	// run): a full disk fails every retry, and only the first failure and
	// the recovery are logged.
	failing uint64
}

func newPersister(store Store, key string, log *zap.Logger, snapshot func() (CursorState, uint64)) *persister {
	p := &persister{
		store:    store,
		key:      key,
		log:      log,
		snapshot: snapshot,
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	_, p.saved = snapshot()
	go p.run()
	return p
}

// kick asks for a write of the latest cursor; it never blocks.
func (p *persister) kick() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *persister) run() {
	defer close(p.done)
	for {
		select {
		case <-p.stop:
			return
		case <-p.wake:
		}
		err := p.flush()
		p.report(err)
		pause := persistInterval
		if err != nil {
			pause = saveRetryDelay
		}
		t := time.NewTimer(pause)
		select {
		case <-p.stop:
			t.Stop()
			return
		case <-t.C:
		}
		if err != nil {
			p.kick()
		}
	}
}

// flush writes the cursor if it changed since the last write.
func (p *persister) flush() error {
	st, v := p.snapshot()
	if v == p.saved {
		return nil
	}
	if err := p.store.Save(p.key, st); err != nil {
		return err
	}
	p.saved = v
	return nil
}

// close stops the writer and writes the final cursor.
func (p *persister) close() error {
	close(p.stop)
	<-p.done
	return p.flush()
}

// report logs the first failed write of a run of failures, and the write
// that ends it with how many failed.
func (p *persister) report(err error) {
	switch {
	case err != nil && p.failing == 0:
		p.failing = 1
		p.log.Error("persisting cursor failed; acks are kept in memory and retried until it succeeds",
			zap.String("key", p.key), zap.Error(err))
	case err != nil:
		p.failing++
	case p.failing > 0:
		p.log.Info("persisting cursor resumed", zap.String("key", p.key), zap.Uint64("failedWrites", p.failing))
		p.failing = 0
	}
}
