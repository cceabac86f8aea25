package service

import (
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/causeway/causeway/collections"
	"github.com/causeway/causeway/replicator"
	"github.com/causeway/causeway/replicator/shell"
)

// Replication is what the service needs from the node's replication shell
// (replicator/shell.Shell implements it).
type Replication interface {
	// PublishOp journals payload as an op of kind, applies it in this
	// region through the kind's apply function, ships it to every region
	// and calls done with its dot (or the error) after the local apply.
	PublishOp(kind shell.Kind, payload []byte, done func(replicator.Dot, error))
	// Status reports the fabric's regions and the evicted ones.
	Status() (shell.Status, error)
	// Joined is false while the region joins the fabric after starting
	// empty: its own ops of a previous life (a wiped disk) may still be
	// coming back, so it must not number new ones (shell.Shell.Joined).
	Joined() bool
}

// ReplicationKind is the shell op kind collection payloads travel as.
const ReplicationKind = shell.KindCollectionOp

// membersInterval is how often the members (regions less the evicted
// ones) are read from the shell.
const membersInterval = time.Second

// replBox holds the attached replication.
type replBox struct{ r Replication }

// replication returns the attached replication, nil for a single region.
func (s *Service) replication() Replication {
	if b := s.repl.Load(); b != nil {
		return b.r
	}
	return nil
}

// AttachReplication makes the service multi-region: collection, index and
// saved-query changes are replicated (and applied here through
// ApplyReplicated), and every collection's own ops are shipped from its op
// log. Register ApplyReplicated with the shell before it starts (so the
// journal tails it re-applies reach the service), open the service, start
// the shell, then attach it. A nil r is a no-op.
func (s *Service) AttachReplication(r Replication) {
	if r == nil || s.geo == nil {
		return
	}
	if !s.repl.CompareAndSwap(nil, &replBox{r: r}) {
		return
	}
	s.mu.RLock()
	for _, c := range s.cols {
		c.ship.start(r)
	}
	s.mu.RUnlock()
	s.wg.Add(1)
	go s.membersLoop(r)
}

// membersLoop keeps the sequencer's members (evictions) up to date.
func (s *Service) membersLoop(r Replication) {
	defer s.wg.Done()
	t := time.NewTicker(membersInterval)
	defer t.Stop()
	for {
		if st, err := r.Status(); err == nil {
			members := make([]string, 0, len(st.Regions))
			for _, reg := range st.Regions {
				if !contains(st.Evicted, reg) {
					members = append(members, reg)
				}
			}
			s.geo.SetMembers(members)
		}
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ApplyReplicated is the shell's apply function for ReplicationKind: it
// applies one replicated payload, in the replicator's causal order, local
// ones included. A document op of another region goes down the remote
// write path (ApplyRemote); this region's own document ops are already
// applied (they were shipped from the op log), except after a wipe, when
// they come back from the peers while the region joins and are applied
// like remote ones (those applied are skipped); metadata events are
// applied in every region. It is idempotent: the shell calls it again
// after a restart for the journal tail it cannot prove applied. It is
// ApplyReplicatedBatch of one payload.
func (s *Service) ApplyReplicated(origin string, seq uint64, payload []byte) error {
	return s.ApplyReplicatedBatch([]shell.KindItem{{Origin: origin, Seq: seq, Payload: payload}})[0]
}

// applyMeta applies a metadata event (idempotently).
func (s *Service) applyMeta(origin string, m *MetaEvent) error {
	ref := Ref{Tenant: m.Tenant, Fabric: m.Fabric, Collection: m.Collection}
	switch m.Type {
	case MetaCreateCollection:
		if s.clustered() {
			return s.applyCreateInCluster(m.Tenant, m.Fabric, *m.Spec, m.CreatedAt)
		}
		_, err := s.createCollection(m.Tenant, m.Fabric, *m.Spec, m.CreatedAt, true)
		return err
	case MetaDropCollection:
		var err error
		if s.clustered() {
			err = s.dropInCluster(ref)
		} else {
			err = s.dropCollection(ref)
		}
		if errors.Is(err, ErrCollectionNotFound) || errors.Is(err, ErrFabricNotFound) {
			return nil
		}
		return err
	case MetaCreateIndex:
		_, _, err := s.createIndex(ref, m.Index, m.Field)
		if errors.Is(err, ErrCollectionNotFound) {
			return nil
		}
		return err
	case MetaDropIndex:
		err := s.dropIndex(ref, m.Index)
		if errors.Is(err, ErrCollectionNotFound) || errors.Is(err, ErrIndexNotFound) {
			return nil
		}
		return err
	case MetaSaveQuery:
		q := *m.Query
		q.Region = origin
		return s.putSavedQuery(m.Tenant, m.Fabric, q)
	case MetaDeleteQuery:
		err := s.deleteSavedQuery(m.Tenant, m.Fabric, m.QueryName)
		if errors.Is(err, ErrQueryNotFound) {
			return nil
		}
		return err
	case MetaAck:
		if origin != s.region {
			s.geo.Learn(ref, origin, collections.VectorOf(m.Known))
		}
		return nil
	}
	return fmt.Errorf("%w: metadata event %q", ErrCorruptPayload, m.Type)
}

// replicateMeta publishes a metadata event and waits until it is applied
// here (the error is the local apply's).
func (s *Service) replicateMeta(r Replication, m *MetaEvent) error {
	payload, err := appendMetaPayload(nil, m)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	r.PublishOp(ReplicationKind, payload, func(_ replicator.Dot, err error) { done <- err })
	select {
	case err := <-done:
		if errors.Is(err, shell.ErrNotLeading) {
			if where := s.LocateReplication(); where != nil {
				return where
			}
		}
		if errors.Is(err, shell.ErrClosed) || errors.Is(err, shell.ErrFailed) || errors.Is(err, shell.ErrNotLeading) {
			return fmt.Errorf("%w: replication: %w", ErrUnavailable, err)
		}
		return err
	case <-s.stop:
		return fmt.Errorf("%w: shutting down", ErrUnavailable)
	}
}

// replAppliedCopy returns the replicated vector (callers hold replMu).
func (s *Service) replAppliedCopy() map[string]uint64 { return maps.Clone(s.replApplied) }
