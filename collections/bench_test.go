package collections

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

// benchWorkload is a causally valid op stream from three regions whose
// views of each other lag (each syncs now and then), so many ops are
// concurrent, plus the stable vectors a replica applying the stream in order
// may compact with.
type benchWorkload struct {
	ops    []Op
	stable map[int]Vector // index of the next op -> stable vector there
}

const (
	benchOpsPerRun    = 300_000
	benchCompactEvery = 1024 // ops between compactions on hot documents
)

type benchMix int

const (
	mixMap        benchMix = iota // set / increment / unset on random attributes
	mixHotCounter                 // increments of one attribute
)

func genWorkload(seed uint64, keys, n int, mix benchMix) benchWorkload {
	rng := rand.New(rand.NewPCG(seed, seed))
	regions := []string{"ap-south", "eu-west", "us-east"}
	delivered := make([]Vector, len(regions))
	logs := make([][]int, len(regions)) // op indices by origin
	w := benchWorkload{stable: map[int]Vector{}}
	keyNames := make([]string, keys)
	for i := range keyNames {
		keyNames[i] = "doc" + strconv.Itoa(i)
	}
	fields := []string{"f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "c0", "c1", "c2"}
	values := []json.RawMessage{json.RawMessage(`1`), json.RawMessage(`42`), json.RawMessage(`"green"`), json.RawMessage(`true`), json.RawMessage(`"a longer string value"`)}
	incs := []json.RawMessage{json.RawMessage(`1`), json.RawMessage(`2`), json.RawMessage(`-1`)}
	sync := func(r int) {
		for progress := true; progress; {
			progress = false
			for q := range regions {
				for q != r {
					next := delivered[r].Get(regions[q])
					if next >= uint64(len(logs[q])) || !delivered[r].Dominates(w.ops[logs[q][next]].Context) {
						break
					}
					delivered[r].raise(regions[q], next+1)
					progress = true
				}
			}
		}
	}
	hlc := uint64(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	for i := range n {
		if i%benchCompactEvery == 0 {
			stable := delivered[0]
			for _, v := range delivered[1:] {
				stable = stable.Meet(v)
			}
			w.stable[i] = stable
		}
		r := rng.IntN(len(regions))
		if rng.IntN(20) == 0 {
			sync(r)
		}
		hlc += uint64(rng.IntN(2))
		op := Op{
			Collection: "bench",
			Key:        keyNames[rng.IntN(keys)],
			Dot:        Dot{Region: regions[r], Seq: uint64(len(logs[r]) + 1)},
			Context:    slices.Clone(delivered[r]),
			HLC:        hlc,
		}
		switch p := rng.IntN(10); {
		case mix == mixHotCounter:
			op.Kind, op.Path, op.Value = KindIncrement, []string{"hits"}, incs[0]
		case p < 4:
			op.Kind, op.Path, op.Value = KindSet, []string{fields[rng.IntN(len(fields))]}, values[rng.IntN(len(values))]
		case p < 8:
			op.Kind, op.Path, op.Value = KindIncrement, []string{fields[10+rng.IntN(3)]}, incs[rng.IntN(len(incs))]
		default:
			op.Kind, op.Path = KindUnset, []string{fields[rng.IntN(len(fields))]}
		}
		logs[r] = append(logs[r], len(w.ops))
		w.ops = append(w.ops, op)
		delivered[r].raise(regions[r], op.Dot.Seq)
	}
	return w
}

// benchApply applies the workload to a fresh replica per iteration and
// reports ops/s. Hot-document workloads compact as stability advances.
func benchApply(b *testing.B, w benchWorkload, compact bool) {
	b.ReportAllocs()
	start := time.Now()
	var applied int
	for b.Loop() {
		docs := map[string]*Doc{}
		for i := range w.ops {
			if compact && i%benchCompactEvery == 0 {
				for _, d := range docs {
					d.Compact(w.stable[i])
				}
			}
			op := &w.ops[i]
			d := docs[op.Key]
			if d == nil {
				d = NewDoc(op.Collection, op.Key)
				docs[op.Key] = d
			}
			if _, err := d.Apply(op); err != nil {
				b.Fatal(err)
			}
		}
		applied += len(w.ops)
	}
	b.ReportMetric(float64(applied)/time.Since(start).Seconds(), "ops/s")
}

// BenchmarkReducer measures reducer throughput, the bar being Automerge 2
// (~140k ops/s) and Yjs (~240k ops/s).
func BenchmarkReducer(b *testing.B) {
	b.Run("map-100k-docs", func(b *testing.B) {
		benchApply(b, genWorkload(1, 100_000, benchOpsPerRun, mixMap), false)
	})
	b.Run("hot-doc", func(b *testing.B) {
		benchApply(b, genWorkload(2, 1, benchOpsPerRun, mixMap), true)
	})
	b.Run("hot-counter", func(b *testing.B) {
		benchApply(b, genWorkload(3, 1, benchOpsPerRun, mixHotCounter), true)
	})
}

// BenchmarkDecodeAndApply adds decoding each op from its binary form, as
// phase 2 will read them from the log.
func BenchmarkDecodeAndApply(b *testing.B) {
	w := genWorkload(1, 100_000, benchOpsPerRun, mixMap)
	encoded := make([][]byte, len(w.ops))
	for i := range w.ops {
		var err error
		if encoded[i], err = w.ops[i].MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	start := time.Now()
	var applied int
	for b.Loop() {
		docs := map[string]*Doc{}
		for _, enc := range encoded {
			op, err := DecodeOp(enc)
			if err != nil {
				b.Fatal(err)
			}
			d := docs[op.Key]
			if d == nil {
				d = NewDoc(op.Collection, op.Key)
				docs[op.Key] = d
			}
			if _, err := d.Apply(&op); err != nil {
				b.Fatal(err)
			}
		}
		applied += len(encoded)
	}
	b.ReportMetric(float64(applied)/time.Since(start).Seconds(), "ops/s")
}

// BenchmarkStateCodec measures encoding and decoding a typical document.
func BenchmarkStateCodec(b *testing.B) {
	w := genWorkload(4, 1, 2000, mixMap)
	d := NewDoc("bench", "doc0")
	for i := range w.ops {
		if _, err := d.Apply(&w.ops[i]); err != nil {
			b.Fatal(err)
		}
	}
	enc := d.AppendBinary(nil)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, len(enc))
		for b.Loop() {
			buf = d.AppendBinary(buf[:0])
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeDoc(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("view", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			buf, _ = d.AppendJSON(buf[:0])
		}
	})
}
