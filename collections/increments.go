package collections

import (
	"slices"
	"sort"
	"strings"
)

// increments holds a node's increments grouped by origin region: runs in
// region order, each run in sequence order (the folded stable entry is a run
// of its own with region "" and sequence 0, so it comes first). Causal
// delivery hands a region's increments over in sequence order, so adding one
// appends to its run, and the increments an op observed are a prefix of each
// run. A counter whose increments are not stable yet costs O(1) per
// increment, not a walk over the others.
type increments []incRun

type incRun struct {
	region string
	ents   []incEntry
}

type incEntry struct {
	seq   uint64
	delta int64
}

// increment is one entry with its dot, as encoded and listed.
type increment struct {
	dot   Dot
	delta int64
}

func (xs increments) len() int {
	n := 0
	for _, r := range xs {
		n += len(r.ents)
	}
	return n
}

// flat lists the increments in dot order.
func (xs increments) flat() []increment {
	out := make([]increment, 0, xs.len())
	for _, r := range xs {
		for _, e := range r.ents {
			out = append(out, increment{dot: Dot{Region: r.region, Seq: e.seq}, delta: e.delta})
		}
	}
	return out
}

// sum adds the increments in 64-bit two's complement, so the result does not
// depend on the order.
func (xs increments) sum() int64 {
	var s int64
	for _, r := range xs {
		for _, e := range r.ents {
			s += e.delta
		}
	}
	return s
}

// run returns the index of region's run, creating it when create is set
// (-1 when absent otherwise).
func (xs *increments) run(region string, create bool) int {
	i, ok := slices.BinarySearchFunc(*xs, region, func(r incRun, region string) int { return strings.Compare(r.region, region) })
	if ok {
		return i
	}
	if !create {
		return -1
	}
	*xs = slices.Insert(*xs, i, incRun{region: region})
	return i
}

// add records the increment named d. A region's increments normally come in
// sequence order and append; one out of order is inserted in place, so the
// state stays canonical even for a caller that broke causal delivery.
func (xs *increments) add(d Dot, delta int64) {
	r := &(*xs)[xs.run(d.Region, true)]
	e := incEntry{seq: d.Seq, delta: delta}
	if n := len(r.ents); n == 0 || r.ents[n-1].seq < d.Seq {
		r.ents = append(r.ents, e)
		return
	}
	i := sort.Search(len(r.ents), func(i int) bool { return r.ents[i].seq >= d.Seq })
	r.ents = slices.Insert(r.ents, i, e)
}

// observedPrefix returns how many of the run's entries ctx covers.
func (r *incRun) observedPrefix(ctx Vector) int {
	if r.region == "" {
		return len(r.ents)
	}
	upTo := ctx.Get(r.region)
	return sort.Search(len(r.ents), func(i int) bool { return r.ents[i].seq > upTo })
}

// keepUnobserved drops the increments ctx covers.
func (xs *increments) keepUnobserved(ctx Vector) {
	kept := (*xs)[:0]
	for _, r := range *xs {
		r.ents = r.ents[r.observedPrefix(ctx):]
		if len(r.ents) > 0 {
			kept = append(kept, r)
		}
	}
	clear((*xs)[len(kept):])
	*xs = kept
}

// compact folds the stable increments into one entry with the stable dot.
func (xs *increments) compact(stable Vector) {
	var sum int64
	folded := false
	kept := make(increments, 0, len(*xs)+1)
	kept = append(kept, incRun{})
	for _, r := range *xs {
		k := r.observedPrefix(stable)
		for _, e := range r.ents[:k] {
			sum += e.delta
		}
		folded = folded || k > 0
		if r.ents = r.ents[k:]; len(r.ents) > 0 {
			kept = append(kept, r)
		}
	}
	if !folded {
		return
	}
	kept[0].ents = []incEntry{{seq: 0, delta: sum}}
	*xs = kept
}

func (xs increments) clone() increments {
	out := slices.Clone(xs)
	for i := range out {
		out[i].ents = slices.Clone(out[i].ents)
	}
	return out
}
