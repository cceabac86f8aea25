package collections

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// simRegion is one region of the simulated fabric: it makes ops with a
// correct causal context from what it has delivered, and delivers the
// others' ops in causal order.
type simRegion struct {
	name      string
	delivered Vector
	seq       uint64
	hlc       uint64
	docs      map[string]*Doc
}

// sim runs regions that make random ops on a few documents and deliver
// each other's ops in random causally valid orders. All ops land in ops,
// in the order they were made.
type sim struct {
	t         testing.TB
	rng       *rand.Rand
	regions   []*simRegion
	keys      []string
	randomHLC bool // clocks ignore causality: a later op may carry a lower HLC
	ops       []Op
	uniques   int
}

var regionPool = []string{"af-1", "ap-south", "eu-west", "sa-east", "us-east", "zz"}

func newSim(t testing.TB, rng *rand.Rand, regions int) *sim {
	s := &sim{t: t, rng: rng, keys: []string{"k1", "k2"}, randomHLC: rng.IntN(2) == 0}
	names := slices.Clone(regionPool)
	rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	for _, name := range names[:regions] {
		s.regions = append(s.regions, &simRegion{name: name, docs: map[string]*Doc{}})
	}
	return s
}

// run makes and delivers ops for the given number of steps, then delivers
// everything everywhere.
func (s *sim) run(steps int) {
	for range steps {
		r := s.regions[s.rng.IntN(len(s.regions))]
		if s.rng.IntN(100) < 55 {
			s.generate(r)
		} else {
			s.deliverOne(r)
		}
	}
	for _, r := range s.regions {
		for s.deliverOne(r) {
		}
	}
}

// deliverOne delivers to r a random op it has not seen whose dependencies it
// has; it reports false when there is none.
func (s *sim) deliverOne(r *simRegion) bool {
	var ready []int
	for i := range s.ops {
		if deliverable(r.delivered, &s.ops[i]) {
			ready = append(ready, i)
		}
	}
	if len(ready) == 0 {
		return false
	}
	op := s.ops[ready[s.rng.IntN(len(ready))]]
	r.apply(s.t, op)
	r.hlc = max(r.hlc, op.HLC)
	return true
}

// deliverable reports whether op is the next op of its origin for a replica
// that delivered the vector v, with its whole context delivered.
func deliverable(v Vector, op *Op) bool {
	return v.Get(op.Dot.Region) == op.Dot.Seq-1 && v.Dominates(op.Context)
}

func (r *simRegion) apply(t testing.TB, op Op) {
	d := r.docs[op.Key]
	if d == nil {
		d = NewDoc(op.Collection, op.Key)
		r.docs[op.Key] = d
	}
	if !mustApply(t, d, op) {
		t.Fatalf("region %s: op %s reported as a duplicate on first delivery", r.name, op.Dot)
	}
	r.delivered.raise(op.Dot.Region, op.Dot.Seq)
}

func (s *sim) generate(r *simRegion) {
	key := s.keys[s.rng.IntN(len(s.keys))]
	r.seq++
	if s.randomHLC {
		r.hlc = uint64(s.rng.IntN(6))
	} else {
		r.hlc++
	}
	op := Op{
		Collection: testCollection,
		Key:        key,
		Dot:        Dot{Region: r.name, Seq: r.seq},
		Context:    slices.Clone(r.delivered),
		HLC:        r.hlc,
	}
	s.randomBody(&op)
	if err := op.Validate(); err != nil {
		s.t.Fatalf("generated an invalid op: %v", err)
	}
	s.ops = append(s.ops, op)
	r.apply(s.t, op)
}

var (
	simNames  = []string{"a", "b", "n"}
	simNested = []string{"x", "y", "z"}
	simValues = []string{`1`, `2`, `-3`, `1.5`, `"s"`, `"t"`, `true`, `null`, `[1,2]`, `[]`, `{}`, `{"x":1}`, `{"x":{"y":2},"z":"w"}`, `{"y":[1]}`}
)

func (s *sim) randomPath() []string {
	p := []string{simNames[s.rng.IntN(len(simNames))]}
	for s.rng.IntN(3) == 0 && len(p) < 3 {
		p = append(p, simNested[s.rng.IntN(len(simNested))])
	}
	return p
}

func (s *sim) randomValue() string { return simValues[s.rng.IntN(len(simValues))] }

func (s *sim) randomExpiry() uint64 {
	if s.rng.IntN(4) == 0 {
		return uint64(100 * (1 + s.rng.IntN(3)))
	}
	return 0
}

// randomBody fills kind, path, value and expiry. The attribute "cnt" only
// ever holds integers (for the counter property); attributes "u<n>" are
// written once each (for the survival property).
func (s *sim) randomBody(op *Op) {
	switch p := s.rng.IntN(100); {
	case p < 8, p < 14:
		op.Kind = KindInsert
		if p >= 8 {
			op.Kind = KindReplace
		}
		body := map[string]json.RawMessage{}
		for range s.rng.IntN(4) {
			body[simNames[s.rng.IntN(len(simNames))]] = json.RawMessage(s.randomValue())
		}
		if s.rng.IntN(3) == 0 {
			body["cnt"] = json.RawMessage(strconv.Itoa(s.rng.IntN(20)))
		}
		op.Value = mustMarshal(s.t, body)
		op.ExpiresAt = s.randomExpiry()
	case p < 20:
		op.Kind = KindDelete
	case p < 50:
		op.Kind, op.Path, op.Value = KindSet, s.randomPath(), json.RawMessage(s.randomValue())
		op.ExpiresAt = s.randomExpiry()
	case p < 60:
		op.Kind, op.Path = KindUnset, s.randomPath()
	case p < 65:
		op.Kind, op.Path, op.Value = KindIncrement, s.randomPath(), json.RawMessage(strconv.Itoa(1+s.rng.IntN(3)))
	case p < 77:
		op.Kind, op.Path, op.Value = KindIncrement, []string{"cnt"}, json.RawMessage(strconv.Itoa(s.rng.IntN(11)-5))
		op.ExpiresAt = s.randomExpiry()
	case p < 85:
		op.Kind, op.Path, op.Value = KindSet, []string{"cnt"}, json.RawMessage(strconv.Itoa(s.rng.IntN(30)))
	case p < 88:
		op.Kind, op.Path = KindUnset, []string{"cnt"}
	default:
		s.uniques++
		op.Kind, op.Path = KindSet, []string{"u" + strconv.Itoa(s.uniques)}
		op.Value = json.RawMessage(fmt.Sprintf(`"%s"`, op.Dot))
	}
}

func mustMarshal(t testing.TB, v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
