package segment

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/causeway/causeway/broker/vfs"
)

var seedFlag = flag.Uint64("segment.seed", 0, "seed for the randomized segment tests (0 = time)")

func testSeed(t *testing.T) uint64 {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -segment.seed=%d)", seed, seed)
	return seed
}

// randomRecord makes a record of random shape: nil and empty fields, sizes
// from a few bytes to past the batch target, publish times that mostly rise.
func randomRecord(rng *rand.Rand, producer string, seq int) Record {
	r := Record{
		PublishTime: int64(seq)*10 + rng.Int64N(25) - 12,
		Producer:    producer,
		SequenceID:  int64(seq),
		Origin:      []string{"", "us-east", "eu-west"}[rng.IntN(3)],
		OriginSeq:   rng.Uint64() >> rng.IntN(64),
	}
	if rng.IntN(4) == 0 {
		r.EventTime = rng.Int64()
	}
	if rng.IntN(2) == 0 {
		r.Key = fmt.Sprintf("key-%d", rng.IntN(50))
	}
	switch rng.IntN(3) {
	case 1:
		r.Properties = map[string]string{}
	case 2:
		r.Properties = map[string]string{"a": "b", fmt.Sprint(rng.IntN(9)): "x"}
	}
	var n int
	switch x := rng.IntN(20); {
	case x < 12:
		n = rng.IntN(200)
	case x < 19:
		n = rng.IntN(5000)
	default:
		n = rng.IntN(40000)
	}
	if n > 0 || rng.IntN(2) == 0 {
		r.Payload = make([]byte, n)
		for i := range r.Payload {
			r.Payload[i] = byte(rng.Uint32())
		}
	}
	if rng.IntN(3) == 0 {
		r.Meta = []byte{byte(seq), byte(seq >> 8)}
	}
	return r
}

// appendPlan is one appender's sequence of calls.
type appendPlan struct {
	producer string
	calls    [][]Record
	async    []bool
}

func makePlans(rng *rand.Rand, prefix string, appenders, calls int) []appendPlan {
	plans := make([]appendPlan, appenders)
	for a := range plans {
		p := &plans[a]
		p.producer = fmt.Sprint(prefix, a)
		seq := 0
		for c := 0; c < calls; c++ {
			recs := make([]Record, 1+rng.IntN(6))
			for i := range recs {
				recs[i] = randomRecord(rng, p.producer, seq)
				seq++
			}
			p.calls = append(p.calls, recs)
			p.async = append(p.async, rng.IntN(3) == 0)
		}
	}
	return plans
}

// run executes a plan in call order, mixing Append and AppendAsync.
func (p appendPlan) run(t *testing.T, l *Log) {
	var wg sync.WaitGroup
	last := uint64(0)
	for i, recs := range p.calls {
		check := func(first uint64, err error) {
			if err != nil {
				t.Errorf("%s call %d: %v", p.producer, i, err)
			} else if i > 0 && first <= last {
				t.Errorf("%s call %d got offset %d after %d", p.producer, i, first, last)
			}
			last = first
		}
		if p.async[i] {
			wg.Add(1)
			l.AppendAsync(recs, func(first uint64, err error) { check(first, err); wg.Done() })
			continue
		}
		wg.Wait() // last is written by the async callbacks
		check(l.Append(recs))
	}
	wg.Wait()
}

// expectRead applies Read's rules to the full contents.
func expectRead(all []Record, from uint64, maxRecords, maxBytes int) []Record {
	var out []Record
	used := 0
	for _, r := range all[from:] {
		n := r.Size()
		if len(out) >= maxRecords || (len(out) > 0 && used+n > maxBytes) {
			break
		}
		out = append(out, r)
		used += n
	}
	return out
}

func expectOffsetAtTime(all []Record, ms int64) uint64 {
	for _, r := range all {
		if r.PublishTime >= ms {
			return r.Offset
		}
	}
	return uint64(len(all))
}

