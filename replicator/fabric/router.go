package fabric

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Tag is what every replicated op of a fabric carries: the fabric and the
// version of its region list it was published under.
type Tag struct {
	Fabric  string
	Version uint64
}

// Verdict says what the shell does with a delivered op of a fabric.
type Verdict uint8

const (
	// Apply it now.
	Apply Verdict = iota
	// Hold: the router keeps it and hands it back (Ready) once its version
	// is the one applied here.
	Hold
	// Drop: the fabric left this region (its data is deleted here).
	Drop
)

func (v Verdict) String() string {
	return [...]string{"apply", "hold", "drop"}[v]
}

// Errors.
var (
	// ErrNotMember refuses a publish of a fabric at a region outside its
	// latest list (the error names the list).
	ErrNotMember = errors.New("this region is not in the fabric's region list")
	// ErrUnknownFabric refuses a publish of a fabric this region has not
	// learnt.
	ErrUnknownFabric = errors.New("unknown fabric")
	// ErrLate is an op of a version this region closed: a broken invariant
	// (every op of a version precedes its origin's cut).
	ErrLate = errors.New("op of a closed version")
	// ErrVersionGap is a list version learnt before the one preceding it.
	ErrVersionGap = errors.New("region list version out of order")
)

// NotMemberError is ErrNotMember with the fabric's regions.
type NotMemberError struct {
	Fabric  string
	Regions []string
}

func (e *NotMemberError) Error() string {
	return fmt.Sprintf("fabric %q is served in %s only", e.Fabric, strings.Join(e.Regions, ", "))
}

func (e *NotMemberError) Unwrap() error { return ErrNotMember }

// Cut asks the shell to publish, in Domain, the cut of this region for
// the fabric's version Version (its ops under Version-1 end here).
type Cut struct {
	Tag
	Domain string
}

// Backfill asks the shell to get the fabric's state from a region that
// applies version Version or later (Sources, in order of preference) and
// to call Backfilled when it has applied it.
type Backfill struct {
	Tag
	Sources []string
}

// Actions is what the router asks of the shell since the last Actions.
type Actions struct {
	// StartDomains are the causal domains this region must run (it may
	// run them already).
	StartDomains []string
	Cuts         []Cut
	// Deletes are fabrics this region left: stop serving them and delete
	// their data.
	Deletes []string
	// Deleted are deletions complete: nothing of the fabric can reach
	// this region any more (Version is the list that removed it).
	Deleted   []Tag
	Backfills []Backfill
}

// IsEmpty reports whether there is nothing to do.
func (a Actions) IsEmpty() bool {
	return len(a.StartDomains)+len(a.Cuts)+len(a.Deletes)+len(a.Deleted)+len(a.Backfills) == 0
}

// Router is one region's view of every fabric's membership: it tags
// publishes, says what to do with each delivered op, holds ops across a
// change, and asks for cuts, domains, deletions and backfills. T is the
// shell's op. Not safe for concurrent use.
type Router[T any] struct {
	self    string
	fabrics map[string]*fabricState[T]
	actions Actions
	ready   []T
}

type heldOp[T any] struct {
	version uint64
	op      T
}

type fabricState[T any] struct {
	hist []Membership
	// current is the version whose ops are applied here (0: none: not a
	// member, or waiting for a backfill).
	current uint64
	// dropBelow: ops of earlier versions are dropped (the fabric left this
	// region at that version).
	dropBelow uint64
	// cuts[v] are the regions whose cut for v was delivered here.
	cuts map[uint64]map[string]bool
	held []heldOp[T]
	// backfill is the version waiting for a backfill (0: none).
	backfill uint64
	// deleting is the version that removed this region, while its
	// predecessor is not closed here (0: none).
	deleting uint64
}

// NewRouter returns the router of region self.
func NewRouter[T any](self string) *Router[T] {
	return &Router[T]{self: self, fabrics: make(map[string]*fabricState[T])}
}

func (r *Router[T]) state(fabric string) *fabricState[T] {
	st := r.fabrics[fabric]
	if st == nil {
		st = &fabricState[T]{cuts: make(map[uint64]map[string]bool)}
		r.fabrics[fabric] = st
	}
	return st
}

// Learn applies a version of a fabric's list, in order (an older one is
// ignored).
func (r *Router[T]) Learn(m Membership) error {
	st := r.state(m.Fabric)
	n := uint64(len(st.hist))
	switch {
	case m.Version <= n:
		return nil
	case m.Version != n+1:
		return fmt.Errorf("fabric %q: version %d after %d: %w", m.Fabric, m.Version, n, ErrVersionGap)
	case len(m.Regions) == 0:
		return fmt.Errorf("fabric %q version %d: %w", m.Fabric, m.Version, ErrEmptyList)
	}
	m.Regions = slices.Clone(m.Regions)
	st.hist = append(st.hist, m)
	in := m.Has(r.self)
	if in {
		r.actions.StartDomains = append(r.actions.StartDomains, m.Domain())
	}
	if m.Version == 1 {
		if in {
			st.current = 1
			r.release(st)
		}
		return nil
	}
	prev := st.hist[m.Version-2]
	wasIn := prev.Has(r.self)
	tag := Tag{Fabric: m.Fabric, Version: m.Version}
	if wasIn {
		r.actions.Cuts = append(r.actions.Cuts, Cut{Tag: tag, Domain: prev.Domain()})
	}
	switch {
	case wasIn && !in:
		// A backfill asked for in the same Actions is moot: the shell
		// must not apply it after the deletion.
		r.actions.Backfills = slices.DeleteFunc(r.actions.Backfills, func(b Backfill) bool { return b.Fabric == m.Fabric })
		r.actions.Deletes = append(r.actions.Deletes, m.Fabric)
		st.current, st.backfill, st.held = 0, 0, nil
		st.dropBelow, st.deleting = m.Version, m.Version
		r.checkDeleted(m.Fabric, st)
	case !wasIn && in:
		st.backfill = m.Version
		var sources []string
		for _, s := range m.Regions {
			if s != r.self && prev.Has(s) {
				sources = append(sources, s)
			}
		}
		r.actions.Backfills = append(r.actions.Backfills, Backfill{Tag: tag, Sources: sources})
	}
	r.close(st)
	return nil
}

