package broker

import (
	"context"
	"errors"

	"github.com/causeway/causeway/broker/naming"
)

// What a Cluster may also offer the front ends whose clients choose nodes
// themselves (Kafka: Metadata names every partition's leader, groups have
// one coordinator) and keep small records that must outlive any one node
// (Kafka topic metadata and committed group offsets). A front end checks
// for these with a type assertion on Config.Cluster; a Cluster without
// them (or a region of one node) leaves the front end as it is alone.

// ClusterView describes the region as this node's metadata says.
type ClusterView interface {
	// SelfID is this node's id (0 until it is in its region's metadata
	// group).
	SelfID() uint64
	// Nodes returns the region's nodes that serve clients now (every
	// member that is not fenced), sorted by ID.
	Nodes() []ClusterNode
	// Placements returns where persistent streams live in the region, as
	// of one view of its metadata; a stream the region does not hold
	// (yet) is left out.
	Placements(names []naming.Stream) map[naming.Stream]StreamPlacement
}

// StreamPlacement is a stream's replicas and leader in the region.
type StreamPlacement struct {
	// Leader leads the stream; 0 while no replica can (offline).
	Leader uint64
	// Epoch grows with every change of leader.
	Epoch uint64
	// Replicas hold the stream, in preference order for leadership.
	Replicas []uint64
	// InSync are the replicas holding every acknowledged record, sorted.
	InSync []uint64
}

// RegionKV is the region's replicated key-value map (region/meta) as the
// front ends use it, with reads of this node's applied copy for their hot
// paths (a Kafka topic's metadata is read on every request): a write
// returns once a majority of the region's voters committed it, so it
// survives the loss of any one node. Keys are 1-512 bytes of UTF-8
// without NUL; a key and its value must fit one metadata command (about
// 16 KiB), and the map is bounded (region/kv.go). Errors while the node
// is not in its group, or the group has no quorum, wrap
// ErrRegionUnavailable.
type RegionKV interface {
	// KVGet returns key's value as applied on this node (possibly a
	// little behind the group).
	KVGet(key string) (value string, found bool, err error)
	// KVRead returns key's value as of a linearizable read: it reflects
	// every write committed before the call, and this node has applied
	// them all when it returns (later KVGets see them too).
	KVRead(ctx context.Context, key string) (value string, found bool, err error)
	// KVPut stores value under key.
	KVPut(ctx context.Context, key, value string) error
	// KVDelete removes key (a missing key is not an error).
	KVDelete(ctx context.Context, key string) error
	// KVDeletePrefix removes every key starting with prefix (not empty).
	KVDeletePrefix(ctx context.Context, prefix string) error
}

// ErrRegionUnavailable: the node is not in its region's metadata group
// yet, or the group has no quorum. Retriable.
var ErrRegionUnavailable = errors.New("broker: the region's metadata group is unavailable (starting, or no quorum); try again")

// LogEndOffset is the end of this node's copy of the stream's log: in a
// region of several nodes it runs ahead of Source().EndOffset() on the
// stream's leader while records wait for the in-sync replicas, and a
// leader that just took over may not have counted as committed yet what
// the previous one had (its high watermark catches up at the followers'
// next fetches). A reader asking for an offset between the two waits
// instead of being told it is out of range. Elsewhere it is
// Source().EndOffset().
func (s *Stream) LogEndOffset() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rlog != nil && s.plog != nil {
		return s.plog.EndOffset()
	}
	return s.src.EndOffset()
}
