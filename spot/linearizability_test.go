package spot

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// The register model: each key holds a string; read, write and
// compare-and-set. An operation whose outcome the client does not know
// (unavailable, link cut) returns at "infinity" with outcome unknown: the
// checker may place it anywhere after its call, applied or not.
type regInput struct {
	op       string // read, write, cas
	key      string
	val, old string
}

type regOutput struct {
	known bool
	ok    bool   // cas: applied
	val   string // read: the value seen
}

func regModel(broken bool) porcupine.Model {
	m := &porcupine.NondeterministicModel{
		Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
			byKey := map[string][]porcupine.Operation{}
			var keys []string
			for _, op := range h {
				k := op.Input.(regInput).key
				if _, ok := byKey[k]; !ok {
					keys = append(keys, k)
				}
				byKey[k] = append(byKey[k], op)
			}
			out := make([][]porcupine.Operation, len(keys))
			for i, k := range keys {
				out[i] = byKey[k]
			}
			return out
		},
		Init: func() []any { return []any{"0"} },
		Step: func(state, input, output any) []any {
			s, in, out := state.(string), input.(regInput), output.(regOutput)
			switch in.op {
			case "read":
				if out.val == s {
					return []any{s}
				}
				return nil
			case "write":
				if broken { // the broken model forgets writes
					return []any{s}
				}
				return []any{in.val}
			}
			// cas
			switch {
			case !out.known && s == in.old:
				return []any{s, in.val} // maybe applied
			case !out.known:
				return []any{s}
			case out.ok && s == in.old:
				return []any{in.val}
			case !out.ok && s != in.old:
				return []any{s}
			}
			return nil
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(regInput), output.(regOutput)
			if !out.known {
				return fmt.Sprintf("%s(%s %s %s) -> ?", in.op, in.key, in.old, in.val)
			}
			return fmt.Sprintf("%s(%s %s %s) -> %v %s", in.op, in.key, in.old, in.val, out.ok, out.val)
		},
	}
	return m.ToModel()
}

// registerClient runs register operations over the HTTP API of one node.
type registerClient struct {
	c *httpClient
}

func (r registerClient) read(ctx context.Context, key string) (regOutput, bool) {
	status, a, err := r.c.txn(ctx, `{"operations":[{"op":"read","collection":"reg","key":"`+key+`"}]}`)
	if err != nil || status != http.StatusOK {
		return regOutput{}, false
	}
	return regOutput{known: true, val: valueOf(a.Results[0])}, true
}

func (r registerClient) write(ctx context.Context, key, val string) regOutput {
	status, _, err := r.c.txn(ctx, `{"operations":[{"op":"put","collection":"reg","key":"`+key+`","doc":{"v":"`+val+`"}}]}`)
	return regOutput{known: err == nil && status == http.StatusOK, ok: true}
}

func (r registerClient) cas(ctx context.Context, key, old, val string) regOutput {
	status, a, err := r.c.txn(ctx, `{"preconditions":[{"collection":"reg","key":"`+key+`","path":["v"],"equals":"`+old+`"}],`+
		`"operations":[{"op":"put","collection":"reg","key":"`+key+`","doc":{"v":"`+val+`"}}]}`)
	switch {
	case err == nil && status == http.StatusOK:
		return regOutput{known: true, ok: true}
	case err == nil && status == http.StatusPreconditionFailed && a.ErrorCode == "precondition_failed":
		return regOutput{known: true, ok: false}
	}
	return regOutput{}
}

func valueOf(r OpResult) string {
	if !r.Found {
		return ""
	}
	var d struct{ V string }
	_ = jsonUnmarshal(r.Doc, &d)
	return d.V
}

