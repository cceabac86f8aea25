package service

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/collections/store"
)

// maxCollectionNameBytes keeps "_changes." + name within the broker's
// stream names (ArangoDB's classic limit).
const maxCollectionNameBytes = 64

// collection is one running collection: its streams, producers, write lock
// and pending overlay.
type collection struct {
	svc *Service
	ref Ref
	log *zap.Logger

	opsStream, chgStream *broker.Stream
	ops, chg             *broker.Producer

	// mu is the write lock: reading states, sequencing, the overlay and the
	// order of publishes. It is never held while waiting for an fsync.
	mu sync.Mutex
	// info is replaced (under mu) when indexes change; readers load it.
	info    atomic.Pointer[store.CollectionInfo]
	closed  bool               // under mu: dropped or shutting down
	applied collections.Vector // under mu: every op applied or pending (the view's vector once they commit)
	failed  atomic.Pointer[error]
	// feedStuck is set when a change feed publish failed: the feed's
	// position no longer advances until a restart.
	feedStuck atomic.Bool
	pending   sync.WaitGroup // entries published whose change events are not yet durable

	// ovMu guards overlay: the newest state of documents whose writes are
	// published but not yet committed to the view. The op-log callback
	// takes it, so it is never held while publishing.
	ovMu    sync.Mutex
	overlay map[string]*overlayEntry

	// ship hands this region's ops to the replicator (multi-region).
	ship *shipper
	// trim is the op-log trimming state (oplogtrim.go).
	trim opLogTrim
}

// overlayEntry is a pending state; doc nil means "no state" (collected).
type overlayEntry struct {
	doc *collections.Doc
}

// CollectionSpec is what creating a collection takes.
type CollectionSpec struct {
	Name string
	// Type is store.TypeDocument (default) or store.TypeEdge.
	Type int
	// KeyValue makes a key/value collection; TTLSeconds is then the default
	// expiry of its entries (0: none).
	KeyValue   bool
	TTLSeconds int64
	// Spot is reserved for SPOT collections (not available yet).
	Spot bool
}

// CreateCollection creates a collection and its streams. In a
// multi-region node the creation is replicated: it is applied in every
// region (this one first) in the replicator's causal order, so ops on the
// collection never reach a region before it.
func (s *Service) CreateCollection(tenant, fabric string, spec CollectionSpec) (store.CollectionInfo, error) {
	if err := s.checkFabric(tenant, fabric); err != nil {
		return store.CollectionInfo{}, err
	}
	spec, err := checkSpec(spec)
	if err != nil {
		return store.CollectionInfo{}, err
	}
	r := s.replication()
	if s.clustered() {
		if r != nil {
			return s.createReplicatedInCluster(r, tenant, fabric, spec)
		}
		return s.createInCluster(tenant, fabric, spec)
	}
	if r == nil {
		return s.createCollection(tenant, fabric, spec, s.opts.Now().UnixMilli(), false)
	}
	ref := Ref{Tenant: tenant, Fabric: fabric, Collection: spec.Name}
	s.mu.Lock()
	_, exists := s.cols[ref]
	if exists || s.creating[ref] {
		s.mu.Unlock()
		return store.CollectionInfo{}, fmt.Errorf("%w: %s", ErrCollectionExists, spec.Name)
	}
	s.creating[ref] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.creating, ref)
		s.mu.Unlock()
	}()
	m := &MetaEvent{Type: MetaCreateCollection, Tenant: tenant, Fabric: fabric, Collection: spec.Name, Spec: &spec, CreatedAt: s.opts.Now().UnixMilli()}
	if err := s.replicateMeta(r, m); err != nil {
		return store.CollectionInfo{}, err
	}
	return s.Collection(ref)
}

// checkSpec validates a collection spec and fills its defaults.
func checkSpec(spec CollectionSpec) (CollectionSpec, error) {
	if err := collections.ValidateCollectionName(spec.Name); err != nil {
		return spec, err
	}
	if len(spec.Name) > maxCollectionNameBytes {
		return spec, fmt.Errorf("%w: collection name of %d bytes, the limit is %d", collections.ErrInvalidName, len(spec.Name), maxCollectionNameBytes)
	}
	switch {
	case spec.Spot:
		return spec, fmt.Errorf("%w: SPOT collections are served only by nodes running SPOT (causeway dev, or serve with --spot-replicas / --spot-regions)", ErrNotImplemented)
	case spec.Type == 0:
		spec.Type = store.TypeDocument
	case spec.Type != store.TypeDocument && spec.Type != store.TypeEdge:
		return spec, fmt.Errorf("%w: collection type %d (want 2 document or 3 edge)", ErrBadRequest, spec.Type)
	}
	if spec.TTLSeconds < 0 || (spec.TTLSeconds > 0 && !spec.KeyValue) {
		return spec, fmt.Errorf("%w: ttl needs a key/value collection and a non-negative number of seconds", ErrBadRequest)
	}
	if spec.KeyValue && spec.Type == store.TypeEdge {
		return spec, fmt.Errorf("%w: a key/value collection cannot be an edge collection", ErrBadRequest)
	}
	return spec, nil
}

