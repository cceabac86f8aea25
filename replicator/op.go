package replicator

import "fmt"

// Dot names one replicated operation: its origin region and its sequence
// number there, dense from 1.
type Dot struct {
	Origin string
	Seq    uint64
}

// String renders the dot as origin:seq.
func (d Dot) String() string { return fmt.Sprintf("%s:%d", d.Origin, d.Seq) }

// Op is one operation inside a Batch. Its dot is (Batch.Origin, Seq).
type Op struct {
	Seq uint64
	// HLC is the origin's hybrid logical clock when it created the op.
	HLC Timestamp
	// Deps are the op's causal dependencies: the origin's delivered vector
	// when it created the op, without the origin's own component (which is
	// implicitly Seq-1). Values are absolute. For the first op of a batch Deps
	// lists every non-zero component; for each later op only the components
	// that grew since the previous op of the batch (the vector is monotone
	// along an origin's log).
	Deps []Entry
	// Body is opaque to the engine (the shell's encoded message or
	// collection operation).
	Body []byte
}

// Batch carries a run of consecutive operations of one origin from one
// region to another. From may differ from Origin (relay).
type Batch struct {
	From   string
	To     string
	Origin string
	// Based marks the first op's Deps as only the components that grew since
	// the op before it (Ops[0].Seq-1), which the receiver acknowledged
	// having delivered: the receiver rebuilds the full vector from its own
	// record of that op. Otherwise the first op carries the full vector.
	Based bool
	// Membership, when it equals the codec's membership digest, makes the
	// encoding compact (regions named by position in the sorted membership
	// instead of a table of names). Decoded compact batches carry it.
	Membership uint64
	Ops        []Op
}

// Ack advertises the sender's delivered vector to one peer. Values are
// absolute and merged by maximum, so a partial ack (only the components
// that changed since the previous ack to that peer) is safe to lose,
// duplicate or reorder; Full acks are sent periodically as a refresh.
type Ack struct {
	From string
	To   string
	Full bool
	// Membership is the sender's MembershipDigest: a peer with the same
	// digest may send it compact batches and acks.
	Membership uint64
	// Compact asks for the compact encoding (regions by position in the
	// sorted membership), used when Membership is the codec's digest.
	Compact bool
	// Joining says the sender is joining (Engine.Joining): the receiver
	// drops the ops of the sender's origin it buffered past what the
	// sender advertises of itself (a previous life's, that nobody
	// delivered), and answers with SeenJoining.
	Joining bool
	// SeenJoining says the sender had processed a Joining ack from the
	// receiver before this one: a joining region counts only full acks
	// with it as heard (see join.go).
	SeenJoining bool
	// Stamp is the sender's HLC when it sent the ack (zero: unstamped, an
	// older sender). Acks are reordered: one stamped no later than the
	// last seen from its sender is stale, and only merged (by maximum);
	// what a full ack that goes back means (regress, a join's answers) is
	// taken from fresh acks only.
	Stamp Timestamp
	// Asking, with Joining, says the sender has not counted an answer of
	// the receiver since it last asked (see join.go): the receiver answers
	// with a full ack at once.
	Asking bool
	// Answers, with SeenJoining, is the Stamp of the latest Joining ack
	// the sender processed from the receiver: a joining region counts a
	// full ack as an answer only if it answers one of its acks sent since
	// it last needed answers again (see join.go). Zero from an unstamped
	// sender.
	Answers   Timestamp
	Delivered []Entry
}

// Delivery is an operation the engine has delivered, handed to the shell in
// causal order. The shell applies it and appends it to the origin's journal
// (with AppendMeta) before acting on any Send or Ack of the same Output.
type Delivery struct {
	Origin string
	Seq    uint64
	HLC    Timestamp
	// Keyframe marks Deps as the full dependency vector; otherwise Deps are
	// the components that grew since the previous op of the same origin.
	// Every op whose seq is a scheduled keyframe (IsKeyframe) is a keyframe.
	Keyframe bool
	Deps     []Entry
	Body     []byte
	// Recovered marks an op of this region's own origin that came back
	// from a peer while the region was joining (its disk had been wiped):
	// the shell applies it like a remote op, since nothing local published
	// it in this life.
	Recovered bool
}

// Dot returns the delivery's dot.
func (d Delivery) Dot() Dot { return Dot{Origin: d.Origin, Seq: d.Seq} }

// SendRange asks the shell to read operations From..To (inclusive) of
// Origin from its journal and ship them to Peer (see BatchBuilder). Based
// says the peer acknowledged op From-1, so the first batch may be Based.
type SendRange struct {
	Peer   string
	Origin string
	From   uint64
	To     uint64
	Based  bool
	// Membership is the membership digest the peer and this region share
	// (0 when they differ): batches may then be compact.
	Membership uint64
}

// Output is what the engine asks its shell to do, in this order: journal
// and apply Deliveries, then send Sends and Acks.
type Output struct {
	Deliveries []Delivery
	Sends      []SendRange
	Acks       []Ack
}

// IsEmpty reports whether there is nothing to do.
func (o Output) IsEmpty() bool {
	return len(o.Deliveries) == 0 && len(o.Sends) == 0 && len(o.Acks) == 0
}
