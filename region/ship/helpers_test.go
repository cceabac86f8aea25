package ship

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/region"
)

const waitFor = 30 * time.Second

func member(n region.NodeID) region.Member {
	return region.Member{Node: n, Incarnation: 100 + uint64(n)}
}

func testConfig(t testing.TB, root string) Config {
	return Config{
		FS:             vfs.OS(),
		Dir:            func(id region.UnitID) string { return filepath.Join(root, "units", fmt.Sprintf("%x", string(id))) },
		Secret:         "s3cret",
		Leader:         region.LeaderConfig{MaxFetchEntries: 64, MaxLag: time.Second},
		MaxWait:        200 * time.Millisecond,
		RetryInterval:  20 * time.Millisecond,
		InSyncInterval: 50 * time.Millisecond,
		Logger:         zaptest.NewLogger(t),
	}.WithDefaults()
}

// openTestReplica opens node's replica of unit in its own directory.
func openTestReplica(t testing.TB, node region.NodeID, dir string) *Replica {
	t.Helper()
	cfg := testConfig(t, dir)
	start := time.Now()
	r, err := openReplica("stream:t/f/s", member(node), cfg.Dir("stream:t/f/s"), cfg, func() time.Duration { return time.Since(start) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// wireFetch sends fetches to leader through the codec (no network).
func wireFetch(leader *Replica) fetchFunc {
	return func(ctx context.Context, _ string, req Request) (Response, error) {
		dreq, err := DecodeRequest(EncodeRequest(req))
		if err != nil {
			return Response{}, err
		}
		resp, err := leader.fetch(ctx, dreq)
		if err != nil {
			return Response{}, err
		}
		return DecodeResponse(EncodeResponse(resp))
	}
}

func rec(producer string, seq int) segment.Record {
	return segment.Record{PublishTime: 1_700_000_000_000 + int64(seq), Producer: producer, SequenceID: int64(seq), Payload: fmt.Appendf(nil, "%s-%d", producer, seq)}
}

// readAll reads a replica's whole log.
func readAll(t *testing.T, r *Replica) []segment.Record {
	t.Helper()
	seg := r.Log()
	var out []segment.Record
	for off := seg.StartOffset(); off < seg.EndOffset(); {
		recs, err := seg.Read(off, 1000, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		for _, rc := range recs {
			rc.Payload = slices.Clone(rc.Payload)
			out = append(out, rc)
		}
		off = recs[len(recs)-1].Offset + 1
	}
	return out
}

func payloads(recs []segment.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Payload)
	}
	return out
}

// eventually waits (bounded) for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// publish appends count records per producer from producers goroutines and
// returns what was acknowledged, per producer in order.
func publish(t *testing.T, leader *Replica, producers, count int) map[string][]int {
	t.Helper()
	var mu sync.Mutex
	acked := map[string][]int{}
	var wg sync.WaitGroup
	for p := range producers {
		name := fmt.Sprintf("p%d", p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range count {
				if _, err := leader.Append([]segment.Record{rec(name, i)}); err != nil {
					t.Errorf("append %s-%d: %v", name, i, err)
					return
				}
				mu.Lock()
				acked[name] = append(acked[name], i)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return acked
}
