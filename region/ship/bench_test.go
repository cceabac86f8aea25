package ship

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/region"
)

// BenchmarkShip measures publishing 1 KiB records, pipelined (4096 in
// flight in batches of 16) and acknowledged at the unit's durability, with R = 1 (the leader alone)
// and R = 3 (two followers fetching over loopback HTTP, every replica
// fsyncing on this machine's one disk). CPU per record is reported for
// all replicas together.
//
//	go test -run '^$' -bench Ship -benchtime 20000x ./region/ship/
func BenchmarkShip(b *testing.B) {
	for _, r := range []int{1, 3} {
		b.Run(map[int]string{1: "R=1", 3: "R=3"}[r], func(b *testing.B) { benchShip(b, r) })
	}
}

func benchShip(b *testing.B, factor int) {
	var fetches, entries, served atomic.Int64
	leader := openTestReplica(b, 1, b.TempDir())
	leader.cfg.Leader = region.LeaderConfig{MaxFetchEntries: maxFetchEntries} // the production default, not the tests' 64
	u := &region.Unit{ID: "stream:t/f/s", Factor: factor, Leader: 1, Epoch: 1}
	for i := 1; i <= factor; i++ {
		u.Replicas = append(u.Replicas, region.NodeID(i))
		u.InSync = append(u.InSync, member(region.NodeID(i)))
	}
	if err := leader.lead(u, 1); err != nil {
		b.Fatal(err)
	}
	if factor > 1 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: fetchHandler("s3cret", func(ctx context.Context, req Request) (Response, error) {
			t0 := time.Now()
			resp, err := leader.fetch(ctx, req)
			fetches.Add(1)
			entries.Add(int64(len(resp.Entries)))
			served.Add(int64(time.Since(t0)))
			return resp, err
		})}
		go srv.Serve(ln)
		b.Cleanup(func() { srv.Close() })
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
		fetch := func(ctx context.Context, addr string, req Request) (Response, error) {
			return sendFetch(ctx, client, "s3cret", addr, req)
		}
		for i := 2; i <= factor; i++ {
			f := openTestReplica(b, region.NodeID(i), b.TempDir())
			f.follow(1, ln.Addr().String(), 1, fetch)
		}
	}
	payload := make([]byte, 1024)
	// Producers pipeline: up to inFlight records published and not yet
	// acknowledged, in batches of 16 (as a client's batch frame would).
	const inFlight, batch = 4096, 16
	sem := make(chan struct{}, inFlight/batch)
	var wg sync.WaitGroup
	cpu := startCPU()
	start := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		recs := make([]segment.Record, min(batch, b.N-i))
		for j := range recs {
			recs[j] = segment.Record{PublishTime: int64(i + j), Producer: "p", SequenceID: int64(i + j), Payload: payload}
		}
		sem <- struct{}{}
		wg.Add(1)
		leader.AppendAsync(recs, func(_ uint64, err error) {
			if err != nil {
				b.Error(err)
			}
			<-sem
			wg.Done()
		})
	}
	wg.Wait()
	b.StopTimer()
	n := b.N
	elapsed := time.Since(start)
	b.ReportMetric(float64(n)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(cpu().Microseconds())/float64(n), "cpu-µs/record")
	if f := fetches.Load(); f > 0 {
		b.Logf("%d fetches, %.1f entries each, %.2f ms in the leader each", f, float64(entries.Load())/float64(f), float64(served.Load())/float64(f)/1e6)
	}
}

// startCPU returns a function giving the process CPU time (user+system)
// used since the call.
func startCPU() func() time.Duration {
	before := processCPU()
	return func() time.Duration { return processCPU() - before }
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
