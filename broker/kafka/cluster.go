package kafka

import (
	"fmt"
	"hash/fnv"
	"math"
	"net"
	"net/url"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/causeway/causeway/broker"
)

// The listener in a region of several nodes (broker.Config.Cluster
// offering broker.ClusterView and broker.RegionKV): every node of the
// region is a Kafka broker (its id is the region node id, its address the
// node's Kafka address); a partition's leader, replicas and in-sync
// replicas are its stream's in the region; a node answers Produce, Fetch
// and ListOffsets of a partition it does not lead with
// NOT_LEADER_OR_FOLLOWER (LEADER_NOT_AVAILABLE while none does), so
// clients refresh their metadata and go to the leader. Each group has one
// coordinator, chosen from the group id among the region's live nodes
// (coordinatorOf); the others answer its requests with NOT_COORDINATOR.
// Topic metadata and committed offsets are in the region's replicated
// key-value map (regiontopics.go, regionoffsets.go). This file holds the
// pure mappings.

// clusterRegion is the node's region of several nodes; nil for a region
// of one node (the listener is then the only broker, as before).
type clusterRegion struct {
	view broker.ClusterView
	kv   broker.RegionKV
}

// clusterOf returns node's region of several nodes, nil for a region of
// one node (or a Cluster that offers no view or key-value map).
func clusterOf(node *broker.Node) *clusterRegion {
	cl := node.Config().Cluster
	if cl == nil {
		return nil
	}
	view, okView := cl.(broker.ClusterView)
	kv, okKV := cl.(broker.RegionKV)
	if !okView || !okKV {
		return nil
	}
	return &clusterRegion{view: view, kv: kv}
}

// kafkaNodeID is the Kafka broker id of region node id; ok is false for
// no node (0) and for ids a Kafka int32 cannot carry.
func kafkaNodeID(id uint64) (int32, bool) {
	if id == 0 || id > math.MaxInt32 {
		return -1, false
	}
	return int32(id), true
}

// kafkaEpoch is a region leader epoch as a Kafka leader epoch (clamped).
func kafkaEpoch(epoch uint64) int32 {
	if epoch > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(epoch)
}

// kafkaAddr splits a node's Kafka address into host and port; ok is false
// for an address clients cannot use (empty, no port, an unspecified host
// such as 0.0.0.0).
func kafkaAddr(addr string) (host string, port int32, ok bool) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil || h == "" {
		return "", -1, false
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsUnspecified() {
		return "", -1, false
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 {
		return "", -1, false
	}
	return h, int32(n), true
}

// nodeKafkaAddr is where clients reach node n over Kafka: its Kafka
// address, or, when that listens on every interface (":9092",
// "0.0.0.0:9092", the default), the host of its HTTP URL (the address the
// region's other nodes reach it at) with the Kafka port.
func nodeKafkaAddr(n broker.ClusterNode) (host string, port int32, ok bool) {
	if host, port, ok := kafkaAddr(n.Kafka); ok {
		return host, port, true
	}
	h, p, err := net.SplitHostPort(n.Kafka)
	if err != nil {
		return "", -1, false
	}
	if ip := net.ParseIP(h); h != "" && (ip == nil || !ip.IsUnspecified()) {
		return "", -1, false
	}
	u, err := url.Parse(n.HTTP)
	if err != nil || u.Hostname() == "" {
		return "", -1, false
	}
	return kafkaAddr(net.JoinHostPort(u.Hostname(), p))
}

// brokerOf is node n as a Kafka broker; ok is false when clients cannot
// reach it over Kafka (no listener, or an id or address Kafka cannot
// carry).
func brokerOf(n broker.ClusterNode) (kmsg.MetadataResponseBroker, bool) {
	b := kmsg.NewMetadataResponseBroker()
	id, okID := kafkaNodeID(n.ID)
	host, port, okAddr := nodeKafkaAddr(n)
	if !okID || !okAddr {
		return b, false
	}
	b.NodeID, b.Host, b.Port = id, host, port
	return b, true
}

// metadataBrokers lists the nodes clients can reach over Kafka.
func metadataBrokers(nodes []broker.ClusterNode) []kmsg.MetadataResponseBroker {
	out := []kmsg.MetadataResponseBroker{}
	for _, n := range nodes {
		if b, ok := brokerOf(n); ok {
			out = append(out, b)
		}
	}
	return out
}

// kafkaIDs maps node ids, leaving out those Kafka cannot carry.
func kafkaIDs(ids []uint64) []int32 {
	out := make([]int32, 0, len(ids))
	for _, id := range ids {
		if k, ok := kafkaNodeID(id); ok {
			out = append(out, k)
		}
	}
	return out
}

// partitionMetadata describes partition p from its stream's placement in
// the region (found is false while the region does not hold the stream
// yet): LEADER_NOT_AVAILABLE, leader -1, while no node leads it.
func partitionMetadata(p int32, pl broker.StreamPlacement, found bool) kmsg.MetadataResponseTopicPartition {
	mp := kmsg.NewMetadataResponseTopicPartition()
	mp.Partition = p
	mp.Leader, mp.LeaderEpoch = -1, -1
	mp.Replicas, mp.ISR = []int32{}, []int32{}
	if !found {
		mp.ErrorCode = kerr.LeaderNotAvailable.Code
		return mp
	}
	mp.Replicas, mp.ISR = kafkaIDs(pl.Replicas), kafkaIDs(pl.InSync)
	leader, ok := kafkaNodeID(pl.Leader)
	if !ok {
		mp.ErrorCode = kerr.LeaderNotAvailable.Code
		return mp
	}
	mp.Leader, mp.LeaderEpoch = leader, kafkaEpoch(pl.Epoch)
	return mp
}

// coordinatorOf picks group's coordinator among nodes by rendezvous
// hashing: the reachable node with the highest hash of (group, node id).
// Every node with the same list picks the same one, and when a node leaves
// (or joins) only the groups it coordinated (or now wins) move. ok is
// false when no node is reachable.
func coordinatorOf(group string, nodes []broker.ClusterNode) (broker.ClusterNode, bool) {
	var best broker.ClusterNode
	var bestScore uint64
	found := false
	for _, n := range nodes {
		if _, ok := brokerOf(n); !ok {
			continue
		}
		score := rendezvous(group, n.ID)
		if !found || score > bestScore || score == bestScore && n.ID < best.ID {
			best, bestScore, found = n, score, true
		}
	}
	return best, found
}

// rendezvous is the score of node for group: FNV-1a 64 of the group
// mixed with the node id by SplitMix64's finalizer (FNV alone spreads
// nearby node ids poorly).
func rendezvous(group string, node uint64) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(group))
	z := h.Sum64() ^ node*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// notLeaderCode is the error code of a partition request sent to a node
