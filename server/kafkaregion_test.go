package server_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/server/regionapi"
)

// kafkaRegion is a region of three nodes, each with its Kafka listener.
func kafkaRegion(t *testing.T) *regionCluster {
	t.Helper()
	c := newRegionCluster(t, 3)
	for i, addr := range c.freeAddrs(t, len(c.nodes)) {
		c.nodes[i].cfg.KafkaAddr = addr
	}
	c.startAll(t)
	c.awaitViews(t, "three active nodes", c.nodes, func(vs []regionapi.View) bool { return allActive(vs[0], 3) && sameView(vs) })
	return c
}

// kafkaClient is a franz-go client of the region, logged in with the
// region's admin key, given every node as a bootstrap address.
func (c *regionCluster) kafkaClient(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	var seeds []string
	for _, n := range c.nodes {
		seeds = append(seeds, n.cfg.KafkaAddr)
	}
	base := []kgo.Opt{kgo.SeedBrokers(seeds...), kgo.SASL(plain.Auth{User: "test", Pass: c.key}.AsMechanism()),
		kgo.MetadataMinAge(50 * time.Millisecond), kgo.MetadataMaxAge(time.Second),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond })}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// partitionLeaders asks node id for topic's metadata: the brokers it
// names and each partition's leader.
func partitionLeaders(ctx context.Context, cl *kgo.Client, id int32, topic string) ([]kmsg.MetadataResponseBroker, map[int32]int32, error) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	r, err := cl.Broker(int(id)).Request(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	resp := r.(*kmsg.MetadataResponse)
	leaders := map[int32]int32{}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return nil, nil, err
		}
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return nil, nil, fmt.Errorf("partition %d: %w", p.Partition, err)
			}
			leaders[p.Partition] = p.Leader
		}
	}
	return resp.Brokers, leaders, nil
}

