package streamworkers

import (
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections/service"
	"github.com/causeway/causeway/internal/pebblekv"
)

// Runner runs the stream workers of this node's region (package doc:
// where a worker runs), serves their HTTP API and reports their metrics.
type Runner struct {
	node   *broker.Node
	cols   *service.Service
	opts   Options
	log    *zap.Logger
	region string
	db     *pebblekv.DB
	cps    checkpoints
	defs   definitions

	mu      sync.Mutex
	workers map[workerID]*worker
	// checked are the fabrics whose stale checkpoints (of deleted workers)
	// were looked for since the start.
	checked map[[2]string]bool
	closed  bool

	wake chan struct{} // poke: read the definitions now
	stop chan struct{}
	done chan struct{}
}

// Open opens the checkpoint store; Start starts the runner.
func Open(node *broker.Node, cols *service.Service, log *zap.Logger, opts Options) (*Runner, error) {
	if log == nil {
		log = zap.NewNop()
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	db, err := pebblekv.Open(opts.Dir, pebblekv.Options{Name: "streamworkers", Pebble: opts.Pebble, Logger: log, ReserveBytes: opts.ReserveBytes})
	if err != nil {
		return nil, fmt.Errorf("streamworkers: opening the checkpoint store %s: %w", opts.Dir, err)
	}
	return &Runner{
		node: node, cols: cols, opts: opts, log: log.Named("streamworkers"), region: node.Config().Region,
		db: db, cps: checkpoints{db: db}, defs: definitions{cols: cols},
		workers: map[workerID]*worker{}, checked: map[[2]string]bool{},
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}, nil
}

// Start runs the loop that follows the definitions.
func (r *Runner) Start() {
	go r.loop()
}

// Close stops every worker (each finishes its step: what it committed is
// sent now or after the restart) and closes the checkpoint store.
func (r *Runner) Close() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	close(r.stop)
	<-r.done
	r.mu.Lock()
	ws := r.workers
	r.workers = map[workerID]*worker{}
	r.mu.Unlock()
	for _, w := range ws {
		w.halt()
	}
	return r.db.Close()
}

// abandon stops the loop and the workers as a crash would (tests): the
// checkpoint store is left open, unflushed.
func (r *Runner) abandon() {
	r.mu.Lock()
	r.closed = true
	ws := r.workers
	r.workers = map[workerID]*worker{}
	r.mu.Unlock()
	close(r.stop)
	<-r.done
	for _, w := range ws {
		w.halt()
	}
}

func (w *worker) halt() {
	close(w.stop)
	<-w.done
}

func (r *Runner) loop() {
	defer close(r.done)
	t := time.NewTicker(r.opts.PollInterval)
	defer t.Stop()
	for {
		r.reconcile()
		select {
		case <-r.stop:
			return
		case <-t.C:
		case <-r.wake:
		}
	}
}

