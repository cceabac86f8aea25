package service

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/collections/store"
)

// The loop of a node of a region of several nodes: it serves (opens) the
// collections of the catalog whose op log this node leads, closes those it
// no longer leads, reopens one whose op log or change feed changed hands
// or whose writes failed, and deletes the views of collections the
// catalog no longer holds.

// Timing of the loop.
const (
	// clusterPoll is how often the loop looks again without a signal: the
	// broker applies a change of leader on its own goroutine, after the
	// region's signal.
	clusterPoll = 250 * time.Millisecond
	// clusterMinInterval spaces the passes (each reads the catalog): every
	// entry of the region's metadata (heartbeats, cursor saves) is a
	// signal.
	clusterMinInterval = 100 * time.Millisecond
)

// barrierProperty marks the barrier a new leader appends to an op log
// (openInCluster); replay skips it.
const barrierProperty = "_collections.barrier"

// clusterLoop runs until the service closes.
func (s *Service) clusterLoop() {
	defer s.wg.Done()
	poll := time.NewTimer(clusterPoll)
	defer poll.Stop()
	for {
		changed := s.cluster.Changed()
		s.reconcileCluster()
		poll.Reset(clusterPoll)
		select {
		case <-s.stop:
			return
		case <-changed:
		case <-s.kick:
		case <-poll.C:
		}
		select {
		case <-s.stop:
			return
		case <-time.After(clusterMinInterval):
		}
	}
}

// kickCluster asks the loop for a pass now.
func (s *Service) kickCluster() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// leadership is what the broker says of a collection's two streams here.
type leadership struct {
	ops, feed bool // this node leads the op log, the change feed
}

func (s *Service) leadershipOf(ref Ref) leadership {
	var l leadership
	if st, err := s.node.Stream(opLogName(ref)); err == nil {
		_, l.ops = st.Leader()
	}
	if st, err := s.node.Stream(changeFeedName(ref)); err == nil {
		_, l.feed = st.Leader()
	}
	return l
}

// stale reports why a served collection must be reopened ("" when it
// need not): its writes failed, its op log's producer was fenced, or its
// change feed came here or went away.
func (c *collection) stale(feedHere bool) string {
	switch {
	case c.failed.Load() != nil:
		return "its writes failed"
	case fenced(c.ops):
		return "its op log moved"
	case c.chg == nil && feedHere:
		return "its change feed is led here now"
	case c.chg != nil && fenced(c.chg):
		return "its change feed moved"
	}
	return ""
}

func fenced(p *broker.Producer) bool {
	select {
	case <-p.Fenced():
		return true
	default:
		return false
	}
}

// reconcileCluster is one pass of the loop.
func (s *Service) reconcileCluster() {
	entries, err := s.catalogScan(catalogPrefix)
	if err != nil {
		s.rate.Warn(s.log, "catalog", "reading the region's catalog of collections", zap.Error(err))
		return
	}
	want := make(map[Ref]store.CollectionInfo, len(entries))
	lead := make(map[Ref]leadership, len(entries))
	for _, info := range entries {
		ref := Ref{Tenant: info.Tenant, Fabric: info.Fabric, Collection: info.Name}
		want[ref] = info
		lead[ref] = s.leadershipOf(ref)
	}
	var opens []store.CollectionInfo
	var closes []*collection
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	for ref, info := range want {
		if s.busy[ref] {
			continue
		}
		c := s.cols[ref]
		l := lead[ref]
		switch {
		case c == nil && l.ops:
			opens = append(opens, info)
			s.busy[ref] = true
		case c == nil:
		case !l.ops, c.info.Load().ID != info.ID:
			closes = append(closes, c)
		default:
			if why := c.stale(l.feed); why != "" {
				c.log.Info("reopening the collection", zap.String("why", why))
				closes = append(closes, c)
			}
		}
	}
	for ref, c := range s.cols {
		if _, ok := want[ref]; !ok {
			closes = append(closes, c)
		}
	}
	for _, c := range closes {
		delete(s.cols, c.ref)
		s.busy[c.ref] = true
	}
	if len(closes) > 0 {
		s.notifyServedLocked()
	}
	s.mu.Unlock()
	for _, c := range closes {
		s.wg.Add(1)
		go s.closeServed(c)
	}
	s.dropStaleViews(want)
	for _, info := range opens {
		s.wg.Add(1)
		go s.openServed(info)
	}
}

