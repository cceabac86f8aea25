package sim

import (
	"fmt"
	"time"

	"github.com/causeway/causeway/replicator"
)

// maxBatchBytes is the simulated shell's cut for wire batches (small, to
// exercise splitting).
const maxBatchBytes = 4096

// producer is a client publishing with increasing sequence ids.
type producer struct {
	name string
	next int64
	// With nodes: the shell the client is connected to and its publishes
	// not acknowledged yet; on reconnecting elsewhere it sends them again,
	// in order, under the same ids.
	at      *shell
	pending []*pub
}

// region is one simulated region. In the default mode it is one node: an
// engine and its in-memory shell, whose journals, dedup table and
// checker mirror are durable (the engine is rebuilt on restart). With
// Options.Nodes it is a cluster of nodes (cluster, nodes.go) replicating
// the region's journal; the unit's leader runs the engine.
type region struct {
	w         *world
	idx       int
	name      string
	up        bool
	downUntil time.Time

	// sh is the region's shell in the default mode (nil with nodes).
	sh *shell
	// cl is the region's cluster with nodes (nil in the default mode).
	cl *cluster

	producers []*producer
	reply     *producer
	// beforeWipe is what the region had delivered when it lost its disk
	// (the maximum over its wipes).
	beforeWipe replicator.Vector
}

func newRegion(w *world, idx int, name string) (*region, error) {
	r := &region{
		w: w, idx: idx, name: name, up: true,
		reply: &producer{name: name + "-reply", next: 1},
	}
	for i := range 2 {
		r.producers = append(r.producers, &producer{name: fmt.Sprintf("%s-p%d", name, i), next: 1})
	}
	if w.opts.Nodes > 1 {
		cl, err := newCluster(r, w.opts.Nodes)
		if err != nil {
			return nil, err
		}
		r.cl = cl
		return r, nil
	}
	sh, err := newShell(r, nil)
	if err != nil {
		return nil, err
	}
	cfg := w.cfg
	cfg.Self = name
	if sh.engine, err = replicator.New(cfg, replicator.Restore{}); err != nil {
		return nil, err
	}
	r.sh = sh
	return r, nil
}

// view is the shell whose delivered state is the region's: the only one in
// the default mode, the journal leader's with nodes (nil while none).
func (r *region) view() *shell {
	if r.cl != nil {
		return r.cl.primary()
	}
	if !r.up {
		return nil
	}
	return r.sh
}

// shells are the running engines of the region: with nodes, a deposed
// leader that has not learnt it yet runs beside its successor.
func (r *region) shells() []*shell {
	if r.cl != nil {
		return r.cl.running()
	}
	if !r.up {
		return nil
	}
	return []*shell{r.sh}
}

// holds is, per origin, how many ops the region holds anywhere (on any
// node's disk, committed or not).
func (r *region) holds() replicator.Vector {
	if r.cl != nil {
		return r.cl.holds()
	}
	return r.sh.count
}

// has is, per origin, how many ops the region holds durably: with nodes,
// what its journal committed.
func (r *region) has() replicator.Vector {
	if r.cl != nil {
		return r.cl.committedCount
	}
	return r.sh.count
}

// publishTarget is where a client of the region publishes: the journal
// leader's shell, or with none a deposed one still running.
func (r *region) publishTarget() *shell {
	if v := r.view(); v != nil {
		return v
	}
	if s := r.shells(); len(s) > 0 {
		return s[r.w.rng.IntN(len(s))]
	}
	return nil
}

// receiver is the shell a message from another region reaches: with nodes,
// senders with a stale view of the region still reach a deposed leader.
func (r *region) receiver() *shell {
	s := r.shells()
	switch {
	case len(s) == 0:
		return nil
	case len(s) == 1:
		return s[0]
	}
	if v := r.view(); v != nil && r.w.rng.IntN(2) == 0 {
		return v
	}
	return s[r.w.rng.IntN(len(s))]
}