// TestLinearizable runs concurrent clients in two regions (the home
// region's HTTP API, and a region forwarding over an emulated link) doing
// reads, writes and compare-and-set on three keys, while the leader
// replica is stopped and restarted and the link between the regions is
// cut and healed. Porcupine must find the history linearizable, and must
// reject it under a model that forgets writes.
func TestLinearizable(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	f := startFabric(t, 3, 0, func(c *Config) { c.RetryTimeout = 1500 * time.Millisecond })
	ctx := ctxT(t)
	if _, err := f.home.svc.CreateCollection(ctx, "_mm", "_system", CollectionSpec{Name: "reg"}); err != nil {
		t.Fatal(err)
	}
	keys := []string{"x", "y", "z"}
	home := registerClient{newHTTPClient(f.home.url())}
	for _, k := range keys {
		if out := home.write(ctx, k, "0"); !out.known {
			t.Fatalf("initial write of %s failed", k)
		}
	}
	const clientsPerRegion, opsPerClient = 4, 40
	start := time.Now()
	now := func() int64 { return int64(time.Since(start)) }
	var (
		mu      sync.Mutex
		history []porcupine.Operation
		done    atomic.Int64
		unknown atomic.Int64
	)
	record := func(client int, in regInput, call int64, out regOutput) {
		ret := now()
		if !out.known {
			ret = math.MaxInt64
			unknown.Add(1)
		}
		mu.Lock()
		history = append(history, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for c := 0; c < 2*clientsPerRegion; c++ {
		rc := home
		if c >= clientsPerRegion {
			rc = registerClient{newHTTPClient(f.away.url())}
		}
		rng := rand.New(rand.NewPCG(seed, uint64(c)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < opsPerClient; i++ {
				key := keys[rng.IntN(len(keys))]
				val := fmt.Sprintf("%d.%d", c, i)
				call := now()
				switch p := rng.IntN(10); {
				case p < 4:
					if out, ok := rc.read(ctx, key); ok {
						record(c, regInput{op: "read", key: key}, call, out)
					} // a failed read has no effect: leave it out
				case p < 7:
					record(c, regInput{op: "write", key: key, val: val}, call, rc.write(ctx, key, val))
				default:
					old := fmt.Sprintf("%d.%d", rng.IntN(2*clientsPerRegion), max(0, i-1-rng.IntN(3)))
					if rng.IntN(3) == 0 {
						if out, ok := rc.read(ctx, key); ok {
							old = out.val // a cas that has a chance
						}
					}
					record(c, regInput{op: "cas", key: key, old: old, val: val}, call, rc.cas(ctx, key, old, val))
				}
				done.Add(1)
			}
		}()
	}
	// Faults, driven by progress: stop the leader, restart it, cut the
	// link between the regions, heal it.
	total := int64(2 * clientsPerRegion * opsPerClient)
	faults := make(chan struct{})
	go func() {
		defer close(faults)
		at := func(frac float64) bool {
			for done.Load() < int64(frac*float64(total)) {
				if ctx.Err() != nil {
					return false
				}
				time.Sleep(2 * time.Millisecond) // polling progress, not synchronising
			}
			return true
		}
		if !at(0.15) {
			return
		}
		leader := f.home.svc.Leader()
		if leader != 0 {
			_ = f.home.svc.StopReplica(leader)
		}
		if !at(0.35) {
			return
		}
		if leader != 0 {
			_ = f.home.svc.RestartReplica(leader)
		}
		if !at(0.5) {
			return
		}
		// Keep the link cut until a forwarded request gave up (its outcome
		// unknown to its client), or nearly everything is done.
		f.link.cut.Store(true)
		for unknown.Load() == 0 && done.Load() < total*9/10 && ctx.Err() == nil {
			time.Sleep(2 * time.Millisecond) // polling progress, not synchronising
		}
		f.link.cut.Store(false)
	}()
	wg.Wait()
	<-faults
	f.link.cut.Store(false)
	// A final write and read from each region, so a model that forgets
	// writes has something to be caught on.
	for i, rc := range []registerClient{home, {newHTTPClient(f.away.url())}} {
		call := now()
		val := fmt.Sprintf("final.%d", i)
		out := rc.write(ctx, "x", val)
		if !out.known {
			t.Fatalf("final write from region %d failed", i)
		}
		record(100+i, regInput{op: "write", key: "x", val: val}, call, out)
		call = now()
		got, ok := rc.read(ctx, "x")
		if !ok {
			t.Fatalf("final read from region %d failed", i)
		}
		record(100+i, regInput{op: "read", key: "x"}, call, got)
	}
	t.Logf("%d operations, %d with unknown outcome", len(history), unknown.Load())

	res, info := porcupine.CheckOperationsVerbose(regModel(false), history, 30*time.Second)
	if res != porcupine.Ok {
		path := t.TempDir() + "/history.html"
		_ = porcupine.VisualizePath(regModel(false), info, path)
		t.Fatalf("history not linearizable (%s); visualization in %s", res, path)
	}
	if res := porcupine.CheckOperationsTimeout(regModel(true), history, 30*time.Second); res != porcupine.Illegal {
		t.Fatalf("the broken model (writes forgotten) was not rejected: %s", res)
	}
}