// notifyServedLocked wakes the requests waiting for a collection to open.
// Callers hold s.mu.
func (s *Service) notifyServedLocked() {
	close(s.served)
	s.served = make(chan struct{})
}

// closeServed stops serving a collection here (its writes in flight end
// first); its view stays for when this node leads it again.
func (s *Service) closeServed(c *collection) {
	defer s.wg.Done()
	c.close()
	c.log.Info("collection no longer served here")
	s.mu.Lock()
	delete(s.busy, c.ref)
	s.mu.Unlock()
	s.kickCluster()
}

// openServed opens a collection whose op log this node leads and serves
// it; on failure the loop tries again at a later pass.
func (s *Service) openServed(info store.CollectionInfo) {
	defer s.wg.Done()
	ref := Ref{Tenant: info.Tenant, Fabric: info.Fabric, Collection: info.Name}
	start := time.Now()
	c, err := s.openInCluster(info)
	s.mu.Lock()
	delete(s.busy, ref)
	closed := s.closed
	if err == nil && !closed {
		s.cols[ref] = c
		s.notifyServedLocked()
		// Under mu: AttachReplication starts the shippers of s.cols.
		if r := s.replication(); r != nil {
			c.ship.start(r)
		}
	}
	s.mu.Unlock()
	switch {
	case err != nil:
		s.rate.Warn(s.log, "open "+ref.String(), "opening a collection this node leads", zap.Stringer("collection", ref), zap.Error(err))
	case closed:
		c.close()
	default:
		c.log.Info("serving the collection", zap.Duration("opened in", time.Since(start)), zap.Bool("changeFeed", c.chg != nil))
	}
}

// openInCluster opens a collection as the leader of its op log: its
// description here follows the catalog's (an earlier collection's view of
// the same name is dropped, indexes are built or dropped), a barrier
// appended to the op log makes everything before it acknowledged, and the
// view replays the log up to it.
func (s *Service) openInCluster(info store.CollectionInfo) (*collection, error) {
	local, err := s.localView(info)
	if err != nil {
		return nil, err
	}
	c, err := s.attachInCluster(local)
	if err != nil {
		return nil, err
	}
	s.seq.Forget(c.ref)
	res := c.ops.Publish([]broker.Message{{Properties: map[string]string{barrierProperty: "1"}, SequenceID: -1}})
	if err := res[0].Err; err != nil {
		c.close()
		return nil, fmt.Errorf("%w: barrier in the op log of %s: %w", ErrUnavailable, c.ref, err)
	}
	c.mu.Lock()
	err = c.recover()
	c.mu.Unlock()
	if err != nil {
		c.close()
		return nil, err
	}
	// Everything up to the barrier is acknowledged and in the view: the
	// shipper (geo-replication) may ship it.
	c.ship.advance(c.opsStream.Source().EndOffset())
	return c, nil
}

// localView returns this node's description of the collection, made to
// follow the catalog's.
func (s *Service) localView(want store.CollectionInfo) (store.CollectionInfo, error) {
	infos, err := s.store.Collections()
	if err != nil {
		return store.CollectionInfo{}, err
	}
	var local *store.CollectionInfo
	for i := range infos {
		in := &infos[i]
		if in.Tenant == want.Tenant && in.Fabric == want.Fabric && in.Name == want.Name {
			local = in
		}
	}
	if local != nil && local.ID != want.ID {
		s.log.Info("dropping the view of an earlier collection of the same name", zap.String("collection", want.Name), zap.Uint64("id", local.ID))
		if err := s.store.DropCollection(*local); err != nil {
			return store.CollectionInfo{}, err
		}
		local = nil
	}
	if local == nil {
		fresh := want
		fresh.Indexes = nil
		if err := s.store.CreateCollection(fresh, 0); err != nil {
			return store.CollectionInfo{}, err
		}
		local = &fresh
	}
	// Indexes: build those the catalog has and the view lacks, drop the
	// others.
	has := map[uint32]bool{}
	var kept []store.IndexInfo
	for _, ix := range local.Indexes {
		if containsIndex(want.Indexes, ix) {
			has[ix.ID] = true
			kept = append(kept, ix)
			continue
		}
		if err := s.store.DropIndex(local, ix); err != nil {
			return store.CollectionInfo{}, err
		}
	}
	next := want
	next.Indexes = kept
	for _, ix := range want.Indexes {
		if has[ix.ID] {
			continue
		}
		if err := s.store.BuildIndex(&next, ix); err != nil {
			return store.CollectionInfo{}, err
		}
		next.Indexes = append(next.Indexes, ix)
	}
	next.Indexes = want.Indexes // the catalog's order
	if err := s.store.UpdateCollection(next); err != nil {
		return store.CollectionInfo{}, err
	}
	return next, nil
}

