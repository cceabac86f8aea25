package service

import (
	"slices"
	"sync"
	"time"

	"github.com/causeway/causeway/collections"
)

// GeoSequencer sequences the collection ops of a node in a multi-region
// fabric.
//
// Dots, contexts and HLCs are the LocalSequencer's: a dot is (region, n)
// with n dense per collection and region, the context covers every op this
// region has applied to the collection (remote ones included) or reserved,
// and the HLC observes every remote op's. The reducer needs them when a
// write is prepared (preconditions, _rev and returnNew are answered from
// the new state before the op is durable), while the replication shell
// hands out its own dots later, on its loop. The replicator still gives
// the causal order the reducer relies on: a remote op is applied here only
// once it is delivered, and a local op is shipped after it is applied, so
// the dependency vector of every shipped op dominates its context.
//
// Stable is derived from what each region is known to have applied to
// the collection, not from the engine's acknowledgements: an op is
// applied locally before the shell journals it, so a region may advertise
// the delivery of x while an op of its own concurrent with x is still
// waiting to be shipped; the engine's stable vector would then let x be
// compacted before that op arrives. Instead each region's knowledge of a
// collection is the context (plus the op's own dot) of its latest op
// applied here, raised by the acknowledgements it ships in its own log
// after its ops (MetaAck events: the shipper sends its applied vector when
// it changed). Because each region's log is delivered in order and its
// contexts only grow, every op a region makes from now on covers its
// knowledge, and the meet of the members' knowledge (this region's
// applied vector included) is causally stable. A member that never writes
// nor acknowledges pins it; evicted regions do not count.
type GeoSequencer struct {
	local *LocalSequencer
	self  string

	mu      sync.Mutex
	members []string // non-evicted regions, self included
	cols    map[Ref]*geoCol
	// fabricRegions, when set, narrows the members for a collection of a
	// fabric pinned to some regions (ok false: every member).
	fabricRegions func(tenant, fabric string) (regions []string, ok bool)
}

// geoCol is what the members are known to have applied to one collection.
type geoCol struct {
	know   map[string]collections.Vector
	stable collections.Vector
}

// NewGeoSequencer returns a sequencer for region, a member of a fabric of
// regions, reading physical time from now.
func NewGeoSequencer(region string, regions []string, now func() time.Time) *GeoSequencer {
	g := &GeoSequencer{local: NewLocalSequencer(region, now), self: region, cols: map[Ref]*geoCol{}}
	g.SetMembers(regions)
	return g
}

// Next implements Sequencer.
func (g *GeoSequencer) Next(ref Ref) (collections.Dot, collections.Vector, uint64) {
	return g.local.Next(ref)
}

// Observe implements Sequencer.
func (g *GeoSequencer) Observe(ref Ref, dot collections.Dot, hlc uint64) {
	g.local.Observe(ref, dot, hlc)
}

// Forget implements Sequencer.
func (g *GeoSequencer) Forget(ref Ref) {
	g.local.Forget(ref)
	g.mu.Lock()
	delete(g.cols, ref)
	g.mu.Unlock()
}

// SetMembers sets the regions whose knowledge counts (the fabric's
// regions less the evicted ones; self always counts).
func (g *GeoSequencer) SetMembers(regions []string) {
	m := slices.Clone(regions)
	if !slices.Contains(m, g.self) {
		m = append(m, g.self)
	}
	slices.Sort(m)
	g.mu.Lock()
	g.members = slices.Compact(m)
	g.mu.Unlock()
}

// SetFabricRegions narrows the members counted for a collection to its
// fabric's regions when f says the fabric is pinned (geo-fabrics): the
// other regions never see its ops, so they must not pin its stability.
func (g *GeoSequencer) SetFabricRegions(f func(tenant, fabric string) (regions []string, ok bool)) {
	g.mu.Lock()
	g.fabricRegions = f
	g.mu.Unlock()
}

// membersOf are the members whose knowledge counts for ref.
func (g *GeoSequencer) membersOf(ref Ref) []string {
	if g.fabricRegions == nil {
		return g.members
	}
	regions, ok := g.fabricRegions(ref.Tenant, ref.Fabric)
	if !ok {
		return g.members
	}
	var out []string
	for _, r := range g.members {
		if r == g.self || slices.Contains(regions, r) {
			out = append(out, r)
		}
	}
	return out
}

// Learn raises what region is known to have applied to ref: every op it
// makes on ref from now on covers v.
func (g *GeoSequencer) Learn(ref Ref, region string, v collections.Vector) {
	if region == g.self {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.cols[ref]
	if c == nil {
		c = &geoCol{know: map[string]collections.Vector{}}
		g.cols[ref] = c
	}
	if cur := c.know[region]; !cur.Dominates(v) {
		c.know[region] = cur.Merge(v)
	}
}

// Known returns what region is known to have applied to ref.
func (g *GeoSequencer) Known(ref Ref, region string) collections.Vector {
	if region == g.self {
		return g.local.Stable(ref)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if c := g.cols[ref]; c != nil {
		return slices.Clone(c.know[region])
	}
	return nil
}

// Stable implements Sequencer: the meet of the members' knowledge of ref,
// never lower than before.
func (g *GeoSequencer) Stable(ref Ref) collections.Vector {
	own := g.local.Stable(ref) // everything applied or reserved here
	g.mu.Lock()
	defer g.mu.Unlock()
	members := g.membersOf(ref)
	c := g.cols[ref]
	if c == nil {
		if len(members) > 1 {
			return nil
		}
		c = &geoCol{know: map[string]collections.Vector{}}
		g.cols[ref] = c
	}
	meet := own
	for _, r := range members {
		if r != g.self {
			meet = meet.Meet(c.know[r])
		}
	}
	if !c.stable.Dominates(meet) {
		c.stable = c.stable.Merge(meet)
	}
	return slices.Clone(c.stable)
}
