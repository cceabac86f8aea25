package cursorstore

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/subscription"
)

// BenchmarkSave saves cursors through a real 3-node region on loopback
// (three NodeHosts in this process, one disk), as subscriptions'
// persisters do: each subscription saves one cursor at a time. It reports
// saves/s over the run and the latency of one Save (p50, p99).
//
//	go test -run '^$' -bench Save -benchtime 3s ./region/cursorstore
func BenchmarkSave(b *testing.B) {
	nodes := startRegion(b, 3, zap.NewNop())
	var leader, follower *testNode
	deadline := time.Now().Add(waitFor)
	for leader == nil {
		for _, n := range nodes {
			if n.g().Leading() {
				leader = n
			}
		}
		if time.Now().After(deadline) {
			b.Fatal("no leader of the group")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, n := range nodes {
		if n != leader {
			follower = n
			break
		}
	}
	small := subscription.CursorState{MarkDelete: 1 << 30, Acked: []subscription.Range{{From: 1<<30 + 2, To: 1<<30 + 5}, {From: 1<<30 + 9, To: 1<<30 + 10}}}
	large := subscription.CursorState{MarkDelete: 1 << 30, Acked: ranges(1<<30, subscription.MaxStoredAckRanges, 1000)}
	for _, bc := range []struct {
		name string
		on   *testNode
		subs int
		st   subscription.CursorState
	}{
		{"follower/1-subscription", follower, 1, small},
		{"follower/16-subscriptions", follower, 16, small},
		{"leader/1-subscription", leader, 1, small},
		{"leader/16-subscriptions", leader, 16, small},
		{"follower/1-subscription-16KiB-cursor", follower, 1, large},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := New(bc.on.g())
			lat := make([][]time.Duration, bc.subs)
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for i := range bc.subs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					key := fmt.Sprintf("cursor/t/f/bench/%s-%d", bc.name, i)
					st := bc.st
					for j := i; j < b.N; j += bc.subs {
						st.MarkDelete = bc.st.MarkDelete - uint64(j%2) // a different cursor each time
						t0 := time.Now()
						if err := s.Save(key, st); err != nil {
							b.Error(err)
							return
						}
						lat[i] = append(lat[i], time.Since(t0))
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			all := slices.Concat(lat...)
			slices.Sort(all)
			if len(all) == 0 {
				return
			}
			b.ReportMetric(float64(len(all))/elapsed.Seconds(), "saves/s")
			b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
