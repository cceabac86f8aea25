package e2e

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/server"
)

var (
	benchFsync  = flag.String("bench-fsync", "always", "fsync policy of the benchmarks' nodes")
	benchWindow = flag.Int("bench-window", 256, "messages each of the 4 producers keeps in flight (throughput benchmarks)")
	latencyRate = flag.Int("latency-rate", 200, "BenchmarkPublishToDeliverLatency: messages per second")
	catchupMsgs = flag.Int("catchup-msgs", 20000, "BenchmarkCatchUp: messages published during the partition")
)

// publishPipelined publishes n messages of payloadBytes from producers
// goroutines, each keeping window messages in flight in batches of batch,
// and returns when all are acknowledged.
func publishPipelined(b testing.TB, node *broker.Node, stream string, producers, n, window, batch, payloadBytes int) {
	b.Helper()
	s, err := node.StreamForUse(streamName(stream), nil)
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, payloadBytes)
	var wg sync.WaitGroup
	per := n / producers
	for i := range producers {
		p, err := s.AttachProducer(fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i), -1)
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer p.Close()
			slots := make(chan struct{}, window/batch)
			var inflight sync.WaitGroup
			for sent := 0; sent < per; sent += batch {
				slots <- struct{}{}
				msgs := make([]broker.Message, min(batch, per-sent))
				for j := range msgs {
					msgs[j] = broker.Message{Payload: payload, SequenceID: -1}
				}
				inflight.Add(1)
				p.PublishAsync(msgs, func(rs []broker.PublishResult) {
					for _, r := range rs {
						if r.Err != nil {
							b.Error(r.Err)
						}
					}
					<-slots
					inflight.Done()
				})
			}
			inflight.Wait()
		}()
	}
	wg.Wait()
}

func benchNode(b *testing.B, cfg broker.Config) *server.Server {
	srv, err := server.Start(cfg, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv
}

// BenchmarkPublishSingleRegion is the baseline: publish throughput of one
// node without replication (fsync always, 4 producers, 256 in flight each).
func BenchmarkPublishSingleRegion(b *testing.B) {
	srv := benchNode(b, broker.Config{Region: "solo", DataDir: b.TempDir(), HTTPAddr: "127.0.0.1:0", Fsync: *benchFsync})
	b.ResetTimer()
	start := time.Now()
	publishPipelined(b, srv.Node, "bench", 4, b.N, *benchWindow, 16, 256)
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkReplicationThroughput publishes in region a of a two-region
// fabric on loopback (no emulated latency) and stops when region b has
// applied everything: the replication throughput, to compare with
// BenchmarkPublishSingleRegion.
func BenchmarkReplicationThroughput(b *testing.B) {
	f := newFabric(b, []string{"a", "b"}, func(c *broker.Config) { c.Fsync = *benchFsync })
	b.ResetTimer()
	start := time.Now()
	publishPipelined(b, f.node("a"), "bench", 4, b.N, *benchWindow, 16, 256)
	acked := time.Since(start)
	f.waitCount("bench", b.N-b.N%4, "b")
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	b.ReportMetric(float64(b.N)/acked.Seconds(), "acked-msgs/s")
}

// BenchmarkPublishToDeliverLatency measures, with 40ms emulated one-way
// latency (5ms jitter) between two regions, the time from a publish's
// acknowledgement in region a to its appearance in region b's stream
// under a steady load of -latency-rate messages per second.
func BenchmarkPublishToDeliverLatency(b *testing.B) {
	f := newFabric(b, []string{"a", "b"}, func(c *broker.Config) {
		c.WAN = broker.WANConfig{Latency: 40 * time.Millisecond, Jitter: 5 * time.Millisecond}
		c.Fsync = *benchFsync
	})
	s, err := f.node("a").StreamForUse(streamName("lat"), nil)
	if err != nil {
		b.Fatal(err)
	}
	p, err := s.AttachProducer("lat", -1)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	sb, err := f.node("b").StreamForUse(streamName("lat"), nil)
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	ackedAt := map[string]time.Time{}
	seenAt := map[string]time.Time{}
	done := make(chan struct{})
	src := sb.Source()
	next := src.EndOffset()
	go func() { // b's side: note when each message appears
		defer close(done)
		for seen := 0; seen < b.N; {
			ch := src.Changed()
			recs, err := src.Read(next, 4096, 16<<20)
			if err != nil {
				b.Error(err)
				return
			}
			now := time.Now()
			for _, r := range recs {
				mu.Lock()
				seenAt[string(r.Payload)] = now
				mu.Unlock()
				next = r.Offset + 1
				seen++
			}
			if len(recs) == 0 {
				select {
				case <-ch:
				case <-time.After(waitTimeout):
					b.Errorf("b saw %d of %d messages", seen, b.N)
					return
				}
			}
		}
	}()
	interval := time.Second / time.Duration(*latencyRate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		key := strconv.Itoa(i)
		p.PublishAsync([]broker.Message{{Payload: []byte(key), SequenceID: -1}}, func(rs []broker.PublishResult) {
			mu.Lock()
			ackedAt[key] = time.Now()
			mu.Unlock()
		})
	}
	<-done
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	var lat []time.Duration
	for k, at := range seenAt {
		if a, ok := ackedAt[k]; ok {
			lat = append(lat, max(0, at.Sub(a)))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) == 0 {
		return
	}
	q := func(x float64) float64 { return float64(lat[int(x*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
}

// BenchmarkCatchUp cuts the link between two regions, publishes
// -catchup-msgs messages in a, heals the link and measures how fast b
// catches up (messages per second from the heal to b holding them all).
// b.N is ignored beyond running once.
func BenchmarkCatchUp(b *testing.B) {
	n := *catchupMsgs
	for range b.N {
		f := newFabric(b, []string{"a", "b"}, func(c *broker.Config) { c.Fsync = *benchFsync })
		f.Cut("a", "b", true)
		start := time.Now()
		publishPipelined(b, f.node("a"), "backlog", 4, n, 1024, 64, 256)
		b.Logf("published %d messages during the partition in %s", n, time.Since(start))
		b.ResetTimer()
		healed := time.Now()
		f.Cut("a", "b", false)
		f.waitCount("backlog", n-n%4, "b")
		took := time.Since(healed)
		b.ReportMetric(float64(n-n%4)/took.Seconds(), "msgs/s")
		b.ReportMetric(took.Seconds(), "converge-s")
	}
}