// poke makes the loop read the definitions now (one changed here).
func (r *Runner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// reconcile starts the workers this node should run and stops the others.
func (r *Runner) reconcile() {
	want := map[workerID]Definition{}
	listed := map[[2]string]bool{}
	exists := map[workerID]bool{} // in a listed fabric, active or not
	for _, tenant := range r.node.Tenants() {
		for _, fi := range r.node.Fabrics(tenant) {
			ref := defsRef(tenant, fi.Name)
			if !r.hasDefinitions(tenant, fi.Name) {
				continue // cheap: no catalog read
			}
			if r.cols.Locate(ref) != nil {
				continue // another node of the region serves the definitions
			}
			if _, err := r.cols.Collection(ref); err != nil {
				continue
			}
			defs, err := r.defs.list(tenant, fi.Name)
			if err != nil {
				r.log.Warn("stream workers: reading definitions", zap.String("tenant", tenant), zap.String("fabric", fi.Name), zap.Error(err))
				continue
			}
			key := [2]string{tenant, fi.Name}
			listed[key] = true
			names := map[string]bool{}
			for _, d := range defs {
				names[d.Name] = true
				exists[workerID{Tenant: tenant, Fabric: fi.Name, Name: d.Name}] = true
				if d.RunsIn(r.region) {
					want[workerID{Tenant: tenant, Fabric: fi.Name, Name: d.Name}] = d
				}
			}
			r.dropStale(key, names)
		}
	}
	// Stopping a worker waits for its step and its rows in flight: not
	// while holding the lock the API's figures need. A worker is stopped
	// before its checkpoint is dropped or its next version starts.
	type stopping struct {
		w       *worker
		deleted bool
	}
	var stops []stopping
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	for id, w := range r.workers {
		d, ok := want[id]
		if ok && d.Version == w.def.Version && d.CreatedAt == w.def.CreatedAt {
			continue
		}
		if !ok && !listed[[2]string{id.Tenant, id.Fabric}] && r.cols.Locate(defsRef(id.Tenant, id.Fabric)) == nil {
			continue // the definitions did not answer: keep it running
		}
		delete(r.workers, id)
		stops = append(stops, stopping{w, listed[[2]string{id.Tenant, id.Fabric}] && !exists[id]})
	}
	r.mu.Unlock()
	for _, s := range stops {
		s.w.halt()
		if s.deleted { // through another region or node
			if err := r.cps.drop(s.w.id); err != nil {
				r.log.Warn("stream workers: dropping a deleted worker's checkpoint", zap.Stringer("worker", s.w.id), zap.Error(err))
			}
			r.log.Info("stream worker deleted", zap.Stringer("worker", s.w.id))
		} else {
			r.log.Info("stream worker stopped here (deactivated, pinned elsewhere, updated or served by another node)", zap.Stringer("worker", s.w.id))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	for id, d := range want {
		if _, running := r.workers[id]; running {
			continue
		}
		w := r.newWorker(id, d)
		r.workers[id] = w
		r.log.Info("stream worker starts", zap.Stringer("worker", id), zap.Int64("version", d.Version))
		go w.run()
	}
	now := r.opts.Now()
	for _, w := range r.workers {
		w.stats.sample(now)
	}
}

// hasDefinitions reports whether the fabric has a _streamapps collection
// (its op log exists on this node).
func (r *Runner) hasDefinitions(tenant, fabric string) bool {
	oplog := naming.Stream{Persistent: true, Tenant: tenant, Fabric: fabric, Name: service.OpLogStream(SystemCollection)}
	_, err := r.node.Stream(oplog)
	return err == nil
}

// dropStale deletes the checkpoints of a fabric's workers that no longer
// exist (deleted through this region or another): at every deletion the
// HTTP API sees, and once per fabric after a start.
func (r *Runner) dropStale(fabric [2]string, names map[string]bool) {
	r.mu.Lock()
	done := r.checked[fabric]
	r.checked[fabric] = true
	r.mu.Unlock()
	if done {
		return
	}
	ids, err := r.cps.ids()
	if err != nil {
		r.log.Warn("stream workers: listing checkpoints", zap.Error(err))
		return
	}
	for _, id := range ids {
		if id.Tenant == fabric[0] && id.Fabric == fabric[1] && !names[id.Name] {
			r.forget(id)
		}
	}
}

// forget stops a deleted worker and drops its checkpoint.
func (r *Runner) forget(id workerID) {
	r.mu.Lock()
	w := r.workers[id]
	delete(r.workers, id)
	r.mu.Unlock()
	if w != nil {
		w.halt()
	}
	if err := r.cps.drop(id); err != nil {
		r.log.Warn("stream workers: dropping a deleted worker's checkpoint", zap.Stringer("worker", id), zap.Error(err))
	}
}

// stats returns a running worker's figures (found: it runs on this node).
func (r *Runner) stats(id workerID) (Stats, bool) {
	r.mu.Lock()
	w := r.workers[id]
	r.mu.Unlock()
	if w == nil {
		return Stats{}, false
	}
	return w.stats.snapshot(r.region), true
}

// running returns the workers this node runs.
func (r *Runner) running() map[workerID]*workerStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[workerID]*workerStats, len(r.workers))
	for id, w := range r.workers {
		out[id] = w.stats
	}
	return out
}

// catalog is what exists in a fabric, for compiling its queries.
func (r *Runner) catalog(tenant, fabric string) catalog {
	return catalog{node: r.node, cols: r.cols, tenant: tenant, fabric: fabric}
}

type catalog struct {
	node           *broker.Node
	cols           *service.Service
	tenant, fabric string
}

func (c catalog) StreamExists(name string) bool {
	if naming.Validate("stream", name) != nil {
		return false
	}
	_, err := c.node.Stream(naming.Stream{Persistent: true, Tenant: c.tenant, Fabric: c.fabric, Name: name})
	return err == nil
}

func (c catalog) CollectionExists(name string) bool {
	_, err := c.cols.Collection(service.Ref{Tenant: c.tenant, Fabric: c.fabric, Collection: name})
	return err == nil
}
