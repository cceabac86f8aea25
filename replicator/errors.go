package replicator

import "errors"

// Sentinel errors. Callers match them with errors.Is; they are wrapped with
// context as they rise.
var (
	// ErrUnknownRegion: a batch, ack or dependency names a region that is not
	// in the membership.
	ErrUnknownRegion = errors.New("replicator: unknown region")
	// ErrEvicted: the region was evicted from the membership by an operator.
	ErrEvicted = errors.New("replicator: region evicted")
	// ErrFutureDot: a dot or dependency is further ahead than its origin could
	// have produced, as far as this region can tell.
	ErrFutureDot = errors.New("replicator: dot from the future")
	// ErrDuplicateBatch: every operation of the batch was already delivered.
	// It is harmless under at-least-once transport; nothing changed.
	ErrDuplicateBatch = errors.New("replicator: duplicate batch")
	// ErrMissingBase: a Based batch's first op is delta-encoded against an
	// op this region has not delivered (or whose dependencies it lost in a
	// restart without Restore.LastDeps). Nothing changed; the sender's
	// retransmission is never based.
	ErrMissingBase = errors.New("replicator: based batch without its base")
	// ErrMembershipMismatch: a compact batch names regions by a membership
	// this region does not have (membership change in progress). Nothing
	// changed; the sender falls back to names once it sees our digest.
	ErrMembershipMismatch = errors.New("replicator: membership digest mismatch")
	// ErrInvalidBatch: a batch is internally inconsistent (wrong receiver,
	// non-dense sequence numbers, dependency on its own origin, ...).
	ErrInvalidBatch = errors.New("replicator: invalid batch")
	// ErrInvalidAck: an ack/advertisement is internally inconsistent.
	ErrInvalidAck = errors.New("replicator: invalid ack")
	// ErrInvalidConfig: the engine configuration does not validate.
	ErrInvalidConfig = errors.New("replicator: invalid config")
	// ErrCorrupt: wire or journal bytes failed a checksum or do not parse.
	ErrCorrupt = errors.New("replicator: corrupt encoding")
	// ErrUnauthenticated: the MAC of a wire message does not verify.
	ErrUnauthenticated = errors.New("replicator: message not authenticated")
	// ErrTooLarge: an encoding exceeds one of the wire bounds.
	ErrTooLarge = errors.New("replicator: encoding too large")
	// ErrVersion: a wire message has an unknown version or kind.
	ErrVersion = errors.New("replicator: unsupported wire version")
	// ErrJoining: the region started with nothing and has not yet learned
	// from its peers how many ops it created in a previous life (see
	// Engine.Joining); it cannot create ops until then.
	ErrJoining = errors.New("replicator: region is joining the fabric")
	// ErrClockSkew: a remote hybrid-logical timestamp is further ahead of the
	// local physical clock than the configured maximum offset.
	ErrClockSkew = errors.New("replicator: remote clock too far ahead")
)
