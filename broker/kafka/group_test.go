package kafka_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// groupMember is a franz-go group consumer that commits every record it
// processes and remembers what it got.
type groupMember struct {
	name   string
	cl     *kgo.Client
	mu     sync.Mutex
	got    map[int32][]int64 // partition -> offsets processed
	owned  map[int32]bool
	change chan struct{} // shared by the members; signalled on every assignment change and record
	cancel context.CancelFunc
	done   chan struct{}
}

func startMember(t *testing.T, ctx context.Context, addr, group, topic, name string, change chan struct{}) *groupMember {
	t.Helper()
	m := &groupMember{name: name, got: map[int32][]int64{}, owned: map[int32]bool{}, change: change, done: make(chan struct{})}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(), kgo.HeartbeatInterval(100*time.Millisecond), kgo.SessionTimeout(6*time.Second),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond),
		kgo.ClientID(name),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			m.mu.Lock()
			for _, p := range a[topic] {
				m.owned[p] = true
			}
			m.mu.Unlock()
			m.signal()
		}),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, r map[string][]int32) {
			m.mu.Lock()
			for _, p := range r[topic] {
				delete(m.owned, p)
			}
			m.mu.Unlock()
			m.signal()
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, r map[string][]int32) {
			m.mu.Lock()
			for _, p := range r[topic] {
				delete(m.owned, p)
			}
			m.mu.Unlock()
			m.signal()
		}))
	if err != nil {
		t.Fatal(err)
	}
	m.cl = cl
	pctx, cancel := context.WithCancel(ctx)
	m.cancel = cancel
	go func() {
		defer close(m.done)
		for pctx.Err() == nil {
			fs := cl.PollFetches(pctx)
			recs := fs.Records()
			if len(recs) == 0 {
				continue
			}
			if err := cl.CommitRecords(pctx, recs...); err != nil {
				if pctx.Err() == nil {
					t.Errorf("%s: commit: %v", name, err)
				}
				return
			}
			m.mu.Lock()
			for _, r := range recs {
				m.got[r.Partition] = append(m.got[r.Partition], r.Offset)
			}
			m.mu.Unlock()
			m.signal()
		}
	}()
	return m
}

func (m *groupMember) signal() {
	select {
	case m.change <- struct{}{}:
	default:
	}
}

// stop leaves the group (Close sends LeaveGroup).
func (m *groupMember) stop() {
	m.cancel()
	<-m.done
	m.cl.Close()
}

func (m *groupMember) snapshot() (owned []int32, got map[int32][]int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for p := range m.owned {
		owned = append(owned, p)
	}
	got = map[int32][]int64{}
	for p, offs := range m.got {
		got[p] = append([]int64(nil), offs...)
	}
	return owned, got
}

// waitUntil re-checks cond whenever a member signals, up to the deadline.
func waitUntil(t *testing.T, ctx context.Context, what string, cond func() bool, members ...*groupMember) {
	t.Helper()
	// Members signal every change on the channel they share.
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting until %s", what)
		case <-members[0].change:
		}
	}
}

// Two members split the partitions; when one leaves, the other takes over
// its partitions from their committed offsets and nothing is lost.
func TestGroupSplitAndTakeOver(t *testing.T) {
	srv := startNode(t, nil)
	ctx := testCtx(t)
	const topic, group, partitions, perPartition = "groups", "g1", 4, 100
	admCl := kafkaClient(t, srv)
	if _, err := kadm.NewClient(admCl).CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	change := make(chan struct{}, 1)
	a := startMember(t, ctx, srv.KafkaAddr(), group, topic, "a", change)
	defer a.stop()
	b := startMember(t, ctx, srv.KafkaAddr(), group, topic, "b", change)
	stoppedB := false
	defer func() {
		if !stoppedB {
			b.stop()
		}
	}()
	waitUntil(t, ctx, "both members own two partitions", func() bool {
		oa, _ := a.snapshot()
		ob, _ := b.snapshot()
		return len(oa) == 2 && len(ob) == 2
	}, a, b)

	prod := kafkaClient(t, srv, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	produce := func(from, to int) {
		for i := from; i < to; i++ {
			for p := range partitions {
				r := &kgo.Record{Topic: topic, Partition: int32(p), Value: []byte(fmt.Sprintf("p%d-%d", p, i))}
				if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	produce(0, perPartition/2)
	total := func(ms ...*groupMember) map[int32]map[int64]bool {
		out := map[int32]map[int64]bool{}
		for _, m := range ms {
			_, got := m.snapshot()
			for p, offs := range got {
				if out[p] == nil {
					out[p] = map[int64]bool{}
				}
				for _, o := range offs {
					out[p][o] = true
				}
			}
		}
		return out
	}
	complete := func(upTo int) func() bool {
		return func() bool {
			all := total(a, b)
			for p := range int32(partitions) {
				if len(all[p]) < upTo {
					return false
				}
			}
			return true
		}
	}
	waitUntil(t, ctx, "the first half is consumed", complete(perPartition/2), a, b)
	ownedB, gotB := b.snapshot()
	if len(ownedB) != 2 {
		t.Fatalf("b owns %v", ownedB)
	}
	for _, p := range ownedB {
		if len(gotB[p]) != perPartition/2 {
			t.Fatalf("b processed %d records of its partition %d, want %d", len(gotB[p]), p, perPartition/2)
		}
	}
	b.stop()
	stoppedB = true
	waitUntil(t, ctx, "a owns every partition", func() bool { oa, _ := a.snapshot(); return len(oa) == partitions }, a)
	produce(perPartition/2, perPartition)
	waitUntil(t, ctx, "everything is consumed", complete(perPartition), a)

	_, gotA := a.snapshot()
	for _, p := range ownedB {
		// a resumed b's partitions exactly at b's committed offsets.
		if first := gotA[p][0]; first != perPartition/2 {
			t.Fatalf("a started b's partition %d at %d, want %d (b's commit)", p, first, perPartition/2)
		}
	}
	all := total(a, b)
	for p := range int32(partitions) {
		for o := range int64(perPartition) {
			if !all[p][o] {
				t.Fatalf("partition %d offset %d was never consumed", p, o)
			}
		}
	}
}
