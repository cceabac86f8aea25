// Package cursorstore keeps subscription cursors in the region's metadata
// group, so that the cursor of a stream's subscription survives the loss
// of the node leading the stream: the next leader loads it from the
// region's replicated key-value map (region.State.KV) instead of from the
// dead node's disk. Pulsar keeps cursor positions in its metadata store
// (ZooKeeper) for the same reason.
//
// Store implements subscription.Store over Metadata, which *meta.Group
// satisfies. A cursor is stored under KeyPrefix + the key the broker
// passes ("subscription/cursor/{tenant}/{fabric}/{stream}/{sub}", the
// key layout of the node's Pebble store), as the base64 of
// subscription.CursorState's binary encoding.
//
// # Bounded cursors
//
// A metadata command is at most region.MaxCommandBytes (16 KiB) with its
// key, while an encoded cursor may reach ~200 KB (MaxStoredAckRanges
// ranges). Save therefore keeps the mark-delete position and as many
// individually acknowledged ranges as fit, the ones nearest the mark-delete
// position first (Fit), and drops the farthest, as CursorState.MarshalBinary
// does past its own cap. A dropped range is a set of acknowledged messages
// the stored cursor no longer remembers: after a failover they are
// delivered again (a duplicate), never skipped (a loss). About 12 KB of
// encoding remain for the ranges, 2,000 to 6,000 ranges depending on their
// gaps; Pulsar keeps 1,000 ranges in its metadata store by default
// (managedLedgerMaxUnackedRangesToPersistInMetadataStore). Stats counts
// the saves that dropped ranges.
//
// # Reads
//
// Load is a linearizable read of one key (Metadata.Read): it reflects every
// Save that returned before it, on any node. A read of this node's applied
// state would do as long as the caller loads only after its local state
// shows it as the stream's new leader: that leadership change is committed
// after every save the previous leader completed (a save returns once
// committed; the controller proposes the change only after the old
// leader's session expired), so applying it means having applied them. The
// linearizable read does not rely on the caller's discipline (a node that
// restarts replays its metadata log after it starts serving; a replica
// that lags behind, catching up from a snapshot) and costs one ReadIndex
// round trip per subscription opened, which is rare.
//
// Writes are proposals: Save returns once the cursor is committed on a
// majority of the region's voters, and an error if it is not (refused,
// no quorum, timed out), which the subscription's persister retries.
// Saves of different subscriptions run concurrently; the persister runs
// one at a time per subscription.
//
// Not fenced: a save is not tied to the stream's leader epoch, so a
// deposed leader's late save (a proposal that timed out and was committed
// after newer ones) can move a cursor back to an earlier position it had
// really held. That redelivers; it loses nothing, except after a seek
// backwards, which such a late save may undo.
package cursorstore
