package subscription

import (
	"fmt"
	"time"
)

// Bounds of the core.
const (
	// maxConsumers bounds the consumers attached to one subscription.
	maxConsumers = 10_000
	// maxPermits bounds one consumer's accumulated permits; more are dropped.
	maxPermits = 1 << 30
)

// DispatcherConfig configures a Dispatcher.
type DispatcherConfig struct {
	// Name names the subscription in error messages.
	Name string
	// Type is the subscription type until a consumer attaches; while no
	// consumer is attached, the first one to attach may change it (Pulsar).
	Type Type
	// MaxUnackedPerConsumer stops delivery to a consumer holding this many
	// unacknowledged messages until it acks some; 0 means unbounded.
	MaxUnackedPerConsumer int
}

// ConsumerID identifies a consumer inside one Dispatcher.
type ConsumerID uint64

// Assignment is one delivery decided by Dispatch: the shell reads the record
// at Offset and hands it to Consumer.
type Assignment struct {
	Consumer        ConsumerID
	Offset          uint64
	RedeliveryCount int
}

// DeadLetter is a message to publish to the dead-letter stream; the shell
// reports the outcome with DeadLettered or DeadLetterFailed.
type DeadLetter struct {
	Offset          uint64
	RedeliveryCount int
}

// location says where an unacknowledged, already dispatched message is.
type location uint8

const (
	locOutstanding   location = iota + 1 // delivered to a consumer, not acked
	locReady                             // queued for redelivery now
	locDelayed                           // waiting for a nack delay or a dead-letter retry
	locDeadLetter                        // to be returned by TakeDeadLetters
	locDeadLettering                     // handed to the shell for dead-lettering
)

// message is the state of one dispatched, unacknowledged offset. Queue
// entries carry the seq they were pushed with and are ignored once the
// message has moved (lazy deletion).
type message struct {
	loc         location
	consumer    ConsumerID // when outstanding
	count       int        // redelivery count
	seq         uint64
	deadLetter  bool // when delayed: dead-letter instead of redelivering
	deliveredAt time.Time
	hash        uint32 // Key_Shared: KeyHash of the key, when hashed
	hashed      bool
}

// Dispatcher is the pure core of a subscription: its cursor, its consumers
// and the messages each holds, and its redelivery queues. It has no
// goroutines, clock, I/O or logging; it is not safe for concurrent use.
//
// Invariant: every offset below the read position is acknowledged, or
// outstanding at exactly one consumer, or queued (ready, delayed or being
// dead-lettered). Nothing is acknowledged except by Ack, AckCumulative,
// Skip, Seek (forward), DeadLettered and LogStart (retention).
type Dispatcher struct {
	name       string
	typ        Type
	maxUnacked int

	start, end uint64 // the log's first offset and one past its last
	markDelete uint64 // every offset below is acknowledged
	acked      rangeSet
	readPos    uint64 // next offset never dispatched
	// rewound is the highest read position the cursor was moved back
	// from (Seek, or a type change that rewinds): offsets in [readPos,
	// rewound) were dispatched before the move, and acks of them still
	// in flight are ignored rather than refused.
	rewound uint64
	version uint64 // bumps whenever markDelete or acked change

	nextID    ConsumerID
	consumers map[ConsumerID]*consumerState
	order     []*consumerState // attach order, for round robin
	rr        int
	active    *consumerState // exclusive and failover

	msgs        map[uint64]*message
	seq         uint64
	ready       offsetHeap
	delayed     dueHeap
	deadLetters []uint64

	// Key_Shared (keyshared.go).
	ring   []ringPoint           // consumers' points, sorted
	hashes map[uint32]*hashState // hashes with tracked messages
	kReady int                   // messages of those hashes queued ready
	kfrom  uint64                // offset of kwin[0]
	kwin   []uint32              // hashes of the messages from kfrom on
}

// InitialCursor is the cursor of a new subscription on a log holding
// [start, end).
func InitialCursor(pos Position, start, end uint64) CursorState {
	if pos == Earliest {
		return CursorState{MarkDelete: start}
	}
	return CursorState{MarkDelete: end}
}

// NewDispatcher returns a dispatcher resuming from st on a log holding
// [start, end). A mark-delete position below start moves up to start (those
// messages are gone); one above end is clamped to end, and acked ranges at or
// past end are dropped, so a log that lost its tail never has new messages
// skipped.
func NewDispatcher(cfg DispatcherConfig, st CursorState, start, end uint64) (*Dispatcher, error) {
	if !cfg.Type.supported() {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedType, cfg.Type)
	}
	if cfg.MaxUnackedPerConsumer < 0 {
		return nil, fmt.Errorf("%w: MaxUnackedPerConsumer %d", ErrInvalidArgument, cfg.MaxUnackedPerConsumer)
	}
	if err := st.Validate(); err != nil {
		return nil, err
	}
	if start > end {
		return nil, fmt.Errorf("%w: log start %d after end %d", ErrInvalidArgument, start, end)
	}
	d := &Dispatcher{
		name:       cfg.Name,
		typ:        cfg.Type,
		maxUnacked: cfg.MaxUnackedPerConsumer,
		start:      start,
		end:        end,
		markDelete: min(max(st.MarkDelete, start), end),
		consumers:  make(map[ConsumerID]*consumerState),
		msgs:       make(map[uint64]*message),
		hashes:     make(map[uint32]*hashState),
	}
	for _, r := range st.Acked {
		from, to := max(r.From, d.markDelete), min(r.To, end)
		if from < to {
			d.acked.add(from, to)
		}
	}
	d.normalize()
	d.readPos = d.markDelete
	d.kfrom = d.readPos
	return d, nil
}

// normalize folds an acked range starting at the mark-delete position into
// it.
func (d *Dispatcher) normalize() {
	d.markDelete = d.acked.foldFrom(d.markDelete)
	if d.readPos < d.markDelete {
		d.readPos = d.markDelete
	}
}

// Type is the subscription type in force.
func (d *Dispatcher) Type() Type { return d.typ }

// Cursor returns a copy of the durable cursor.
func (d *Dispatcher) Cursor() CursorState {
	return CursorState{MarkDelete: d.markDelete, Acked: d.acked.ranges()}
}

// CursorVersion increases every time the durable cursor changes; the shell
// persists when it differs from the version it last saved.
func (d *Dispatcher) CursorVersion() uint64 { return d.version }

// MarkDelete is the first offset not known to be acknowledged.
func (d *Dispatcher) MarkDelete() uint64 { return d.markDelete }

// ReadPosition is the next offset never dispatched.
func (d *Dispatcher) ReadPosition() uint64 { return d.readPos }

// LogEnd tells the dispatcher that the log now ends at end (one past its last
// offset). A smaller end than already known is ignored.
func (d *Dispatcher) LogEnd(end uint64) {
	d.end = max(d.end, end)
}

// LogStart tells the dispatcher that retention removed every offset below
// start. Those messages count as acknowledged (Pulsar moves the cursor past
// deleted ledgers): they leave consumers' tracking and the queues.
func (d *Dispatcher) LogStart(start uint64) {
	if start <= d.start {
		return
	}
	d.start = start
	d.end = max(d.end, start)
	if d.markDelete < start {
		d.ackRange(d.markDelete, start)
	}
}

// IsAcked reports whether offset is acknowledged on the cursor.
func (d *Dispatcher) IsAcked(offset uint64) bool {
	return offset < d.markDelete || d.acked.contains(offset)
}