// that does not lead it: NOT_LEADER_OR_FOLLOWER, or LEADER_NOT_AVAILABLE
// while no node leads it. Both make clients refresh their metadata.
func notLeaderCode(leader broker.ClusterNode) int16 {
	if leader.ID == 0 {
		return kerr.LeaderNotAvailable.Code
	}
	return kerr.NotLeaderForPartition.Code
}

// appendFailureCode is the error code of a failed append of a partition
// in a region of several nodes, knowing who leads it now: an error a
// client can act on keeps its code; otherwise NOT_LEADER_OR_FOLLOWER (or
// LEADER_NOT_AVAILABLE) when the lead moved away, else REQUEST_TIMED_OUT
// (the in-sync replicas did not confirm in time). All three are retried
// by clients; the records may have been kept, so a retry may duplicate
// them (an idempotent producer's retry to the same leader does not).
func appendFailureCode(err error, leader broker.ClusterNode, local bool) int16 {
	if code := errorCode(err); code != kerr.UnknownServerError.Code {
		return code
	}
	if !local {
		return notLeaderCode(leader)
	}
	return kerr.RequestTimedOut.Code
}

// groupReadCode is the error code of a group request that could not read
// what it needs: in a region of several nodes a failed read of the
// region's metadata (no quorum, a read that timed out under load) is
// COORDINATOR_NOT_AVAILABLE, which clients retry; errorCode's otherwise.
func (s *Server) groupReadCode(err error) int16 {
	code := errorCode(err)
	if s.cluster != nil && (code == kerr.UnknownServerError.Code || code == kerr.RequestTimedOut.Code) {
		return kerr.CoordinatorNotAvailable.Code
	}
	return code
}

// coordinatorCode says whether this node coordinates group: 0 when it
// does (always in a region of one node), NOT_COORDINATOR when another node
// does, COORDINATOR_NOT_AVAILABLE when none can.
func (s *Server) coordinatorCode(group string) int16 {
	if s.cluster == nil {
		return 0
	}
	coord, ok := coordinatorOf(group, s.cluster.view.Nodes())
	switch {
	case !ok:
		return kerr.CoordinatorNotAvailable.Code
	case coord.ID != s.cluster.view.SelfID():
		return kerr.NotCoordinator.Code
	}
	return 0
}

// leaderCode is 0 when this node leads stream (always in a region of
// one node), else notLeaderCode.
func leaderCode(stream *broker.Stream) int16 {
	leader, local := stream.Leader()
	if local {
		return 0
	}
	return notLeaderCode(leader)
}

// regionSize is how many nodes serve the node's region now (1 for a
// region of one node).
func regionSize(node *broker.Node) int {
	if cr := clusterOf(node); cr != nil {
		return max(1, len(cr.view.Nodes()))
	}
	return 1
}

// regionReplicas fits a topic's replication factor to a region of size
// nodes: the topic was created in a region that could hold that many
// copies (createTopics checks), and a smaller region of the fabric holds
// one on each of its nodes; 0 (the region's default) stays 0, and so does
// everything in a region of one node (one copy, the only one it has).
func regionReplicas(factor, size int) int {
	if size <= 1 || factor <= 0 {
		return 0
	}
	return min(factor, size)
}

// checkReplicationFactor checks a CreateTopics replication factor (-1: the
// region's default) against a region of size nodes, as Kafka checks it
// against its live brokers; it returns the factor to record (0 for the
// default).
func checkReplicationFactor(factor int16, size int) (int, error) {
	switch {
	case factor == -1:
		return 0, nil
	case factor < 1:
		return 0, fmt.Errorf("replication factor must be larger than 0 (or -1 for the region's default), not %d", factor)
	case int(factor) > size:
		return 0, fmt.Errorf("replication factor: %d larger than the %d node(s) of this region", factor, size)
	case int(factor) > maxReplicationFactor:
		return 0, fmt.Errorf("replication factor: %d larger than the most copies a region keeps (%d)", factor, maxReplicationFactor)
	}
	return int(factor), nil
}
