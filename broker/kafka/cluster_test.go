package kafka

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
)

func TestKafkaNodeID(t *testing.T) {
	for _, tc := range []struct {
		in   uint64
		want int32
		ok   bool
	}{
		{0, -1, false},
		{1, 1, true},
		{7, 7, true},
		{math.MaxInt32, math.MaxInt32, true},
		{math.MaxInt32 + 1, -1, false},
		{1<<53 - 1, -1, false},
	} {
		got, ok := kafkaNodeID(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("kafkaNodeID(%d) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		in   uint64
		want int32
	}{{0, 0}, {5, 5}, {math.MaxInt32, math.MaxInt32}, {math.MaxInt32 + 9, math.MaxInt32}} {
		if got := kafkaEpoch(tc.in); got != tc.want {
			t.Errorf("kafkaEpoch(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestKafkaAddr(t *testing.T) {
	for _, tc := range []struct {
		in   string
		host string
		port int32
		ok   bool
	}{
		{"127.0.0.1:9092", "127.0.0.1", 9092, true},
		{"kafka-2.internal:19092", "kafka-2.internal", 19092, true},
		{"[::1]:9093", "::1", 9093, true},
		{"", "", -1, false},
		{"127.0.0.1", "", -1, false},
		{":9092", "", -1, false},
		{"0.0.0.0:9092", "", -1, false},
		{"[::]:9092", "", -1, false},
		{"host:0", "", -1, false},
		{"host:65536", "", -1, false},
		{"host:port", "", -1, false},
	} {
		host, port, ok := kafkaAddr(tc.in)
		if host != tc.host || port != tc.port || ok != tc.ok {
			t.Errorf("kafkaAddr(%q) = %q, %d, %v; want %q, %d, %v", tc.in, host, port, ok, tc.host, tc.port, tc.ok)
		}
	}
}

func TestNodeKafkaAddr(t *testing.T) {
	for _, tc := range []struct {
		kafka, http string
		want        string // "" for none
	}{
		{"10.0.0.1:9092", "http://10.0.0.9:8080", "10.0.0.1:9092"},
		{"0.0.0.0:9092", "http://10.0.0.2:8080", "10.0.0.2:9092"},
		{"[::]:9093", "https://node-3.internal:8443", "node-3.internal:9093"},
		{":9094", "http://[fd00::4]:8080", "fd00::4:9094"},
		{"0.0.0.0:9092", "http://0.0.0.0:8080", ""}, // nowhere to reach it
		{"0.0.0.0:9092", "", ""},
		{"0.0.0.0:9092", "::not a url", ""},
		{"", "http://10.0.0.2:8080", ""}, // no Kafka listener
		{"10.0.0.1", "http://10.0.0.2:8080", ""},
		{"0.0.0.0:0", "http://10.0.0.2:8080", ""},
	} {
		host, port, ok := nodeKafkaAddr(broker.ClusterNode{ID: 1, Kafka: tc.kafka, HTTP: tc.http})
		got := ""
		if ok {
			got = fmt.Sprintf("%s:%d", host, port)
		}
		if got != tc.want {
			t.Errorf("nodeKafkaAddr(%q, %q) = %q, want %q", tc.kafka, tc.http, got, tc.want)
		}
	}
}

func TestMetadataBrokers(t *testing.T) {
	nodes := []broker.ClusterNode{
		{ID: 1, Kafka: "10.0.0.1:9092"},
		{ID: 2, Kafka: ""},                                          // no Kafka listener
		{ID: 3, Kafka: "0.0.0.0:9092", HTTP: "http://0.0.0.0:8080"}, // not reachable as said
		{ID: math.MaxInt32 + 1, Kafka: "10.0.0.4:9092"},
		{ID: 5, Kafka: "10.0.0.5:9094"},
		{ID: 6, Kafka: "0.0.0.0:9092", HTTP: "http://10.0.0.6:8080"},
	}
	got := metadataBrokers(nodes)
	var ids []int32
	for _, b := range got {
		ids = append(ids, b.NodeID)
	}
	if !reflect.DeepEqual(ids, []int32{1, 5, 6}) || got[1].Host != "10.0.0.5" || got[1].Port != 9094 || got[2].Host != "10.0.0.6" {
		t.Fatalf("brokers: %+v", got)
	}
	if got := metadataBrokers(nil); got == nil || len(got) != 0 {
		t.Fatalf("no nodes: %#v, want an empty list", got)
	}
}

func TestPartitionMetadata(t *testing.T) {
	for _, tc := range []struct {
		name          string
		pl            broker.StreamPlacement
		found         bool
		code          int16
		leader, epoch int32
		replicas, isr []int32
	}{
		{"not in the region yet", broker.StreamPlacement{}, false, kerr.LeaderNotAvailable.Code, -1, -1, []int32{}, []int32{}},
		{"led", broker.StreamPlacement{Leader: 2, Epoch: 4, Replicas: []uint64{2, 3, 1}, InSync: []uint64{1, 2, 3}}, true,
			0, 2, 4, []int32{2, 3, 1}, []int32{1, 2, 3}},
		{"shrunk in-sync set", broker.StreamPlacement{Leader: 3, Epoch: 9, Replicas: []uint64{1, 3, 2}, InSync: []uint64{3}}, true,
			0, 3, 9, []int32{1, 3, 2}, []int32{3}},
		{"offline", broker.StreamPlacement{Leader: 0, Epoch: 5, Replicas: []uint64{1, 2, 3}, InSync: []uint64{1}}, true,
			kerr.LeaderNotAvailable.Code, -1, -1, []int32{1, 2, 3}, []int32{1}},
		{"leader id beyond int32", broker.StreamPlacement{Leader: math.MaxInt32 + 1, Epoch: 1, Replicas: []uint64{math.MaxInt32 + 1, 2}}, true,
			kerr.LeaderNotAvailable.Code, -1, -1, []int32{2}, []int32{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mp := partitionMetadata(7, tc.pl, tc.found)
			if mp.Partition != 7 || mp.ErrorCode != tc.code || mp.Leader != tc.leader || mp.LeaderEpoch != tc.epoch ||
				!reflect.DeepEqual(mp.Replicas, tc.replicas) || !reflect.DeepEqual(mp.ISR, tc.isr) {
				t.Fatalf("got %+v", mp)
			}
		})
	}
}

func threeNodes() []broker.ClusterNode {
	return []broker.ClusterNode{{ID: 1, Kafka: "10.0.0.1:9092"}, {ID: 2, Kafka: "10.0.0.2:9092"}, {ID: 3, Kafka: "10.0.0.3:9092"}}
}

func TestCoordinatorOf(t *testing.T) {
	nodes := threeNodes()
	if _, ok := coordinatorOf("g", nil); ok {
		t.Fatal("a coordinator among no nodes")
	}
	if _, ok := coordinatorOf("g", []broker.ClusterNode{{ID: 1}, {ID: 2, Kafka: "0.0.0.0:1"}}); ok {
		t.Fatal("a coordinator among nodes without a usable Kafka address")
	}
	if c, ok := coordinatorOf("g", []broker.ClusterNode{{ID: 1}, {ID: 2, Kafka: "h:1"}}); !ok || c.ID != 2 {
		t.Fatalf("the only reachable node: %+v %v", c, ok)
	}
	perNode := map[uint64]int{}
	const groups = 3000
	for i := range groups {
		g := fmt.Sprintf("group-%d", i)
		c, ok := coordinatorOf(g, nodes)
		if !ok {
			t.Fatal("no coordinator")
		}
		perNode[c.ID]++
		// Same answer whatever the order of the list.
		rev := []broker.ClusterNode{nodes[2], nodes[0], nodes[1]}
		if c2, _ := coordinatorOf(g, rev); c2.ID != c.ID {
			t.Fatalf("%s: %d, then %d with the list reordered", g, c.ID, c2.ID)
		}
		// A node leaving moves only its own groups.
		for _, gone := range nodes {
			var rest []broker.ClusterNode
			for _, n := range nodes {
				if n.ID != gone.ID {
					rest = append(rest, n)
				}
			}
			c3, _ := coordinatorOf(g, rest)
			if c.ID != gone.ID && c3.ID != c.ID {
				t.Fatalf("%s moved from %d to %d when node %d left", g, c.ID, c3.ID, gone.ID)
			}
			if c3.ID == gone.ID {
				t.Fatalf("%s coordinated by node %d, which left", g, gone.ID)
			}
		}
	}
	for _, n := range nodes {
		if share := float64(perNode[n.ID]) / groups; share < 0.25 || share > 0.42 {
			t.Fatalf("node %d coordinates %.0f%% of the groups: %v", n.ID, 100*share, perNode)
		}
	}
}

func TestNotLeaderAndAppendCodes(t *testing.T) {
	none, other := broker.ClusterNode{}, broker.ClusterNode{ID: 2, Kafka: "h:1"}
	if got := notLeaderCode(none); got != kerr.LeaderNotAvailable.Code {
		t.Fatalf("no leader: %d", got)
	}
	if got := notLeaderCode(other); got != kerr.NotLeaderForPartition.Code {
		t.Fatalf("another leader: %d", got)
	}
	stream := naming.Stream{Persistent: true, Tenant: "t", Fabric: "f", Name: "s"}
	shipNotLeader := errors.New("ship: this node does not lead the unit")
	for _, tc := range []struct {
		name   string
		err    error
		leader broker.ClusterNode
		local  bool
		want   int16
	}{
		{"lead moved to another node", shipNotLeader, other, false, kerr.NotLeaderForPartition.Code},
		{"lead moved, no leader yet", shipNotLeader, none, false, kerr.LeaderNotAvailable.Code},
		{"still leading: replicas slow", errors.New("ship: offset 9 not confirmed by the in-sync replicas within 10s"), other, true, kerr.RequestTimedOut.Code},
		{"refused before the append", &broker.NotOwnerError{Stream: stream, Leader: other}, other, false, kerr.NotLeaderForPartition.Code},
		{"refused before the append, offline", fmt.Errorf("publish: %w", &broker.NotOwnerError{Stream: stream}), none, false, kerr.LeaderNotAvailable.Code},
		{"a client's error keeps its code", fmt.Errorf("%w: 2 MiB", broker.ErrMessageTooLarge), other, false, kerr.MessageTooLarge.Code},
	} {
		if got := appendFailureCode(tc.err, tc.leader, tc.local); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	alone, inRegion := &Server{}, &Server{cluster: &clusterRegion{}}
	for _, tc := range []struct {
		s    *Server
		err  error
		want int16
	}{
		{inRegion, fmt.Errorf("x: %w", broker.ErrRegionUnavailable), kerr.CoordinatorNotAvailable.Code},
		{inRegion, errors.New("meta: read: timeout"), kerr.CoordinatorNotAvailable.Code},
		{inRegion, fmt.Errorf("%w: t/9", ErrUnknownTopic), kerr.UnknownTopicOrPartition.Code},
		{alone, errors.New("pebble: closed"), kerr.UnknownServerError.Code},
	} {
		if got := tc.s.groupReadCode(tc.err); got != tc.want {
			t.Errorf("groupReadCode(%v), in a region %v: %d, want %d", tc.err, tc.s.cluster != nil, got, tc.want)
		}
	}
	if got := commitFailureCode(fmt.Errorf("x: %w", broker.ErrRegionUnavailable)); got != kerr.CoordinatorNotAvailable.Code {
		t.Fatalf("commit, region unavailable: %d", got)
	}
	if got := commitFailureCode(errors.New("region: the key-value map is full")); got != kerr.UnknownServerError.Code {
		t.Fatalf("commit refused: %d", got)
	}
	if got := errorCode(fmt.Errorf("x: %w", broker.ErrRegionUnavailable)); got != kerr.RequestTimedOut.Code {
		t.Fatalf("region unavailable: %d", got)
	}
}

func TestRegionProducerID(t *testing.T) {
	base := newProducerIDs(t0).allocate()
	seen := map[int64]string{}
	for node := uint64(1); node <= 5; node++ {
		for i := range int64(600) { // counters of nodes started 1 ms apart overlap after 256 ids
			id := regionProducerID(base+int64(node)<<8+i, node)
			if id <= 0 {
				t.Fatalf("id %d", id)
			}
			if prev, dup := seen[id]; dup {
				t.Fatalf("id %d handed out by node %d and %s", id, node, prev)
			}
			seen[id] = fmt.Sprint("node ", node)
		}
	}
	if got := regionProducerID(1, 4096+3); got != 1<<12|3 {
		t.Fatalf("node bits: %d", got)
	}
}

func TestCandidateTopics(t *testing.T) {
	got := candidateTopics([]string{"orders-partition-1", "plain", "orders-partition-0", "a-partition-x", "-partition-3", "plain"})
	want := []string{"-partition-3", "a-partition-x", "orders", "orders-partition-0", "orders-partition-1", "plain"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := candidateTopics(nil); len(got) != 0 {
		t.Fatalf("none: %q", got)
	}
}

func TestGroupOfOffsetKey(t *testing.T) {
	const prefix = "kafka/offsets/_mm/_system/"
	for _, tc := range []struct {
		key, group string
		ok         bool
	}{
		{offsetKey("_mm", "_system", "orders-partition-2", "billing"), "billing", true},
		{prefix + "orders/g.1-x", "g.1-x", true},
		{"kafka/offsets/_mm/other/orders/billing", "", false},
		{prefix + "orders", "", false},
		{prefix + "orders/", "", false},
		{prefix + "/billing", "", false},
		{prefix + "orders/billing/extra", "", false},
	} {
		group, ok := groupOfOffsetKey(prefix, tc.key)
		if group != tc.group || ok != tc.ok {
			t.Errorf("groupOfOffsetKey(%q) = %q, %v", tc.key, group, ok)
		}
	}
}

func TestOffsetKeys(t *testing.T) {
	if got := offsetKey("_mm", "_system", "orders-partition-2", "billing"); got != "kafka/offsets/_mm/_system/orders-partition-2/billing" {
		t.Fatalf("key %q", got)
	}
	// A topic's prefix does not cover another topic whose name it starts.
	if p := offsetStreamPrefix("t", "f", "orders"); p != "kafka/offsets/t/f/orders/" {
		t.Fatalf("prefix %q", p)
	}
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{{"0", 0, true}, {"1234", 1234, true}, {"-1", 0, false}, {"", 0, false}, {"12a", 0, false}, {"99999999999999999999", 0, false}} {
		got, err := parseOffset(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseOffset(%q) = %d, %v", tc.in, got, err)
		}
	}
}

func TestCheckReplicationFactor(t *testing.T) {
	cases := []struct {
		factor  int16
		size    int
		want    int
		refused bool
	}{
		{-1, 1, 0, false},
		{-1, 5, 0, false},
		{1, 1, 1, false},
		{3, 3, 3, false},
		{2, 5, 2, false},
		{2, 1, 0, true},  // more copies than nodes, as Kafka refuses
		{4, 3, 0, true},  // the same in a region of three
		{0, 3, 0, true},  // zero copies
		{-2, 3, 0, true}, // below -1
		{8, 9, 0, true},  // past the region's bound
	}
	for _, c := range cases {
		got, err := checkReplicationFactor(c.factor, c.size)
		if (err != nil) != c.refused || got != c.want {
			t.Errorf("checkReplicationFactor(%d, %d) = %d, %v; want %d, refused %v", c.factor, c.size, got, err, c.want, c.refused)
		}
	}
}

func TestRegionReplicas(t *testing.T) {
	cases := []struct{ factor, size, want int }{
		{0, 3, 0}, // the region's default
		{2, 3, 2},
		{3, 2, 2}, // a smaller region of the fabric: a copy on each node
		{3, 1, 0}, // a region of one node: its one copy
		{1, 5, 1},
	}
	for _, c := range cases {
		if got := regionReplicas(c.factor, c.size); got != c.want {
			t.Errorf("regionReplicas(%d, %d) = %d, want %d", c.factor, c.size, got, c.want)
		}
	}
}