// TestRegionKafkaConsumerGroupThroughFailover: in a region of three nodes
// the Kafka listeners name every node as a broker and each partition's
// real leader (the partitions of a 3-partition topic are led by different
// nodes), and a node answers ListOffsets and Fetch of a partition it does
// not lead with NOT_LEADER_OR_FOLLOWER, and group requests for a group it
// does not coordinate with NOT_COORDINATOR. A franz-go producer given the
// three nodes publishes to every partition while a consumer group of two
// members consumes; then the node that coordinates the group, and leads a
// partition, is stopped. The partition moves, the group moves to another
// coordinator with its committed offsets, producing and consuming go on,
// and every acknowledged record is consumed (duplicates are counted: at
// least once).
func TestRegionKafkaConsumerGroupThroughFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a region of three nodes")
	}
	c := kafkaRegion(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*regionWait)
	defer cancel()
	const topic, group, partitions = "orders", "billing", 3

	admin := c.kafkaClient(t)
	for attempt := 1; ; attempt++ {
		r, err := kadm.NewClient(admin).CreateTopic(ctx, partitions, -1, nil, topic)
		if err == nil || attempt > 1 && errors.Is(err, kerr.TopicAlreadyExists) {
			break
		}
		// A retriable error (the region's metadata group electing a
		// leader just after it formed, say) is retried, as clients do.
		if !kerr.IsRetriable(err) || attempt == 10 {
			t.Fatalf("create topic: %v (%s)", err, r.ErrMessage)
		}
		t.Logf("create topic, attempt %d: %v (%s)", attempt, err, r.ErrMessage)
		time.Sleep(200 * time.Millisecond)
	}
	// Every node names the three brokers and the same leaders, the ones
	// the region says.
	streamOf := func(p int) naming.Stream {
		return naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric, Name: broker.PartitionStreamName(topic, p)}
	}
	var leaders map[int32]int32
	deadline := time.Now().Add(regionWait)
	for {
		ok := true
		var why string
		for i := range c.nodes {
			brokers, got, err := partitionLeaders(ctx, admin, int32(i+1), topic)
			if err != nil || len(got) != partitions {
				ok, why = false, fmt.Sprintf("node %d: %v %v", i+1, got, err)
				break
			}
			if len(brokers) != len(c.nodes) {
				t.Fatalf("node %d names brokers %+v", i+1, brokers)
			}
			for _, b := range brokers {
				if want := c.nodes[b.NodeID-1].cfg.KafkaAddr; fmt.Sprintf("%s:%d", b.Host, b.Port) != want {
					t.Fatalf("broker %d at %s:%d, want %s", b.NodeID, b.Host, b.Port, want)
				}
			}
			for p := range partitions {
				l := c.streamLeader(streamOf(p))
				if l == nil || got[int32(p)] != int32(l.opts.Region.Meta.Node) {
					ok, why = false, fmt.Sprintf("node %d says partition %d is led by %d; the region: %v", i+1, p, got[int32(p)], l)
				}
			}
			if leaders != nil && !maps.Equal(leaders, got) {
				ok, why = false, "nodes disagree"
			}
			leaders = got
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metadata never named the region's leaders: %s", why)
		}
		leaders = nil
		time.Sleep(50 * time.Millisecond)
	}
	distinct := map[int32]bool{}
	for _, l := range leaders {
		distinct[l] = true
	}
	t.Logf("partition leaders %v (%d distinct nodes)", leaders, len(distinct))
	if len(distinct) < 2 {
		t.Fatalf("the partitions are all led by one node: %v", leaders)
	}

	// A node that does not lead a partition refuses to serve it.
	for p, l := range leaders {
		other := l%3 + 1
		lo := kmsg.NewPtrListOffsetsRequest()
		lo.ReplicaID = -1
		lt := kmsg.NewListOffsetsRequestTopic()
		lt.Topic = topic
		lp := kmsg.NewListOffsetsRequestTopicPartition()
		lp.Partition, lp.Timestamp = p, -1
		lt.Partitions = append(lt.Partitions, lp)
		lo.Topics = append(lo.Topics, lt)
		r, err := admin.Broker(int(other)).Request(ctx, lo)
		if err != nil {
			t.Fatal(err)
		}
		if code := r.(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0].ErrorCode; code != kerr.NotLeaderForPartition.Code {
			t.Fatalf("ListOffsets of partition %d (led by %d) on node %d: code %d", p, l, other, code)
		}
		f := kmsg.NewPtrFetchRequest()
		f.ReplicaID, f.MaxWaitMillis = -1, 10
		ft := kmsg.NewFetchRequestTopic()
		ft.Topic = topic
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.Partition, fp.PartitionMaxBytes = p, 1<<20
		ft.Partitions = append(ft.Partitions, fp)
		f.Topics = append(f.Topics, ft)
		r, err = admin.Broker(int(other)).Request(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if code := r.(*kmsg.FetchResponse).Topics[0].Partitions[0].ErrorCode; code != kerr.NotLeaderForPartition.Code {
			t.Fatalf("Fetch of partition %d (led by %d) on node %d: code %d", p, l, other, code)
		}
		pr := kmsg.NewPtrProduceRequest()
		pr.Acks, pr.TimeoutMillis = -1, 5000
		pt := kmsg.NewProduceRequestTopic()
		pt.Topic = topic
		pp := kmsg.NewProduceRequestTopicPartition()
		pp.Partition = p // refused before its (empty) records are read
		pt.Partitions = append(pt.Partitions, pp)
		pr.Topics = append(pr.Topics, pt)
		r, err = admin.Broker(int(other)).Request(ctx, pr)
		if err != nil {
			t.Fatal(err)
		}
		if code := r.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode; code != kerr.NotLeaderForPartition.Code {
			t.Fatalf("Produce to partition %d (led by %d) on node %d: code %d", p, l, other, code)
		}
	}

	// The group's coordinator.
	coordinator := func() (int32, error) {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorKey = group
		r, err := admin.Request(ctx, req)
		if err != nil {
			return -1, err
		}
		resp := r.(*kmsg.FindCoordinatorResponse)
		return resp.NodeID, kerr.ErrorForCode(resp.ErrorCode)
	}
	coord, err := coordinator()
	if err != nil {
		t.Fatal(err)
	}
	// The other nodes refuse the group's requests.
	for id := int32(1); id <= 3; id++ {
		if id == coord {
			continue
		}
		hb := kmsg.NewPtrHeartbeatRequest()
		hb.Group, hb.MemberID, hb.Generation = group, "m", 1
		r, err := admin.Broker(int(id)).Request(ctx, hb)
		if err != nil {
			t.Fatal(err)
		}
		of := kmsg.NewPtrOffsetFetchRequest()
		of.Group = group
		r2, err := admin.Broker(int(id)).Request(ctx, of)
		if err != nil {
			t.Fatal(err)
		}
		if hc, oc := r.(*kmsg.HeartbeatResponse).ErrorCode, r2.(*kmsg.OffsetFetchResponse).ErrorCode; hc != kerr.NotCoordinator.Code || oc != kerr.NotCoordinator.Code {
			t.Fatalf("node %d (group coordinated by %d): Heartbeat %d, OffsetFetch %d", id, coord, hc, oc)
		}
	}

	// Produce to every partition, all the time.
	prod := c.kafkaClient(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0))
	var (
		mu       sync.Mutex
		acked    = map[string]bool{}
		ackedAt  []partitionAck
		failures []string
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		sem := make(chan struct{}, 32)
		var inner sync.WaitGroup
		for i := 0; !stop.Load(); i++ {
			sem <- struct{}{}
			inner.Add(1)
			value := fmt.Sprintf("m-%d", i)
			prod.Produce(ctx, &kgo.Record{Topic: topic, Partition: int32(i % partitions), Value: []byte(value)}, func(r *kgo.Record, err error) {
				defer inner.Done()
				defer func() { <-sem }()
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failures = append(failures, fmt.Sprintf("%s: %v", value, err))
					return
				}
				acked[value] = true
				ackedAt = append(ackedAt, partitionAck{r.Partition, time.Now()})
			})
			time.Sleep(2 * time.Millisecond)
		}
		inner.Wait()
	}()
	ackedCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}

	// Two members of one group consume.
	var (
		cmu      sync.Mutex
		consumed = map[string]int{}
		// redelivered counts the records delivered again, by when.
		redeliveredBeforeStop, redeliveredAfterStop int
		stopAt                                      atomic.Pointer[time.Time]
		// afterStop are the partitions and offsets delivered after it.
		afterStop []delivery
	)
	consumedCount := func() (distinct, total int) {
		cmu.Lock()
		defer cmu.Unlock()
		for _, n := range consumed {
			total += n
		}
		return len(consumed), total
	}
	cctx, ccancel := context.WithCancel(ctx)
	defer ccancel()
	var cwg sync.WaitGroup
	var members []*kgo.Client
	for m := range 2 {
		cons := c.kafkaClient(t, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.AutoCommitInterval(200*time.Millisecond), kgo.SessionTimeout(4*time.Second), kgo.HeartbeatInterval(300*time.Millisecond),
			kgo.ClientID(fmt.Sprintf("member-%d", m)))
		members = append(members, cons)
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			for cctx.Err() == nil {
				fs := cons.PollFetches(cctx)
				fs.EachRecord(func(r *kgo.Record) {
					cmu.Lock()
					consumed[string(r.Value)]++
					if consumed[string(r.Value)] > 1 {
						if stopAt.Load() == nil {
							redeliveredBeforeStop++
						} else {
							redeliveredAfterStop++
						}
					}
					if stopAt.Load() != nil {
						afterStop = append(afterStop, delivery{r.Partition, r.Offset})
					}
					cmu.Unlock()
				})
			}
		}()
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(regionWait)
		for !cond() {
			if time.Now().After(deadline) {
				d, tot := consumedCount()
				t.Fatalf("timed out waiting for %s (acknowledged %d, consumed %d distinct of %d)", what, ackedCount(), d, tot)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("records acknowledged and consumed", func() bool {
		d, _ := consumedCount()
		return ackedCount() >= 300 && d >= 200
	})

	// Offsets committed before the stop.
	committedBefore, err := kadm.NewClient(admin).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	if err := committedBefore.Error(); err != nil {
		t.Fatal(err)
	}

	// Stop the node coordinating the group, or if it leads no partition,
	// one that does.
	victim := coord
	if !slices.Contains(slices.Collect(maps.Values(leaders)), coord) {
		victim = leaders[0]
	}
	var moved []int32
	for p, l := range leaders {
		if l == victim {
			moved = append(moved, p)
		}
	}
	t.Logf("group coordinator: node %d; stopping node %d (leads partitions %v)", coord, victim, moved)
	before := ackedCount()
	stoppedAt := time.Now()
	stopAt.Store(&stoppedAt)
	c.nodes[victim-1].stop()
	stopped := time.Now() // its shutdown answered what it had in flight
	t.Logf("node %d stopped in %v", victim, stopped.Sub(stoppedAt).Round(time.Millisecond))

	// The moved partitions get new leaders; producing continues on them.
	waitFor("new leaders named for the moved partitions", func() bool {
		for _, n := range c.nodes {
			if n.srv == nil {
				continue
			}
			_, got, err := partitionLeaders(ctx, admin, int32(n.opts.Region.Meta.Node), topic)
			if err != nil {
				return false
			}
			for _, p := range moved {
				if got[p] == victim || got[p] <= 0 {
					return false
				}
			}
		}
		return true
	})
	t.Logf("the moved partitions are led elsewhere %v after the stop", time.Since(stoppedAt).Round(time.Millisecond))
	waitFor("producing after the failover", func() bool { return ackedCount() >= before+300 })
	mu.Lock()
	var firstAfter time.Time // on a moved partition
	for _, a := range ackedAt {
		if a.at.After(stopped) && slices.Contains(moved, a.partition) {
			firstAfter = a.at
			break
		}
	}
	mu.Unlock()
	newCoord, err := coordinator()
	if err != nil {
		t.Fatal(err)
	}
	if victim == coord && newCoord == coord {
		t.Fatalf("the group is still coordinated by the stopped node %d", coord)
	}

	// Committed offsets survived the stop: the new coordinator has them
	// (at least as far as before).
	// The admin client may still name the stopped coordinator: a refused
	// dial is retried after a metadata refresh, as a client does.
	var committedAfter kadm.OffsetResponses
	for attempt := 1; ; attempt++ {
		committedAfter, err = kadm.NewClient(admin).FetchOffsets(ctx, group)
		if err == nil {
			break
		}
		if attempt == 20 {
			t.Fatal(err)
		}
		t.Logf("fetch offsets, attempt %d: %v", attempt, err)
		admin.ForceMetadataRefresh()
		time.Sleep(100 * time.Millisecond) // the client learns the new coordinator
	}
	committedBefore.Each(func(o kadm.OffsetResponse) {
		after, ok := committedAfter.Lookup(o.Topic, o.Partition)
		if !ok || after.Err != nil || after.At < o.At {
			t.Fatalf("partition %d: committed %d before the stop, %+v after", o.Partition, o.At, after)
		}
	})
	t.Logf("committed before the stop: %v", committedBefore.KOffsets())

	stop.Store(true)
	wg.Wait()
	mu.Lock()
	total := len(acked)
	want := make([]string, 0, total)
	for v := range acked {
		want = append(want, v)
	}
	fails := slices.Clone(failures)
	mu.Unlock()
	if len(fails) > 0 {
		t.Logf("%d produce calls failed (not acknowledged, so not expected), first: %s", len(fails), fails[0])
	}
	waitFor("every acknowledged record consumed", func() bool {
		cmu.Lock()
		defer cmu.Unlock()
		for _, v := range want {
			if consumed[v] == 0 {
				return false
			}
		}
		return true
	})
	ccancel()
	cwg.Wait()
	// The members leave: the group, Empty with its committed offsets, is
	// listed by its coordinator only.
	for _, m := range members {
		m.Close()
	}
	for _, n := range c.nodes {
		if n.srv == nil {
			continue
		}
		id := int(n.opts.Region.Meta.Node)
		r, err := admin.Broker(id).Request(ctx, kmsg.NewPtrListGroupsRequest())
		if err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, g := range r.(*kmsg.ListGroupsResponse).Groups {
			listed = append(listed, g.Group+"="+g.GroupState)
		}
		if want := []string{group + "=Empty"}; int32(id) == newCoord && !slices.Equal(listed, want) || int32(id) != newCoord && len(listed) > 0 {
			t.Fatalf("node %d (the group's coordinator is %d) lists %v", id, newCoord, listed)
		}
	}
	// Nothing the group had committed before the stop is delivered again
	// after it (the committed offsets survived; no member reset to the
	// start of a partition).
	cmu.Lock()
	for _, d := range afterStop {
		if o, ok := committedBefore.Lookup(topic, d.partition); ok && d.offset < o.At {
			t.Errorf("partition %d: offset %d delivered again after the stop, below the offset %d committed before it", d.partition, d.offset, o.At)
		}
	}
	cmu.Unlock()
	distinctN, totalN := consumedCount()
	var dupKeys []string
	cmu.Lock()
	for v, n := range consumed {
		if n > 1 {
			dupKeys = append(dupKeys, v)
		}
	}
	cmu.Unlock()
	sort.Strings(dupKeys)
	cmu.Lock()
	dupBefore, dupAfter := redeliveredBeforeStop, redeliveredAfterStop
	cmu.Unlock()
	t.Logf("acknowledged %d records; consumed %d distinct, %d in all (%d records redelivered, %d deliveries again: %d before the stop, %d after); group moved from node %d to %d; first acknowledgement on a moved partition %v after the node stopped",
		total, distinctN, totalN, len(dupKeys), totalN-distinctN, dupBefore, dupAfter, coord, newCoord, firstAfter.Sub(stopped).Round(time.Millisecond))
	if len(dupKeys) > 0 {
		t.Logf("redelivered, e.g.: %s", strings.Join(dupKeys[:min(5, len(dupKeys))], ", "))
	}
}

// partitionAck is when a record of a partition was acknowledged.
type partitionAck struct {
	partition int32
	at        time.Time
}

// delivery is a record's partition and offset.
type delivery struct {
	partition int32
	offset    int64
}

// TestRegionKafkaReplicationFactor: in a region of three nodes a topic's
// replication factor is the copies of each partition in the region
// (Metadata names that many replicas); more copies than nodes is refused
// with INVALID_REPLICATION_FACTOR and creates nothing; -1 takes the
// region's default (three).
func TestRegionKafkaReplicationFactor(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a region of three nodes")
	}
	c := kafkaRegion(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*regionWait)
	defer cancel()
	adm := kadm.NewClient(c.kafkaClient(t))
	create := func(topic string, rf int16) (kadm.CreateTopicResponse, error) {
		for attempt := 1; ; attempt++ {
			r, err := adm.CreateTopic(ctx, 2, rf, nil, topic)
			if err == nil || !kerr.IsRetriable(err) || attempt == 10 {
				return r, err
			}
			time.Sleep(200 * time.Millisecond) // the region's group electing just after it formed
		}
	}
	if r, err := create("too-many", 4); !errors.Is(err, kerr.InvalidReplicationFactor) {
		t.Fatalf("replication factor 4 in a region of three: %v (%s)", err, r.ErrMessage)
	}
	for _, tc := range []struct {
		topic string
		rf    int16
		want  int
	}{{"two-copies", 2, 2}, {"one-copy", 1, 1}, {"default-copies", -1, 3}} {
		r, err := create(tc.topic, tc.rf)
		if err != nil || int(r.ReplicationFactor) != tc.want {
			t.Fatalf("%s: %v, answered factor %d, want %d", tc.topic, err, r.ReplicationFactor, tc.want)
		}
		deadline := time.Now().Add(regionWait)
		for {
			md, err := adm.Metadata(ctx, tc.topic)
			ok := err == nil && len(md.Topics[tc.topic].Partitions) == 2
			if ok {
				for _, p := range md.Topics[tc.topic].Partitions {
					ok = ok && len(p.Replicas) == tc.want && p.Leader > 0
				}
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: metadata never showed %d replicas per partition: %+v %v", tc.topic, tc.want, md.Topics[tc.topic], err)
			}
			time.Sleep(50 * time.Millisecond) // polling the region's metadata with a deadline
		}
	}
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if topics.Has("too-many") {
		t.Fatal("a refused topic was created")
	}
}