// createCollection creates a collection here. A replicated creation
// (replicated set) of an existing collection changes nothing.
func (s *Service) createCollection(tenant, fabric string, spec CollectionSpec, createdAt int64, replicated bool) (store.CollectionInfo, error) {
	spec, err := checkSpec(spec)
	if err != nil {
		return store.CollectionInfo{}, err
	}
	ref := Ref{Tenant: tenant, Fabric: fabric, Collection: spec.Name}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.CollectionInfo{}, fmt.Errorf("%w: shutting down", ErrUnavailable)
	}
	if c, ok := s.cols[ref]; ok {
		if replicated {
			return *c.info.Load(), nil
		}
		return store.CollectionInfo{}, fmt.Errorf("%w: %s", ErrCollectionExists, spec.Name)
	}
	id, err := s.store.AllocateID()
	if err != nil {
		return store.CollectionInfo{}, err
	}
	info := store.CollectionInfo{
		ID: id, Tenant: tenant, Fabric: fabric, Name: spec.Name, Type: spec.Type,
		KeyValue: spec.KeyValue, DefaultTTLSeconds: spec.TTLSeconds,
		CreatedAt: createdAt, NextIndexID: 1,
	}
	c, err := s.attach(info)
	if err != nil {
		return store.CollectionInfo{}, err
	}
	// The streams may hold records of an earlier collection of that name:
	// this one starts after them, and its change-feed sequence ids after
	// the earlier ones.
	opsEnd := c.opsStream.Source().EndOffset()
	if last := c.chg.LastSequenceID(); last >= 0 && uint64(last)+1 > opsEnd {
		info.ChangeSeqBase = uint64(last) + 1 - opsEnd
		c.info.Store(&info)
	}
	if err := s.store.CreateCollection(info, opsEnd); err != nil {
		c.close()
		return store.CollectionInfo{}, err
	}
	s.cols[ref] = c
	c.ship.advance(opsEnd)
	if r := s.replication(); r != nil {
		c.ship.start(r)
	}
	s.log.Info("collection created", zap.Stringer("collection", ref), zap.Uint64("id", id), zap.Bool("keyValue", spec.KeyValue), zap.Bool("replicated", replicated))
	return info, nil
}

// attach opens a collection's streams and producers.
func (s *Service) attach(info store.CollectionInfo) (*collection, error) {
	ref := Ref{Tenant: info.Tenant, Fabric: info.Fabric, Collection: info.Name}
	c := &collection{svc: s, ref: ref, log: s.log.With(zap.Stringer("collection", ref)), overlay: map[string]*overlayEntry{}}
	c.ship = newShipper(c)
	c.info.Store(&info)
	var err error
	if c.opsStream, err = s.stream(info.Tenant, info.Fabric, OpLogStream(info.Name)); err != nil {
		return nil, err
	}
	if c.chgStream, err = s.stream(info.Tenant, info.Fabric, ChangeFeedStream(info.Name)); err != nil {
		return nil, err
	}
	if c.ops, err = c.opsStream.AttachInternalProducer(opsProducer, -1); err != nil {
		return nil, fmt.Errorf("collections: attach to op log of %s: %w", ref, err)
	}
	if c.chg, err = c.chgStream.AttachInternalProducer(changesProducer, -1); err != nil {
		c.ops.Close()
		return nil, fmt.Errorf("collections: attach to change feed of %s: %w", ref, err)
	}
	return c, nil
}

// openCollection attaches a stored collection and re-applies its op-log
// tail.
func (s *Service) openCollection(info store.CollectionInfo) (*collection, error) {
	c, err := s.attach(info)
	if err != nil {
		return nil, err
	}
	if err := c.recover(); err != nil {
		c.close()
		return nil, err
	}
	c.ship.advance(c.opsStream.Source().EndOffset())
	return c, nil
}

