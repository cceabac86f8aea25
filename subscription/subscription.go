package subscription

import (
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/segment"
)

// Source is one stream partition; *segment.Log satisfies it.
type Source interface {
	// Read returns records with offset >= from, in order, at least one if
	// any is available (see segment.Log.Read).
	Read(from uint64, maxRecords, maxBytes int) ([]segment.Record, error)
	StartOffset() uint64
	EndOffset() uint64
	// Changed returns a channel closed the next time EndOffset advances.
	Changed() <-chan struct{}
	// OffsetAtTime returns the first offset published at or after ms.
	OffsetAtTime(ms int64) uint64
}

// Bounds and delays of the shell.
const (
	// DefaultNackDelay is Pulsar's negative-ack redelivery delay.
	DefaultNackDelay = time.Minute
	// DefaultReceiverQueue is a consumer's initial permits and channel size
	// when ConsumerSpec.ReceiverQueue is 0.
	DefaultReceiverQueue = 1000
	// MaxReceiverQueue bounds ConsumerSpec.ReceiverQueue (messages).
	MaxReceiverQueue = 100_000
	// DefaultMaxUnackedPerConsumer is the suggested Config.MaxUnackedPerConsumer
	// (Config's zero value means unbounded).
	DefaultMaxUnackedPerConsumer = 1000
	// maxDispatchMessages bounds one dispatch round.
	maxDispatchMessages = 512
	// maxReadBytes bounds one Source.Read.
	maxReadBytes = 4 << 20
	// roomPoll re-checks consumers that have permits but a full channel.
	roomPoll = 20 * time.Millisecond
	// readRetryDelay backs off after a Source.Read error.
	readRetryDelay = 500 * time.Millisecond
	// saveRetryDelay backs off after a Store.Save error.
	saveRetryDelay = time.Second
	// persistInterval spaces cursor writes: acks within it go out in one
	// write. After a crash, messages acked in the last interval may be
	// delivered again (at least once, as without it: acks never waited
	// for the write).
	persistInterval = 20 * time.Millisecond
	// minDeadLetterRetry is the least delay before retrying a failed
	// dead-letter publish.
	minDeadLetterRetry = time.Second
)

// Config configures a subscription. Consumers may override AckTimeout,
// NackDelay and MaxRedeliverCount for the messages they receive.
type Config struct {
	Name string
	// Type is the subscription type; while no consumer is attached, the
	// next consumer to attach may change it (as in Pulsar).
	Type Type
	// Initial positions a new subscription (one with no stored cursor).
	Initial Position
	// AckTimeout redelivers messages unacknowledged for longer; 0 is off.
	AckTimeout time.Duration
	// NackDelay delays redelivery after a negative ack; 0 means
	// DefaultNackDelay (1 minute, as in Pulsar).
	NackDelay time.Duration
	// MaxRedeliverCount dead-letters a message once it has been redelivered
	// this many times; 0 never dead-letters.
	MaxRedeliverCount int
	// DeadLetter publishes a message to the dead-letter stream; required
	// when any consumer may dead-letter. It runs on the dispatch goroutine.
	DeadLetter func(rec segment.Record) error
	// MaxUnackedPerConsumer stops delivery to a consumer holding this many
	// unacknowledged messages until it acks some; 0 is unbounded. Callers
	// normally pass DefaultMaxUnackedPerConsumer (1000) or their own bound.
	MaxUnackedPerConsumer int
	// Logger receives structured logs; nil means zap.NewNop().
	Logger *zap.Logger
}

func (c Config) validate() error {
	switch {
	case !c.Type.supported():
		return fmt.Errorf("%w: %v", ErrUnsupportedType, c.Type)
	case c.Initial != Latest && c.Initial != Earliest:
		return fmt.Errorf("%w: initial position %v", ErrInvalidArgument, c.Initial)
	case c.AckTimeout < 0, c.NackDelay < 0, c.MaxRedeliverCount < 0, c.MaxUnackedPerConsumer < 0:
		return fmt.Errorf("%w: negative ack timeout, nack delay, max redeliver count or max unacked", ErrInvalidArgument)
	case c.MaxRedeliverCount > 0 && c.DeadLetter == nil:
		return fmt.Errorf("%w: MaxRedeliverCount %d needs Config.DeadLetter", ErrInvalidArgument, c.MaxRedeliverCount)
	}
	return nil
}

// Subscription is a durable subscription on one Source: it runs the dispatch
// loop and the cursor persister, and hands out Consumers.
type Subscription struct {
	cfg   Config
	src   Source
	store Store
	key   string
	log   *zap.Logger

	mu        sync.Mutex
	core      *Dispatcher
	consumers map[ConsumerID]*Consumer
	fresh     bool // created by Open, no consumer attached yet
	closed    bool
	attached  int // consumers ever attached, for default names

	wake     chan struct{} // capacity 1: a pending wake-up of the loop
	stop     chan struct{}
	loopDone chan struct{}
	barrier  chan chan struct{} // see sync
	persist  *persister
}