func containsIndex(list []store.IndexInfo, ix store.IndexInfo) bool {
	for _, x := range list {
		if x.ID == ix.ID && x.Field == ix.Field {
			return true
		}
	}
	return false
}

// attachInCluster attaches the producers of a collection this node leads:
// its op log's, and its change feed's when this node leads that too
// (otherwise the feed waits: see publishChanges).
func (s *Service) attachInCluster(info store.CollectionInfo) (*collection, error) {
	ref := Ref{Tenant: info.Tenant, Fabric: info.Fabric, Collection: info.Name}
	c := &collection{svc: s, ref: ref, log: s.log.With(zap.Stringer("collection", ref)), overlay: map[string]*overlayEntry{}}
	c.ship = newShipper(c)
	c.info.Store(&info)
	var err error
	if c.opsStream, err = s.node.Stream(opLogName(ref)); err != nil {
		return nil, fmt.Errorf("%w: op log of %s: %w", ErrUnavailable, ref, err)
	}
	if c.ops, err = c.opsStream.AttachInternalProducer(opsProducer, -1); err != nil {
		return nil, fmt.Errorf("%w: attach to the op log of %s: %w", ErrUnavailable, ref, err)
	}
	if c.chgStream, err = s.node.Stream(changeFeedName(ref)); err == nil {
		if _, local := c.chgStream.Leader(); local {
			c.chg, err = c.chgStream.AttachInternalProducer(changesProducer, -1)
			if err != nil && !errors.Is(err, broker.ErrNotOwner) {
				c.log.Warn("attach to the change feed", zap.Error(err))
			}
		}
	}
	return c, nil
}

// dropStaleViews deletes this node's views of collections the catalog no
// longer holds (or holds under another id) and that no pass is opening.
func (s *Service) dropStaleViews(want map[Ref]store.CollectionInfo) {
	infos, err := s.store.Collections()
	if err != nil {
		s.rate.Warn(s.log, "views", "listing the collections' views", zap.Error(err))
		return
	}
	for _, info := range infos {
		ref := Ref{Tenant: info.Tenant, Fabric: info.Fabric, Collection: info.Name}
		if w, ok := want[ref]; !info.Catalog || (ok && w.ID == info.ID) {
			continue
		}
		s.mu.RLock()
		_, served := s.cols[ref]
		busy := s.busy[ref]
		s.mu.RUnlock()
		if served || busy {
			continue
		}
		if err := s.store.DropCollection(info); err != nil {
			s.rate.Warn(s.log, "drop "+ref.String(), "deleting the view of a dropped collection", zap.Error(err))
			continue
		}
		s.seq.Forget(ref)
		s.log.Info("view of a dropped collection deleted", zap.Stringer("collection", ref), zap.Uint64("id", info.ID))
	}
}

// awaitServed returns a collection this node should serve once it is open:
// a request that reached the leader of the op log while the collection
// opens (or before the loop saw the lead) waits for it.
func (s *Service) awaitServed(ref Ref) (*collection, error) {
	if err := s.Locate(ref); err != nil {
		return nil, err
	}
	info, found, err := s.catalogEntry(ref)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: %s", ErrCollectionNotFound, ref.Collection)
	}
	deadline := time.NewTimer(clusterOpenWait)
	defer deadline.Stop()
	for {
		s.mu.RLock()
		c, closed, served := s.cols[ref], s.closed, s.served
		s.mu.RUnlock()
		if closed {
			return nil, fmt.Errorf("%w: shutting down", ErrUnavailable)
		}
		if c != nil && c.info.Load().ID == info.ID {
			return c, nil
		}
		if err := s.Locate(ref); err != nil {
			return nil, err
		}
		s.kickCluster()
		select {
		case <-served:
		case <-time.After(clusterPoll):
		case <-deadline.C:
			return nil, fmt.Errorf("%w: %s is not open on this node after %s (it leads its op log, or is about to); retry", ErrUnavailable, ref, clusterOpenWait)
		case <-s.stop:
			return nil, fmt.Errorf("%w: shutting down", ErrUnavailable)
		}
	}
}
