package service

import (
	"fmt"

	"github.com/causeway/causeway/collections"
)

// ApplyRemote applies an op another region made. It is the entry point of
// geo-replication: the replicator calls it for each op it delivers, in
// causal order (every op the op's context covers has been applied here
// before). The op goes down the local write path: appended to the
// collection's op log (so a restart re-applies it like a local one), applied
// to the view, published to the change feed with its origin region. It
// returns once the op is durable and visible. An op applied before, or
// whose document compaction collected below the stable vector, changes
// nothing and returns nil. An invalid op or an unknown collection returns an
// error and changes nothing.
func (s *Service) ApplyRemote(tenant, fabric string, op collections.Op) error {
	return s.applyOp(tenant, fabric, op, false)
}

// applyOp is ApplyRemote; own allows ops of this region (its previous
// life's, recovered from the peers after a wipe).
func (s *Service) applyOp(tenant, fabric string, op collections.Op, own bool) error {
	if err := op.Validate(); err != nil {
		return err
	}
	if op.Dot.Region == s.region && !own {
		return fmt.Errorf("%w: remote op %s carries this region's name", ErrBadRequest, op.Dot)
	}
	c, err := s.collection(Ref{Tenant: tenant, Fabric: fabric, Collection: op.Collection})
	if err != nil {
		return err
	}
	c.mu.Lock()
	if err := c.writable(); err != nil {
		c.mu.Unlock()
		return err
	}
	e := c.newEntry()
	if joined, err := c.stage(e, &op, map[string]*overlayEntry{}); !joined {
		c.mu.Unlock()
		return err
	}
	c.publish(e)
	c.mu.Unlock()
	<-e.done
	return e.err
}

// newEntry returns an empty entry for ops applied to c.
func (c *collection) newEntry() *entry {
	return &entry{info: c.info.Load(), done: make(chan struct{})}
}

// stage applies a validated op made elsewhere to the entry's states
// (local: the states of the documents e already changed, as in a write).
// It reports whether the op joined e: an op c or e applied before, or one
// on a document compaction collected below the stable vector, changes
// nothing (false, nil). Callers hold mu.
func (c *collection) stage(e *entry, op *collections.Op, local map[string]*overlayEntry) (bool, error) {
	if c.applied.Covers(op.Dot) || e.applied.Covers(op.Dot) {
		return false, nil
	}
	cur, err := c.current(op.Key, local)
	if err != nil {
		return false, err
	}
	if cur == nil && c.svc.seq.Stable(c.ref).Covers(op.Dot) {
		return false, nil
	}
	next := collections.NewDoc(op.Collection, op.Key)
	if cur != nil {
		next = cur.Clone()
	}
	if _, err := next.Apply(op); err != nil {
		return false, err
	}
	c.svc.seq.Observe(c.ref, op.Dot, op.HLC)
	e.add(op)
	_, exists := next.JSON()
	dw := &docWrite{key: op.Key, old: cur, change: opChangeName(op.Kind.String(), exists), region: op.Dot.Region, hlc: op.HLC}
	c.finish(e, dw, next, local)
	return true, nil
}
