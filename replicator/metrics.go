package replicator

// Metrics are the engine's counters (monotone) and gauges, as plain values
// for a shell to export.
type Metrics struct {
	// DeliveredOps counts ops delivered locally (own and remote).
	DeliveredOps uint64
	// DuplicateOps counts received ops that were already delivered.
	DuplicateOps uint64
	// DroppedOps counts undeliverable ops dropped because the buffer was full
	// (they are fetched again by retransmission).
	DroppedOps uint64
	// Retransmits counts go-back-N restarts of a (peer, origin) stream.
	Retransmits uint64
	// RelayedRanges counts send ranges of third-party origins (relay).
	RelayedRanges uint64
	// SentRanges counts all send ranges asked of the shell.
	SentRanges uint64
	// ClockSkew counts remote timestamps refused by the HLC.
	ClockSkew uint64
	// RecoveredOwnOps counts this region's own ops it got back from peers
	// while joining (after its disk was wiped).
	RecoveredOwnOps uint64
	// PeerRegressions counts (peer, origin) pairs whose full ack went back:
	// the peer lost state (its disk was wiped, or an unsynced tail) and is
	// sent the ops again.
	PeerRegressions uint64
	// Joining is true while the region waits to rejoin (Engine.Joining).
	Joining bool
	// BufferedOps and BufferedBytes are the current buffer occupancy.
	BufferedOps   int
	BufferedBytes int
}
