package replicator

import (
	"fmt"
	"testing"
	"time"
)

// engineWorkload prebuilds rounds of batches from every origin but "r0":
// in round k each origin sends opsPerBatch ops that depend on round k-1 of
// every other origin (the first op carries the full vector, the rest
// nothing new), so they are all deliverable in order.
func engineWorkload(regions, rounds, opsPerBatch int) ([]string, []Batch) {
	names := make([]string, regions)
	for i := range names {
		names[i] = fmt.Sprintf("r%d", i)
	}
	body := make([]byte, 100)
	var batches []Batch
	for k := range rounds {
		for o := 1; o < regions; o++ {
			b := Batch{From: names[o], To: names[0], Origin: names[o]}
			for i := range opsPerBatch {
				op := Op{Seq: uint64(k*opsPerBatch + i + 1), HLC: Timestamp{WallNanos: int64(k)}, Body: body}
				if i == 0 && k > 0 {
					for r := 1; r < regions; r++ {
						if r != o {
							op.Deps = append(op.Deps, Entry{Region: names[r], Seq: uint64(k * opsPerBatch)})
						}
					}
				}
				b.Ops = append(b.Ops, op)
			}
			batches = append(batches, b)
		}
	}
	return names, batches
}

// BenchmarkEngineThroughput measures how many remote ops per second one
// engine delivers (ReceiveBatch + Ready), without codec or journal.
func BenchmarkEngineThroughput(b *testing.B) {
	for _, regions := range []int{3, 100} {
		b.Run(fmt.Sprintf("regions=%d", regions), func(b *testing.B) {
			names, batches := engineWorkload(regions, 20, 64)
			ops := 0
			for _, bt := range batches {
				ops += len(bt.Ops)
			}
			cfg := testConfig()
			cfg.Self, cfg.Regions = names[0], names
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				e, err := New(cfg, Restore{})
				if err != nil {
					b.Fatal(err)
				}
				for _, bt := range batches {
					if err := e.ReceiveBatch(t0, bt); err != nil {
						b.Fatal(err)
					}
					e.Ready()
				}
				if e.Metrics().DeliveredOps != uint64(ops) {
					b.Fatalf("delivered %d of %d", e.Metrics().DeliveredOps, ops)
				}
			}
			b.ReportMetric(float64(ops)*float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// BenchmarkMesh runs a whole fabric in memory with the wire codec and
// journals: each iteration, every region publishes opsPerRound ops, then
// every region ticks and every message is delivered. It reports deliveries
// per second (summed over regions) and the wire metadata per shipped op:
// batch bytes minus bodies (headers, region tables, seq/HLC/deps, CRC,
// HMAC) and ack bytes.
func BenchmarkMesh(b *testing.B) {
	for _, tc := range []struct{ regions, active, opsPerRound int }{
		{3, 3, 64},
		{100, 100, 8}, // every region publishes: the worst case for metadata
		{100, 5, 64},  // traffic concentrated in a few regions
		// A 3-region fabric's traffic in one 100-region domain, as before
		// geo-fabrics; pinned to its 3 regions it runs in a domain of 3,
		// the regions=3 line (replicator/fabric).
		{100, 3, 64},
	} {
		b.Run(fmt.Sprintf("regions=%d/active=%d", tc.regions, tc.active), func(b *testing.B) {
			names := make([]string, tc.regions)
			for i := range names {
				names[i] = fmt.Sprintf("region-%02d", i)
			}
			cfg := testConfig()
			cfg.AckInterval = 10 * time.Millisecond
			m := newTestMesh(b, names, cfg, true)
			body := make([]byte, 100)
			deliveries := 0
			b.ResetTimer()
			for range b.N {
				for _, r := range names[:tc.active] {
					for range tc.opsPerRound {
						m.nodes[r].e.Publish(m.now, body)
					}
					m.flush(r)
				}
				m.tick(10 * time.Millisecond)
				m.deliver()
				deliveries += tc.regions * tc.active * tc.opsPerRound
			}
			b.StopTimer()
			for _, r := range names {
				if met := m.nodes[r].e.Metrics(); met.RelayedRanges != 0 {
					b.Fatalf("%s relayed %d ranges in a healthy mesh", r, met.RelayedRanges)
				}
			}
			b.ReportMetric(float64(deliveries)/b.Elapsed().Seconds(), "deliveries/s")
			if m.shipped > 0 {
				b.ReportMetric(float64(m.wireBytes-m.bodyBytes)/float64(m.shipped), "meta-bytes/op")
				b.ReportMetric(float64(m.ackBytes)/float64(m.shipped), "ack-bytes/op")
			}
		})
	}
}

// BenchmarkMetadataBytes isolates the causal metadata with 100 regions: a
// batch of 64 ops from one origin where, between two consecutive ops, the
// origin delivered ops from 3 other regions (a busy fabric). It reports the
// encoded batch bytes minus bodies per op (seq, HLC, dependencies, header,
// region table or membership digest, CRC, HMAC), for batches that name
// regions or are compact, and whose first op carries the full vector or is
// based on the previous op.
func BenchmarkMetadataBytes(b *testing.B) {
	const regions, ops, changedPerOp = 100, 64, 3
	names := make([]string, regions)
	for i := range names {
		names[i] = fmt.Sprintf("region-%02d", i)
	}
	deps := Vector{}
	for _, n := range names[1:] {
		deps[n] = 1_000_000 + uint64(len(deps))
	}
	full := Batch{From: names[0], To: names[1], Origin: names[0]}
	based := Batch{From: names[0], To: names[1], Origin: names[0], Based: true}
	hlc := Timestamp{WallNanos: t0.UnixNano()}
	for i := range ops {
		var grown []Entry
		for j := range changedPerOp {
			r := names[1+(i*changedPerOp+j)%(regions-1)]
			deps[r] += 2
			grown = append(grown, Entry{Region: r, Seq: deps[r]})
		}
		op := Op{Seq: 5_000_000 + uint64(i), HLC: hlc, Deps: grown}
		based.Ops = append(based.Ops, op)
		if i == 0 {
			op.Deps = deps.Entries()
		}
		full.Ops = append(full.Ops, op)
		hlc.WallNanos += 150_000
	}
	for _, tc := range []struct {
		name    string
		batch   Batch
		compact bool
	}{
		{"named/full", full, false},
		{"compact/full", full, true},
		{"compact/based", based, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := testCodec(b)
			if err := c.SetMembership(names); err != nil {
				b.Fatal(err)
			}
			bt := tc.batch
			if tc.compact {
				bt.Membership = MembershipDigest(names)
			}
			var size int
			b.ReportAllocs()
			for range b.N {
				w, err := c.AppendBatch(nil, bt)
				if err != nil {
					b.Fatal(err)
				}
				size = len(w)
			}
			b.ReportMetric(float64(size)/ops, "meta-bytes/op")
		})
	}
}

// BenchmarkCodecBatch encodes and decodes one batch of 256 ops of 1 KiB
// (about 270 KB on the wire, a batch of a busy link): the CRC and the MAC
// cover every byte, so they are most of the cost.
func BenchmarkCodecBatch(b *testing.B) {
	c, err := NewCodec(testSecret)
	if err != nil {
		b.Fatal(err)
	}
	batch := Batch{From: "a", To: "b", Origin: "a"}
	body := make([]byte, 1024)
	for i := range 256 {
		batch.Ops = append(batch.Ops, Op{Seq: uint64(i + 1), HLC: Timestamp{WallNanos: int64(i)}, Body: body})
	}
	msg, err := c.AppendBatch(nil, batch)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		buf := make([]byte, 0, len(msg))
		for b.Loop() {
			if buf, err = c.AppendBatch(buf[:0], batch); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if _, err := c.DecodeBatch(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}