// Open opens the subscription stored under key, or creates it at
// cfg.Initial (saving the new cursor before returning, so a restart keeps
// its position). It starts the dispatch and persister goroutines; Close
// stops them.
func Open(cfg Config, src Source, store Store, key string) (*Subscription, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("subscription: open %q: %w", cfg.Name, err)
	}
	if cfg.NackDelay == 0 {
		cfg.NackDelay = DefaultNackDelay
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	st, ok, err := store.Load(key)
	if err != nil {
		return nil, fmt.Errorf("subscription: open %q: %w", cfg.Name, err)
	}
	start, end := src.StartOffset(), src.EndOffset()
	if !ok {
		st = InitialCursor(cfg.Initial, start, end)
		if err := store.Save(key, st); err != nil {
			return nil, fmt.Errorf("subscription: create %q: %w", cfg.Name, err)
		}
	}
	core, err := NewDispatcher(DispatcherConfig{Name: cfg.Name, Type: cfg.Type, MaxUnackedPerConsumer: cfg.MaxUnackedPerConsumer}, st, start, end)
	if err != nil {
		return nil, fmt.Errorf("subscription: open %q: %w", cfg.Name, err)
	}
	s := &Subscription{
		cfg:       cfg,
		src:       src,
		store:     store,
		key:       key,
		log:       log,
		core:      core,
		consumers: make(map[ConsumerID]*Consumer),
		fresh:     !ok,
		wake:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		loopDone:  make(chan struct{}),
		barrier:   make(chan chan struct{}),
	}
	s.persist = newPersister(store, key, log, s.snapshot)
	if got := core.Cursor(); ok && (got.MarkDelete != st.MarkDelete || len(got.Acked) != len(st.Acked)) {
		log.Warn("stored cursor adjusted to the log's range",
			zap.Uint64("storedMarkDelete", st.MarkDelete), zap.Uint64("markDelete", got.MarkDelete),
			zap.Uint64("logStart", start), zap.Uint64("logEnd", end))
		s.persist.kick()
	}
	log.Debug("subscription opened", zap.Bool("created", !ok), zap.Stringer("type", cfg.Type),
		zap.Uint64("markDelete", core.MarkDelete()), zap.Int("ackedRanges", len(st.Acked)))
	go s.run()
	return s, nil
}

// snapshot returns the cursor and its version for the persister.
func (s *Subscription) snapshot() (CursorState, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.core.Cursor(), s.core.CursorVersion()
}

// changedLocked wakes the dispatch loop and, if the cursor moved since
// before, the persister. Callers hold s.mu.
func (s *Subscription) changedLocked(versionBefore uint64) {
	if s.core.CursorVersion() != versionBefore {
		s.persist.kick()
	}
	s.kick()
}

func (s *Subscription) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Seek resets the cursor to offset, clamped to the log's range: everything
// below counts as acknowledged, everything from it on as not (Pulsar's
// reset-cursor). Messages outstanding at consumers, including those still in
// their channels (which are emptied, their permits returned), are dropped,
// and delivery restarts at offset.
func (s *Subscription) Seek(offset uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("subscription: seek %q: %w", s.cfg.Name, ErrClosed)
	}
	v := s.core.CursorVersion()
	s.core.LogStart(s.src.StartOffset())
	s.core.LogEnd(s.src.EndOffset())
	at := s.core.Seek(offset)
	for id, c := range s.consumers {
		if n := c.drain(); n > 0 {
			_ = s.core.AddPermits(id, n)
		}
	}
	s.fresh = false
	s.log.Info("cursor reset", zap.Uint64("requested", offset), zap.Uint64("offset", at))
	s.changedLocked(v)
	return nil
}

// SeekTime resets the cursor to the first message published at or after ms
// (Unix milliseconds).
func (s *Subscription) SeekTime(ms int64) error {
	return s.Seek(s.src.OffsetAtTime(ms))
}

// Skip acknowledges the next n unacknowledged messages from the mark-delete
// position (all of them if the backlog is shorter).
func (s *Subscription) Skip(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("subscription: skip on %q: %w", s.cfg.Name, ErrClosed)
	}
	v := s.core.CursorVersion()
	s.core.LogEnd(s.src.EndOffset())
	skipped, err := s.core.Skip(n)
	if err != nil {
		return fmt.Errorf("subscription: skip on %q: %w", s.cfg.Name, err)
	}
	s.log.Info("skipped messages", zap.Int("requested", n), zap.Uint64("skipped", skipped))
	s.changedLocked(v)
	return nil
}

// Stats returns a snapshot: type, mark-delete position, backlog, consumers
// with their permits and unacknowledged counts, redelivery queue length.
func (s *Subscription) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.core.LogEnd(s.src.EndOffset())
	}
	return s.core.Stats()
}

// Close detaches every consumer (their Done channels close), stops the
// dispatch loop and persists the cursor. Later calls return nil.
func (s *Subscription) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for _, c := range s.consumers {
		s.detachLocked(c)
	}
	s.mu.Unlock()
	close(s.stop)
	<-s.loopDone
	if err := s.persist.close(); err != nil {
		return fmt.Errorf("subscription: close %q: %w", s.cfg.Name, err)
	}
	return nil
}

// Delete closes the subscription and removes its cursor from the store.
func (s *Subscription) Delete() error {
	if err := s.Close(); err != nil {
		s.log.Warn("closing a subscription being deleted", zap.Error(err))
	}
	if err := s.store.Delete(s.key); err != nil {
		return fmt.Errorf("subscription: delete %q: %w", s.cfg.Name, err)
	}
	return nil
}

// detachLocked removes c from the core and closes its Done channel.
func (s *Subscription) detachLocked(c *Consumer) {
	if c.detached {
		return
	}
	c.detached = true
	_ = s.core.RemoveConsumer(c.id)
	delete(s.consumers, c.id)
	close(c.done)
}
