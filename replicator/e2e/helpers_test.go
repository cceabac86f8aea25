package e2e

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/internal/testfabric"
	"github.com/causeway/causeway/replicator/shell"
	"github.com/causeway/causeway/subscription"
)

// waitTimeout bounds every wait on a condition.
const waitTimeout = 60 * time.Second

// secret is the fabric secret of the nodes (peers forged in tests use it).
const secret = testfabric.Secret

// fabric is a set of in-process nodes, one per region, wired full mesh.
type fabric struct {
	*testfabric.Fabric
}

// newFabric starts one node per region, except the regions in skip (their
// configuration is ready for start).
func newFabric(t testing.TB, regions []string, mutate func(*broker.Config), skip ...string) *fabric {
	t.Helper()
	f := &fabric{testfabric.New(t, regions, mutate)}
	f.StartAll(skip...)
	return f
}

func (f *fabric) node(region string) *broker.Node { return f.Server(region).Node }

func streamName(name string) naming.Stream {
	return naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric, Name: name}
}

// publish has producer publish messages start..start+n-1 (payload
// "producer:i") in region, in batches, and fails on any error.
func (f *fabric) publish(region, stream, producer string, start, n int) {
	f.T.Helper()
	if err := publishRange(f.node(region), region, stream, producer, start, n); err != nil {
		f.T.Fatal(err)
	}
}

// producer attaches producer name to stream in region (creating the
// stream), closed when the test ends.
func (f *fabric) producer(region, stream, name string) *broker.Producer {
	f.T.Helper()
	s, err := f.node(region).StreamForUse(streamName(stream), nil)
	if err != nil {
		f.T.Fatal(err)
	}
	p, err := s.AttachProducer(name, -1)
	if err != nil {
		f.T.Fatal(err)
	}
	f.T.Cleanup(p.Close)
	return p
}

// publishRange is fabric.publish without a testing.T (for goroutines): it
// returns the first error.
func publishRange(node *broker.Node, region, stream, producer string, start, n int) error {
	s, err := node.StreamForUse(streamName(stream), nil)
	if err != nil {
		return err
	}
	p, err := s.AttachProducer(producer, -1)
	if err != nil {
		return err
	}
	defer p.Close()
	const batch = 50
	for i := start; i < start+n; i += batch {
		var msgs []broker.Message
		for j := i; j < min(i+batch, start+n); j++ {
			msgs = append(msgs, broker.Message{Payload: []byte(producer + ":" + strconv.Itoa(j)), SequenceID: int64(j),
				Properties: map[string]string{"from": region}})
		}
		for k, r := range p.Publish(msgs) {
			if r.Err != nil || r.Duplicate {
				return fmt.Errorf("%s publish %s:%d: %+v", region, producer, i+k, r)
			}
		}
	}
	return nil
}

// records reads every record of a stream in region (none when missing).
func (f *fabric) records(region, stream string) []segment.Record {
	f.T.Helper()
	return f.recordsOf(region, streamName(stream))
}

// recordsOf reads every record of a stream of any fabric in region.
func (f *fabric) recordsOf(region string, name naming.Stream) []segment.Record {
	f.T.Helper()
	s, err := f.node(region).Stream(name)
	if err != nil {
		return nil
	}
	src := s.Source()
	var out []segment.Record
	for from := src.StartOffset(); from < src.EndOffset(); {
		recs, err := src.Read(from, 4096, 16<<20)
		if err != nil {
			f.T.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		out = append(out, recs...)
		from = recs[len(recs)-1].Offset + 1
	}
	return out
}

// waitCount waits until every region's stream holds n records.
func (f *fabric) waitCount(stream string, n int, regions ...string) {
	f.T.Helper()
	if len(regions) == 0 {
		regions = f.Regions
	}
	for _, r := range regions {
		deadline := time.NewTimer(waitTimeout)
		for {
			var changed <-chan struct{}
			var poll <-chan time.Time
			got := 0
			if s, err := f.node(r).Stream(streamName(stream)); err == nil {
				changed = s.Source().Changed()
				got = int(s.Backlog())
			} else {
				poll = time.After(pollInterval)
			}
			if got > n {
				f.T.Fatalf("%s: stream %s holds %d records, want %d", r, stream, got, n)
			}
			if got == n {
				break
			}
			select {
			case <-changed:
			case <-poll:
			case <-deadline.C:
				f.T.Fatalf("%s: stream %s holds %d records after %s, want %d\n%s", r, stream, got, waitTimeout, n, f.statusDump())
			}
		}
		deadline.Stop()
	}
}

// waitFor waits until cond holds for the records of a stream in region,
// re-checking whenever the stream grows (or every pollInterval while it
// does not exist yet), and fails the test after waitTimeout.
func (f *fabric) waitFor(region, stream string, cond func([]segment.Record) bool) []segment.Record {
	f.T.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		var changed <-chan struct{}
		var poll <-chan time.Time
		if s, err := f.node(region).Stream(streamName(stream)); err == nil {
			changed = s.Source().Changed()
		} else {
			poll = time.After(pollInterval)
		}
		recs := f.records(region, stream)
		if cond(recs) {
			return recs
		}
		select {
		case <-changed:
		case <-poll:
		case <-deadline.C:
			f.T.Fatalf("%s: stream %s: condition not met after %s (%d records)\n%s", region, stream, waitTimeout, len(recs), f.statusDump())
		}
	}
}

