package service

import (
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/replicator/shell"
)

// Batches of replicated payloads. A region catching up applies remote ops
// in long runs; applied one by one, each op waits for its own op-log append
// and fsync. A batch instead stages the consecutive document ops of each
// collection into one entry (one op-log append, like a local write of many
// documents), publishes every collection's entry, and waits once. Metadata
// events other than acks cut the run: the entries before one are durable
// and in the view before it applies (an index creation reads the view, a
// drop waits for the collection's writes). Acks only raise what their
// origin is known to have applied, so they stay in the run, in order with
// their collection's ops.
//
// Within one collection the ops are staged in delivery order, each over
// the states the earlier ones left (the entry's local overlay, as in a
// write), with the same checks, Observe and Learn as one by one, so every
// document, conflict and per-item result is what applying the payloads one
// after another gives. Across collections the entries become visible in
// the order their op logs commit them.

// ApplyReplicatedBatch is the shell's batch apply function for
// ReplicationKind (shell.BatchApplyFunc): it applies consecutive payloads
// in order and returns, for each, what ApplyReplicated returns for it.
// Payloads the replicated vector covers (a snapshot the view was loaded
// from, or applied before) are skipped; the vector is saved once per batch.
//
// In a region of several nodes an op may find its collection not served
// here for a moment (it opens after the lead moved here, or another node
// leads its op log): the op and every later one of the batch are answered
// shell.ErrApplyLater, are not recorded as applied, and the shell applies
// them again from its journal.
func (s *Service) ApplyReplicatedBatch(items []shell.KindItem) []error {
	errs := make([]error, len(items))
	s.replMu.Lock()
	defer s.replMu.Unlock()
	b := replBatch{s: s, errs: errs, run: map[Ref][]replItem{}}
	advanced := false
	for i, it := range items {
		if b.later != nil {
			errs[i] = b.later
			continue
		}
		p, err := decodeReplPayload(it.Payload)
		if err != nil {
			errs[i] = err
			continue
		}
		if !s.servesPayload(p) {
			// A fabric whose list left this region: its data is deleted
			// here and nothing of it is applied again (README
			// "Geo-fabrics").
			continue
		}
		key := replKey(it)
		if it.Seq <= s.replApplied[key] {
			continue // in the view already
		}
		s.replApplied[key] = it.Seq
		advanced = true
		b.add(i, it.Origin, it.Seq, p)
	}
	b.flush()
	if b.later != nil {
		// Not applied: the shell delivers them again.
		for i, it := range items {
			if key := replKey(it); errors.Is(errs[i], shell.ErrApplyLater) && it.Seq <= s.replApplied[key] {
				s.replApplied[key] = it.Seq - 1
			}
		}
	}
	if advanced {
		if err := s.store.SetReplApplied(s.replApplied, false); err != nil {
			s.log.Warn("save replicated vector", zap.Error(err))
		}
	}
	return errs
}

// servesPayload reports whether this region serves the payload's fabric
// (every region does, unless the fabric is pinned to a list without it).
func (s *Service) servesPayload(p replPayload) bool {
	tenant, fabric := p.Tenant, p.Fabric
	if p.Meta != nil {
		tenant, fabric = p.Meta.Tenant, p.Meta.Fabric
	}
	return s.node.FabricServedHere(tenant, fabric) == nil
}

// replKey is an item's entry in the replicated vector: its origin in the
// node's domain, origin@domain in a pinned fabric's (each domain numbers
// an origin's ops from 1).
func replKey(it shell.KindItem) string {
	if it.Domain == "" {
		return it.Origin
	}
	return it.Origin + "@" + it.Domain
}

// replBatch is a batch being applied: the run of document ops and acks
// since the last other metadata event, per collection.
type replBatch struct {
	s    *Service
	errs []error
	refs []Ref // the run's collections in the order they first appear
	run  map[Ref][]replItem
	// later, once set (a region of several nodes), answers every item
	// not applied yet: an earlier one must be applied again first.
	later error
}

// replItem is a decoded payload of a batch: errs[i] is its result.
type replItem struct {
	i      int
	origin string
	p      replPayload
}

// staged is a published entry and the batch items it holds.
type staged struct {
	e     *entry
	items []int
}

func (b *replBatch) add(i int, origin string, seq uint64, p replPayload) {
	ref := Ref{Tenant: p.Tenant, Fabric: p.Fabric}
	switch {
	case p.Op != nil:
		ref.Collection = p.Op.Collection
	case p.Meta.Type == MetaAck:
		ref.Collection = p.Meta.Collection
	default:
		b.flush()
		switch {
		case b.later != nil:
			b.errs[i] = b.later
		case b.s.geoClustered():
			b.errs[i] = b.applyLater(b.s.applyMetaInCluster(origin, seq, p.Meta))
		default:
			b.errs[i] = b.s.applyMeta(origin, p.Meta)
		}
		return
	}
	if _, ok := b.run[ref]; !ok {
		b.refs = append(b.refs, ref)
	}
	b.run[ref] = append(b.run[ref], replItem{i: i, origin: origin, p: p})
}