// TestMetamorphic runs the same appends, one appender first and then four
// concurrent ones, under different segment sizes, index intervals, batch
// bounds and fsync policies: every configuration must read back the same
// records (the same offsets for the sequential part, the same per-producer
// sequences for the concurrent part), answer reads and time lookups as the
// model does, and read back identically after a reopen.
func TestMetamorphic(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	seqPlan := makePlans(rng, "sequential-", 1, 40)[0]
	plans := makePlans(rng, "concurrent-", 4, 60)
	configs := []Options{
		{},
		{SegmentMaxBytes: 1 << 10, IndexIntervalBytes: 1, MaxBatchBytes: 1},
		{SegmentMaxBytes: 16 << 10, IndexIntervalBytes: 512, MaxBatchBytes: 8 << 10, Fsync: FsyncInterval},
		{SegmentMaxBytes: 100 << 10, IndexIntervalBytes: 64 << 10, MaxBatchBytes: 64 << 10, Fsync: FsyncNever},
		{
			SegmentMaxBytes:    int64(1 + rng.IntN(200<<10)),
			IndexIntervalBytes: 1 + rng.IntN(16<<10),
			MaxBatchBytes:      1 + rng.IntN(1<<20),
			Fsync:              FsyncPolicy(rng.IntN(3)),
		},
	}
	var reference []Record // the sequential part of the first configuration
	for ci, opts := range configs {
		t.Run(fmt.Sprintf("config%d", ci), func(t *testing.T) {
			t.Logf("options %+v", opts)
			fsys := vfs.NewMem()
			l := openLog(t, fsys, opts)
			seqPlan.run(t, l)
			var wg sync.WaitGroup
			for _, p := range plans {
				wg.Add(1)
				go func() { defer wg.Done(); p.run(t, l) }()
			}
			wg.Wait()
			all := readAll(t, l)

			// Sequential part: identical in every configuration.
			nSeq := 0
			for _, c := range seqPlan.calls {
				nSeq += len(c)
			}
			if reference == nil {
				reference = all[:nSeq]
			} else if err := sameRecords(all[:nSeq], reference); err != nil {
				t.Fatalf("sequential part differs from config0 (seed %d): %v", seed, err)
			}
			// Every producer's records in its order, exactly as appended.
			byProducer := map[string][]Record{}
			for i, r := range all {
				if r.Offset != uint64(i) {
					t.Fatalf("offset %d at index %d", r.Offset, i)
				}
				r.Offset = 0
				byProducer[r.Producer] = append(byProducer[r.Producer], r)
			}
			for _, p := range append([]appendPlan{seqPlan}, plans...) {
				var want []Record
				for _, c := range p.calls {
					for _, r := range c {
						r.Offset = 0
						want = append(want, r)
					}
				}
				if err := sameRecords(byProducer[p.producer], want); err != nil {
					t.Fatalf("producer %s (seed %d): %v", p.producer, seed, err)
				}
			}
			// Reads and time lookups agree with the model.
			for k := 0; k < 60; k++ {
				from := uint64(rng.IntN(len(all) + 1))
				maxRecords, maxBytes := 1+rng.IntN(40), rng.IntN(60000)
				got, err := l.Read(from, maxRecords, maxBytes)
				if err != nil {
					t.Fatal(err)
				}
				if err := sameRecords(got, expectRead(all, from, maxRecords, maxBytes)); err != nil {
					t.Fatalf("Read(%d, %d, %d) (seed %d): %v", from, maxRecords, maxBytes, seed, err)
				}
				ms := rng.Int64N(int64(len(all))*10) - 20
				if got, want := l.OffsetAtTime(ms), expectOffsetAtTime(all, ms); got != want {
					t.Fatalf("OffsetAtTime(%d) = %d, want %d (seed %d)", ms, got, want, seed)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			// Reopen (after a crash: Close synced everything) with another
			// index interval.
			reopened := opts
			reopened.IndexIntervalBytes = 1 + rng.IntN(8192)
			r := openLog(t, fsys.CrashClone(nil), reopened)
			defer r.Close()
			if got := readAll(t, r); !reflect.DeepEqual(got, all) {
				t.Fatalf("after reopen (seed %d): %v", seed, sameRecords(got, all))
			}
		})
	}
}
