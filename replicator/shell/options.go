package shell

import (
	"maps"
	"time"

	"github.com/causeway/causeway/replicator"
)

// Options tune a Shell. Zero values take the defaults.
type Options struct {
	// Engine overrides the engine's tunables; Self and Regions always come
	// from the node's configuration.
	Engine replicator.Config
	// TickInterval is how often the engine ticks when idle (default 5ms);
	// it also ticks after every burst of input, at most once a millisecond.
	TickInterval time.Duration
	// MaxBatchBytes cuts wire batches (default 1 MiB).
	MaxBatchBytes int
	// Seed makes the emulated WAN reproducible (0: random).
	Seed uint64
	// SaveInterval is how often the applied watermark is saved (default
	// 200ms).
	SaveInterval time.Duration
	// Kinds are registered (RegisterKind) before the journal tails are
	// re-applied on start, so that ops of those kinds in the tails reach
	// their services too.
	Kinds map[Kind]ApplyFunc
	// BatchKinds are kinds whose consecutive ops are applied in batches
	// (RegisterBatchKind), in place before the journal tails are re-applied
	// too. Keys other than registrable kinds are never used; a kind in
	// both Kinds and BatchKinds fails Start.
	BatchKinds map[Kind]BatchApplyFunc
	// Journals, when set, are the journals of every region of the fabric
	// (a region of several nodes: the replicated logs this node leads);
	// the shell neither opens nor closes them. An append is acknowledged
	// once the journal holds it durably (for a replicated log, on every
	// in-sync replica), and Start must see only acknowledged records.
	// Nil: the shell opens its own under {DataDir}/repl.
	Journals map[string]Journal
	// State keeps the applied watermark, the evictions and the join mark
	// (nil: files under {DataDir}/repl).
	State StateStore
	// Mux, on the shell of every region, lets domain shells share its
	// transport (see mux.go).
	Mux *Mux
	// Domain makes the shell run one causal domain of geo-fabrics: only
	// Domain.Regions (this one included), journals and records under
	// {DataDir}/repl/domain-..., over Domain.Mux's transport.
	Domain *Domain
}

// Domain is the causal domain a shell runs (Options.Domain).
type Domain struct {
	// Name names the domain on the wire and on disk (empty: its regions,
	// comma-separated); every member must give it the same name.
	Name string
	// Regions is the domain's set.
	Regions []string
	Mux     *Mux
	// OriginTag, when set, tags the Origin of the stream records this
	// domain applies (origin@OriginTag): a stream that moves to another
	// domain (a new version of its fabric's list) keeps the highest
	// OriginSeq applied per origin of each apart.
	OriginTag string
	// Paused starts the shell with applying paused (see Shell.Resume):
	// it journals and acknowledges what it delivers, applies nothing and
	// holds local publishes until Resume.
	Paused bool
}

// Defaults and bounds.
const (
	DefaultTickInterval  = 5 * time.Millisecond
	DefaultMaxBatchBytes = 1 << 20
	DefaultSaveInterval  = 200 * time.Millisecond

	// minTickGap is the shortest time between two ticks driven by input.
	minTickGap = time.Millisecond
	// DefaultMaxInflightOps and DefaultAckInterval override the engine's
	// defaults: senders read in-flight ops back from the journals (they
	// cost no memory), and a wider window with quicker acks keeps a link
	// busy. An origin's ops reach a peer at most at the window per round
	// trip, and the round trip includes the peer's journal commit before
	// its ack: over 40-45 ms one-way, 16,384 ops capped a catch-up at about
	// 150,000 ops/s, 32,768 reached 220,000-230,000 (README "Geo
	// replication"). A wider window deepens the receiver's queue instead
	// (bounded by maxQueuedMessageBytes), which on loopback cost more than
	// it gained at 65,536.
	DefaultMaxInflightOps = 32768
	DefaultAckInterval    = 5 * time.Millisecond
	// maxQueuedPublishes bounds publish requests waiting for the engine;
	// maxQueuedMessages the peer messages; maxQueuedControls control calls.
	maxQueuedPublishes = 1024
	maxQueuedMessages  = 1024
	maxQueuedControls  = 64
	// maxQueuedMessageBytes bounds the bytes of the queued peer messages.
	maxQueuedMessageBytes = 64 << 20
	// maxHeldPubs bounds the publish requests held while the region joins.
	maxHeldPubs = 4096
	// maxInputsPerStep bounds the inputs folded into one engine step.
	maxInputsPerStep = 512
	// maxPendingSteps bounds the steps between the engine and the
	// completer (journal writes in flight).
	maxPendingSteps = 256
	// maxQueuedSends bounds, per peer, the send ranges and acks waiting to
	// be encoded; past it they are dropped (the engine retransmits).
	maxQueuedSends = 4096
	// maxApplyGroupRecords bounds the records appended to a stream by one
	// call.
	maxApplyGroupRecords = 1024
	// maxApplyBatchOps and maxApplyBatchBytes (payload bytes) bound the
	// ops of a registered kind applied by one call (BatchApplyFunc).
	maxApplyBatchOps   = 1024
	maxApplyBatchBytes = 8 << 20
	// journalExtraRecordBytes is what a journal record may hold beyond a
	// message payload (the op body's other fields and the metadata).
	journalExtraRecordBytes = 1 << 20
)

func (o Options) withDefaults() Options {
	if o.TickInterval <= 0 {
		o.TickInterval = DefaultTickInterval
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if o.SaveInterval <= 0 {
		o.SaveInterval = DefaultSaveInterval
	}
	o.BatchKinds = maps.Clone(o.BatchKinds) // read without a lock after Start
	return o
}