// waitStatus waits until cond holds for region's replication status
// (checked every pollInterval, failing after waitTimeout).
func (f *fabric) waitStatus(region string, cond func(shell.Status) bool) {
	f.T.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		st, err := f.Server(region).Repl.Status()
		if err == nil && cond(st) {
			return
		}
		if time.Now().After(deadline) {
			f.T.Fatalf("%s: status condition not met after %s: %+v, %v", region, waitTimeout, st, err)
		}
		time.Sleep(pollInterval) // pacing a condition check with a deadline
	}
}

// pollInterval paces checks for a stream that does not exist yet.
const pollInterval = 20 * time.Millisecond

func (f *fabric) statusDump() string {
	var b strings.Builder
	for _, r := range f.Regions {
		srv := f.Server(r)
		if srv == nil {
			continue
		}
		st, err := srv.Repl.Status()
		fmt.Fprintf(&b, "%s: delivered %v applied %v err %v failed %q shell %+v engine %+v\n", r, st.Delivered, st.Applied, err, st.Failed, st.Shell, st.Engine)
		for _, p := range st.Peers {
			fmt.Fprintf(&b, "  -> %s lag %d/%d adv %v link %+v\n", p.Peer, p.LagOps, p.LagAllOps, p.Advertised, p.Link)
		}
	}
	return b.String()
}

// payloads parses "producer:i" payloads into per-producer sequences.
func payloads(t *testing.T, recs []segment.Record) map[string][]int {
	t.Helper()
	out := map[string][]int{}
	for _, r := range recs {
		p, n, ok := strings.Cut(string(r.Payload), ":")
		i, err := strconv.Atoi(n)
		if !ok || err != nil {
			t.Fatalf("payload %q", r.Payload)
		}
		out[p] = append(out[p], i)
	}
	return out
}

// checkExactlyOnce checks that recs hold, per producer, exactly
// want[producer] = (start, n): every message once, in order.
func checkExactlyOnce(t *testing.T, region string, recs []segment.Record, want map[string][2]int) {
	t.Helper()
	got := payloads(t, recs)
	for p, w := range want {
		seq := got[p]
		if len(seq) != w[1] {
			t.Fatalf("%s: producer %s: %d messages, want %d", region, p, len(seq), w[1])
		}
		for i, v := range seq {
			if v != w[0]+i {
				t.Fatalf("%s: producer %s: message %d is %d, want %d (duplicate, loss or reorder)", region, p, i, v, w[0]+i)
			}
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Fatalf("%s: unexpected producer %s", region, p)
		}
	}
}

// consumeAll attaches a consumer (shared subscription, from the earliest)
// in region and returns every payload once n messages arrived, acking each.
func (f *fabric) consumeAll(region, stream, sub string, n int) []segment.Record {
	f.T.Helper()
	s, err := f.node(region).StreamForUse(streamName(stream), nil)
	if err != nil {
		f.T.Fatal(err)
	}
	c, err := s.Subscribe(broker.SubscribeOptions{Subscription: sub,
		Consumer: subscription.ConsumerSpec{Type: subscription.Shared, Initial: subscription.Earliest}})
	if err != nil {
		f.T.Fatal(err)
	}
	defer c.Close()
	var out []segment.Record
	timeout := time.After(waitTimeout)
	for len(out) < n {
		select {
		case d := <-c.Messages():
			out = append(out, d.Record)
			if err := c.Ack(d.Record.Offset); err != nil {
				f.T.Fatal(err)
			}
			c.AddPermits(1)
		case <-timeout:
			f.T.Fatalf("%s: consumer got %d of %d messages", region, len(out), n)
		}
	}
	slices.SortFunc(out, func(a, b segment.Record) int { return int(a.Offset) - int(b.Offset) })
	return out
}