// Deliver says what to do with a delivered op of tag (Hold keeps op).
func (r *Router[T]) Deliver(tag Tag, op T) (Verdict, error) {
	st := r.state(tag.Fabric)
	v := tag.Version
	switch {
	case v < st.dropBelow:
		return Drop, nil
	case st.current != 0 && v == st.current:
		return Apply, nil
	case st.current != 0 && v < st.current:
		return Drop, fmt.Errorf("fabric %q: op of version %d at version %d: %w", tag.Fabric, v, st.current, ErrLate)
	}
	st.held = append(st.held, heldOp[T]{version: v, op: op})
	return Hold, nil
}

// DeliverCut records the cut of region for tag, delivered here.
func (r *Router[T]) DeliverCut(tag Tag, region string) {
	st := r.state(tag.Fabric)
	if st.cuts[tag.Version] == nil {
		st.cuts[tag.Version] = make(map[string]bool)
	}
	st.cuts[tag.Version][region] = true
	r.close(st)
	r.checkDeleted(tag.Fabric, st)
}

// Backfilled says the shell applied a backfill for tag (from a region
// applying that version or a later one). The shell applies a backfill
// only while Status(fabric).Backfill is its version: one that comes after
// the region left the fabric is dropped.
func (r *Router[T]) Backfilled(tag Tag) {
	st := r.state(tag.Fabric)
	if st.backfill != tag.Version {
		return
	}
	st.backfill, st.current = 0, tag.Version
	r.release(st)
	r.close(st)
}

// closed reports whether every member of version v-1 cut before v here.
func (st *fabricState[T]) closed(v uint64) bool {
	if v < 2 || uint64(len(st.hist)) < v {
		return false
	}
	for _, m := range st.hist[v-2].Regions {
		if !st.cuts[v][m] {
			return false
		}
	}
	return true
}

// close moves current past every closed version.
func (r *Router[T]) close(st *fabricState[T]) {
	for st.current != 0 && st.closed(st.current+1) {
		// A region removed at current+1 has current 0 already: the next
		// version keeps it.
		st.current++
		r.release(st)
	}
}

// checkDeleted reports a deletion complete once the removing version's
// predecessor is closed.
func (r *Router[T]) checkDeleted(fabric string, st *fabricState[T]) {
	if st.deleting != 0 && st.closed(st.deleting) {
		r.actions.Deleted = append(r.actions.Deleted, Tag{Fabric: fabric, Version: st.deleting})
		st.deleting = 0
	}
}

// release moves the held ops of the current version to ready, in order.
func (r *Router[T]) release(st *fabricState[T]) {
	kept := st.held[:0]
	for _, h := range st.held {
		if h.version == st.current {
			r.ready = append(r.ready, h.op)
		} else {
			kept = append(kept, h)
		}
	}
	clear(st.held[len(kept):])
	st.held = kept
}

// Ready returns the held ops to apply now, in order, and forgets them.
func (r *Router[T]) Ready() []T {
	out := r.ready
	r.ready = nil
	return out
}

// Actions returns what the shell must do, and forgets it.
func (r *Router[T]) Actions() Actions {
	a := r.actions
	r.actions = Actions{}
	return a
}

// PublishTag tags a publish of fabric here: its latest version, and the
// domain the op goes to.
func (r *Router[T]) PublishTag(fabric string) (Tag, string, error) {
	st := r.fabrics[fabric]
	if st == nil || len(st.hist) == 0 {
		return Tag{}, "", fmt.Errorf("fabric %q: %w", fabric, ErrUnknownFabric)
	}
	m := st.hist[len(st.hist)-1]
	if !m.Has(r.self) {
		return Tag{}, "", &NotMemberError{Fabric: fabric, Regions: slices.Clone(m.Regions)}
	}
	return Tag{Fabric: fabric, Version: m.Version}, m.Domain(), nil
}

// Latest is the latest version of fabric learnt here.
func (r *Router[T]) Latest(fabric string) (Membership, bool) {
	st := r.fabrics[fabric]
	if st == nil || len(st.hist) == 0 {
		return Membership{}, false
	}
	return st.hist[len(st.hist)-1], true
}

// Status is a fabric's state at this region.
type Status struct {
	// Latest is the latest version learnt, Applying the version whose ops
	// are applied here (0: none).
	Latest, Applying uint64
	// Held counts ops waiting for their version.
	Held int
	// Backfill is the version waiting for a backfill, Deleting the version
	// that removed this region while its deletion is not complete (0:
	// none).
	Backfill, Deleting uint64
}

// Status reports fabric's state here.
func (r *Router[T]) Status(fabric string) Status {
	st := r.fabrics[fabric]
	if st == nil {
		return Status{}
	}
	return Status{Latest: uint64(len(st.hist)), Applying: st.current, Held: len(st.held),
		Backfill: st.backfill, Deleting: st.deleting}
}
