package service

import (
	"sync"
	"time"

	"github.com/causeway/causeway/collections"
)

// Sequencer is the one place local writes take their dot, causal context
// and hybrid logical timestamp from, and where every op applied to a
// collection without being sequenced here (a remote op, or one re-read from
// the op log on start) is recorded. The service calls it under the
// collection's write lock, so calls for one collection never overlap; calls
// for different collections may.
//
// LocalSequencer serves a single region. Geo-replication replaces it with
// one whose dots come from the region's replication log and whose stable
// vector is the replicator's.
type Sequencer interface {
	// Next reserves the dot of the next local op on ref and returns it with
	// its context (every op on ref this region has applied or reserved;
	// never the dot itself) and an HLC greater than every one seen. A
	// reserved dot is always published: the service validates ops before it
	// asks, because a gap would stall causal delivery in other regions.
	Next(ref Ref) (collections.Dot, collections.Vector, uint64)
	// Observe records an op applied to ref that Next did not hand out.
	Observe(ref Ref, dot collections.Dot, hlc uint64)
	// Stable returns ref's causally stable vector: every op applied to ref
	// from now on has observed it. Compaction collects below it.
	Stable(ref Ref) collections.Vector
	// Forget drops the state of a dropped collection.
	Forget(ref Ref)
}

// LocalSequencer sequences the ops of a single region: dots (region, n)
// with n dense from 1 per collection, contexts covering everything applied
// so far, and a packed HLC (Unix ms << 16 | logical counter). With one
// region every op is stable as soon as it is sequenced. Its Stable is
// therefore wrong once other regions write: a multi-region node needs a
// Sequencer whose Stable follows what every region has delivered.
type LocalSequencer struct {
	region string
	now    func() time.Time

	mu   sync.Mutex
	hlc  uint64
	vecs map[Ref]collections.Vector
}

// NewLocalSequencer returns a sequencer for region reading physical time
// from now.
func NewLocalSequencer(region string, now func() time.Time) *LocalSequencer {
	return &LocalSequencer{region: region, now: now, vecs: map[Ref]collections.Vector{}}
}

// hlcShift leaves 16 bits of logical counter below the wall-clock ms.
const hlcShift = 16

func (s *LocalSequencer) tick() uint64 {
	phys := uint64(s.now().UnixMilli()) << hlcShift
	if phys > s.hlc {
		s.hlc = phys
	} else {
		s.hlc++
	}
	return s.hlc
}

// Next implements Sequencer.
func (s *LocalSequencer) Next(ref Ref) (collections.Dot, collections.Vector, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.vecs[ref]
	ctx := append(collections.Vector(nil), v...)
	dot := collections.Dot{Region: s.region, Seq: v.Get(s.region) + 1}
	s.vecs[ref] = v.Merge(collections.Vector{{Region: dot.Region, Seq: dot.Seq}})
	return dot, ctx, s.tick()
}

// Observe implements Sequencer.
func (s *LocalSequencer) Observe(ref Ref, dot collections.Dot, hlc uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if hlc > s.hlc {
		s.hlc = hlc
	}
	v := s.vecs[ref]
	if v.Get(dot.Region) < dot.Seq {
		s.vecs[ref] = v.Merge(collections.Vector{{Region: dot.Region, Seq: dot.Seq}})
	}
}

// Stable implements Sequencer: with one region, everything sequenced.
func (s *LocalSequencer) Stable(ref Ref) collections.Vector {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(collections.Vector(nil), s.vecs[ref]...)
}

// Forget implements Sequencer.
func (s *LocalSequencer) Forget(ref Ref) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.vecs, ref)
}
