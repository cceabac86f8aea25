package spot

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	sm "github.com/lni/dragonboat/v4/statemachine"
)

// latencies collects request durations and reports p50 and p99 in ms.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	at := func(q float64) float64 {
		return float64(l[min(len(l)-1, int(q*float64(len(l))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// benchFabric is a home region with 3 replicas and a forwarding region
// behind a link of the given one-way delay.
func benchFabric(b *testing.B, delay time.Duration) (*fabric, context.Context) {
	f := startFabric(b, 3, delay, func(c *Config) {
		c.RTTMillisecond, c.ElectionRTT, c.HeartbeatRTT = 10, 20, 2
		c.SnapshotEntries, c.CompactionOverhead = 10000, 5000
	})
	ctx := context.Background()
	if _, err := f.home.svc.CreateCollection(ctx, "_mm", "_system", CollectionSpec{Name: "bench"}); err != nil {
		b.Fatal(err)
	}
	return f, ctx
}

func benchRegion(f *fabric, region string) *httpClient {
	if region == "home" {
		return newHTTPClient(f.home.url())
	}
	return newHTTPClient(f.away.url())
}

// BenchmarkWrite: one-document writes over HTTP, one at a time, from the
// home region and from a region 40 ms (one way) away.
func BenchmarkWrite(b *testing.B) {
	for _, region := range []string{"home", "forwarded-40ms"} {
		b.Run(region, func(b *testing.B) {
			f, ctx := benchFabric(b, 40*time.Millisecond)
			c := benchRegion(f, region)
			if status, _, err := c.txn(ctx, `{"operations":[{"op":"put","collection":"bench","key":"warm","doc":{}}]}`); err != nil || status != http.StatusOK {
				b.Fatalf("first write: %d %v", status, err)
			}
			lat := make(latencies, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				status, a, err := c.txn(ctx, fmt.Sprintf(`{"operations":[{"op":"put","collection":"bench","key":"k%d","doc":{"n":%d}}]}`, i%1000, i))
				if err != nil || status != http.StatusOK {
					b.Fatalf("write: %d %s %v", status, a.ErrorMessage, err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			lat.report(b)
		})
	}
}

// BenchmarkRead: linearizable one-document reads over HTTP.
func BenchmarkRead(b *testing.B) {
	for _, region := range []string{"home", "forwarded-40ms"} {
		b.Run(region, func(b *testing.B) {
			f, ctx := benchFabric(b, 40*time.Millisecond)
			c := benchRegion(f, region)
			for i := 0; i < 100; i++ {
				if status, _, err := newHTTPClient(f.home.url()).txn(ctx, fmt.Sprintf(`{"operations":[{"op":"put","collection":"bench","key":"k%d","doc":{"n":%d}}]}`, i, i)); err != nil || status != http.StatusOK {
					b.Fatal(status, err)
				}
			}
			warm := func(i int) (int, error) {
				var doc map[string]any
				return c.do(ctx, http.MethodGet, fmt.Sprintf("/_fabric/_system/_api/document/bench/k%d", i%100), "", &doc)
			}
			if status, err := warm(0); err != nil || status != http.StatusOK { // the forwarding region learns the home
				b.Fatalf("first read: %d %v", status, err)
			}
			lat := make(latencies, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				var doc map[string]any
				status, err := c.do(ctx, http.MethodGet, fmt.Sprintf("/_fabric/_system/_api/document/bench/k%d", i%100), "", &doc)
				if err != nil || status != http.StatusOK {
					b.Fatalf("read: %d %v", status, err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			lat.report(b)
		})
	}
}

// BenchmarkTransfer: two-document transfer transactions ($inc on both,
// both must exist) over HTTP from 16 concurrent clients in the home
// region, between 1000 accounts.
func BenchmarkTransfer(b *testing.B) {
	f, ctx := benchFabric(b, 0)
	c := newHTTPClient(f.home.url())
	const accounts = 1000
	for i := 0; i < accounts; i += 100 {
		t := &Txn{}
		for j := i; j < i+100; j++ {
			t.Ops = append(t.Ops, put("bench", fmt.Sprintf("a%d", j), `{"balance":1000}`))
		}
		if _, err := f.home.svc.Transaction(ctx, "_mm", "_system", t, TxnOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	var seq atomic.Uint64
	b.SetParallelism(8) // 8 x GOMAXPROCS clients
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(seq.Add(1), 7))
		for pb.Next() {
			from, to := rng.IntN(accounts), rng.IntN(accounts)
			if from == to {
				to = (to + 1) % accounts
			}
			body := fmt.Sprintf(`{"preconditions":[{"collection":"bench","key":"a%d","exists":true},{"collection":"bench","key":"a%d","exists":true}],`+
				`"operations":[{"op":"update","collection":"bench","key":"a%d","doc":{"balance":{"$inc":-1}}},{"op":"update","collection":"bench","key":"a%d","doc":{"balance":{"$inc":1}}}]}`,
				from, to, from, to)
			if status, a, err := c.txn(ctx, body); err != nil || status != http.StatusOK {
				b.Fatalf("transfer: %d %s %v", status, a.ErrorMessage, err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "txn/s")
}

// BenchmarkStateMachineUpdate: the state machine alone (no Raft, no
// network): one-document put entries applied in batches of 64, as
// dragonboat hands them over. Compare with dragonboat's published
// single-shard ceiling (1.25 M writes/s on 22-core servers).
func BenchmarkStateMachineUpdate(b *testing.B) {
	m := newStateMachine(b.TempDir(), "us", nopLogger(), nil)
	if _, err := m.Open(nil); err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	first, _ := encodeCommand(createCmd("c"))
	if _, err := m.Update([]sm.Entry{{Index: 1, Cmd: first}}); err != nil {
		b.Fatal(err)
	}
	const batch = 64
	cmds := make([][]byte, 1000)
	for i := range cmds {
		cmds[i], _ = encodeCommand(txnCmd(fmt.Sprintf("r%d", i), put("c", fmt.Sprintf("k%d", i), fmt.Sprintf(`{"n":%d,"s":"some payload"}`, i))))
	}
	index := uint64(1)
	entries := make([]sm.Entry, batch)
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		n := min(batch, b.N-done)
		for j := 0; j < n; j++ {
			index++
			entries[j] = sm.Entry{Index: index, Cmd: cmds[int(index)%len(cmds)]}
		}
		if _, err := m.Update(entries[:n]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkProposeParallel: one-document writes through the Go API from
// 64 concurrent callers in the home region (Raft batches them).
func BenchmarkProposeParallel(b *testing.B) {
	f, ctx := benchFabric(b, 0)
	var seq atomic.Uint64
	b.SetParallelism(32)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			if _, err := f.home.svc.Transaction(ctx, "_mm", "_system", &Txn{Ops: []Op{put("bench", fmt.Sprintf("k%d", i%1000), `{"n":1}`)}}, TxnOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
}