// close waits for the writes in flight and detaches the producers; the
// collection takes no write after it.
func (c *collection) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	c.ship.close()
	c.pending.Wait()
	c.ops.Close()
	if c.chg != nil {
		c.chg.Close()
	}
}

// writable reports why the collection takes no write (nil when it does).
// Callers hold mu.
func (c *collection) writable() error {
	if c.closed {
		if c.svc.clustered() {
			// Another node leads its op log now, or this node reopens it.
			return fmt.Errorf("%w: %s is no longer served by this node (its op log's lead moved, or it reopens); retry", ErrUnavailable, c.ref.Collection)
		}
		return fmt.Errorf("%w: %s: %s", ErrCollectionNotFound, c.ref.Collection, "dropped or shutting down")
	}
	if p := c.failed.Load(); p != nil {
		if c.svc.clustered() {
			// The loop reopens it (or another node serves it now).
			return fmt.Errorf("%w: %s: op log failed, the collection reopens; retry: %w", ErrUnavailable, c.ref.Collection, *p)
		}
		return fmt.Errorf("%w: %s: op log failed, restart the node: %w", ErrUnavailable, c.ref.Collection, *p)
	}
	return nil
}

// Collection returns a collection's description (in a region of several
// nodes, the catalog's when another node serves it).
func (s *Service) Collection(ref Ref) (store.CollectionInfo, error) {
	if s.clustered() {
		return s.describeInCluster(ref)
	}
	c, err := s.collection(ref)
	if err != nil {
		return store.CollectionInfo{}, err
	}
	return *c.info.Load(), nil
}

// Collections lists a fabric's collections by name.
func (s *Service) Collections(tenant, fabric string) ([]store.CollectionInfo, error) {
	if err := s.checkFabric(tenant, fabric); err != nil {
		return nil, err
	}
	if s.clustered() {
		return s.catalogScan(catalogPrefix + tenant + "/" + fabric + "/")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []store.CollectionInfo{}
	for ref, c := range s.cols {
		if ref.Tenant == tenant && ref.Fabric == fabric {
			out = append(out, *c.info.Load())
		}
	}
	sortInfos(out)
	return out, nil
}

// DropCollection deletes a collection, its data and its streams (in every
// region of a multi-region node).
func (s *Service) DropCollection(ref Ref) error {
	if s.clustered() {
		if err := s.checkFabric(ref.Tenant, ref.Fabric); err != nil {
			return err
		}
		if r := s.replication(); r != nil {
			if _, found, err := s.catalogEntry(ref); err != nil || !found {
				if err == nil {
					err = fmt.Errorf("%w: %s", ErrCollectionNotFound, ref.Collection)
				}
				return err
			}
			return s.replicateMeta(r, &MetaEvent{Type: MetaDropCollection, Tenant: ref.Tenant, Fabric: ref.Fabric, Collection: ref.Collection})
		}
		return s.dropInCluster(ref)
	}
	if _, err := s.collection(ref); err != nil {
		return err
	}
	if r := s.replication(); r != nil {
		return s.replicateMeta(r, &MetaEvent{Type: MetaDropCollection, Tenant: ref.Tenant, Fabric: ref.Fabric, Collection: ref.Collection})
	}
	return s.dropCollection(ref)
}

func (s *Service) dropCollection(ref Ref) error {
	c, err := s.collection(ref)
	if err != nil {
		return err
	}
	return s.dropOpen(ref, c)
}

// dropOpen drops an open collection (dropCollection without the fabric's
// checks: ForgetFabric drops those of a fabric no longer served here).
func (s *Service) dropOpen(ref Ref, c *collection) error {
	s.mu.Lock()
	if s.cols[ref] != c {
		s.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrCollectionNotFound, ref.Collection)
	}
	delete(s.cols, ref)
	s.mu.Unlock()
	c.ship.close()
	c.close()
	s.seq.Forget(ref)
	info := c.info.Load()
	if err := s.store.DropCollection(*info); err != nil {
		return err
	}
	for _, name := range []string{OpLogStream(ref.Collection), ChangeFeedStream(ref.Collection)} {
		sn := naming.Stream{Persistent: true, Tenant: ref.Tenant, Fabric: ref.Fabric, Name: name}
		if err := s.node.DeleteInternalStream(sn); err != nil && !errors.Is(err, broker.ErrStreamNotFound) {
			c.log.Warn("delete stream", zap.String("stream", name), zap.Error(err))
		}
	}
	s.log.Info("collection dropped", zap.Stringer("collection", ref))
	return nil
}