// flush publishes the run's entries and waits until they are durable.
func (b *replBatch) flush() {
	var waits []staged
	for _, ref := range b.refs {
		waits = b.applyCollection(ref, b.run[ref], waits)
	}
	for _, w := range waits {
		<-w.e.done
		if w.e.err != nil {
			for _, i := range w.items {
				b.errs[i] = w.e.err
			}
		}
	}
	for _, ref := range b.refs {
		for _, it := range b.run[ref] {
			b.errs[it.i] = b.applyLater(b.errs[it.i])
		}
	}
	clear(b.run)
	b.refs = b.refs[:0]
}

// applyLater turns, in a region of several nodes, an error saying the
// collection is not served here now into shell.ErrApplyLater, and makes
// the batch answer every later item so (applyLater in clustergeo.go).
func (b *replBatch) applyLater(err error) error {
	if !b.s.geoClustered() {
		return err
	}
	err = applyLater(err)
	if errors.Is(err, shell.ErrApplyLater) && b.later == nil {
		b.later = fmt.Errorf("%w: an earlier op of the batch was not applied: %w", shell.ErrApplyLater, err)
	}
	return err
}

// applyCollection stages one collection's items of the run, holding its
// write lock, and publishes its entry (entries cut at maxOpsPerRequest
// ops). It returns waits with the published entries.
func (b *replBatch) applyCollection(ref Ref, items []replItem, waits []staged) []staged {
	s := b.s
	var (
		c        *collection
		cerr     error
		resolved bool
		e        *entry
		local    map[string]*overlayEntry
		joined   []int
	)
	publish := func() {
		if e == nil || len(e.ops) == 0 {
			e, local, joined = nil, nil, nil
			return
		}
		if err := c.writable(); err != nil {
			// Failed meanwhile (an earlier entry's op log): nothing staged
			// is published.
			for _, i := range joined {
				b.errs[i] = err
			}
		} else {
			c.publish(e)
			waits = append(waits, staged{e: e, items: joined})
		}
		e, local, joined = nil, nil, nil
	}
	for _, it := range items {
		if it.p.Meta != nil {
			b.errs[it.i] = s.applyMeta(it.origin, it.p.Meta)
			continue
		}
		op := it.p.Op
		if op.Dot.Region != it.origin {
			b.errs[it.i] = fmt.Errorf("%w: op %s shipped by %s", ErrCorruptPayload, op.Dot, it.origin)
			continue
		}
		if err := op.Validate(); err != nil {
			b.errs[it.i] = err
			continue
		}
		if !resolved {
			resolved = true
			if c, cerr = s.collection(ref); cerr == nil {
				c.mu.Lock()
				defer c.mu.Unlock()
			}
		}
		err := cerr
		if err == nil {
			err = c.writable()
		}
		if err != nil && s.geoClustered() {
			// The loop reopens a failed collection: at once, so that the
			// shell's next attempt finds it open.
			s.kickCluster()
		}
		if dropped(err) {
			s.log.Debug("op for a dropped collection ignored", zap.Stringer("collection", ref), zap.Stringer("dot", op.Dot))
			continue
		}
		if err != nil && it.origin == s.region && s.geoClustered() && errors.Is(err, ErrUnavailable) && s.regionJoined() {
			// This region's op, shipped from the op log where it is
			// acknowledged: whichever node serves the collection has it
			// (not so while the region joins after losing every disk:
			// its ops come back from the peers and must be applied).
			continue
		}
		if err == nil {
			if e == nil {
				e, local = c.newEntry(), map[string]*overlayEntry{}
			}
			var in bool
			if in, err = c.stage(e, op, local); in {
				joined = append(joined, it.i)
				if len(e.ops) >= maxOpsPerRequest {
					publish()
				}
			}
		}
		if err != nil {
			b.errs[it.i] = err
			continue
		}
		s.geo.Learn(ref, it.origin, op.Context.Merge(collections.Vector{{Region: op.Dot.Region, Seq: op.Dot.Seq}}))
	}
	publish()
	return waits
}

// dropped reports whether err says the op's collection is gone here: it
// was dropped concurrently with the op, and the drop wins (the op is
// ignored, without error).
func dropped(err error) bool {
	return errors.Is(err, ErrCollectionNotFound) || errors.Is(err, ErrFabricNotFound)
}
