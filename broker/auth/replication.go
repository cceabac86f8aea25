package auth

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/causeway/causeway/replicator"
)

// Fabric-wide keys. In a multi-region node (AttachReplication) every key
// created over the API, every grant change of such a key and every
// revocation is an Event published through the node's replication and
// applied in every region, this one included, in the replicator's causal
// order (ApplyReplicated, Merge). A single-region node keeps its keys as
// before.

// Replication is what the service needs from the node's replication
// (server/authrepl adapts replicator/shell.Shell to it).
type Replication interface {
	// Region is this region's name.
	Region() string
	// PublishKeyEvent journals payload as a key event, applies it in this
	// region through ApplyReplicated, ships it to every region and calls
	// done (once) with the local apply's error, or with the reason it
	// could not be published (ErrUnavailable).
	PublishKeyEvent(payload []byte, done func(error))
}

type replBox struct{ r Replication }

// AttachReplication makes the service's keys fabric-wide. Register
// ApplyReplicated with the replication before it starts (its journal tails
// are re-applied on start), then attach it. A nil r is a no-op; attach
// once.
func (s *Service) AttachReplication(r Replication) {
	if r == nil {
		return
	}
	s.repl.CompareAndSwap(nil, &replBox{r: r})
}

// replication returns the attached replication, nil for a single region.
func (s *Service) replication() Replication {
	if b := s.repl.Load(); b != nil {
		return b.r
	}
	return nil
}

// ApplyReplicated applies one key event (a payload of the replication's
// auth kind) from region origin, local events included: merged into the
// key store by the rules of merge.go, and a revocation ends this region's
// connections of the key (as Revoke does). It is idempotent by key id, so
// the replication may apply an event again after a restart. An event that
// does not decode, that does not fit the event format, that names
// another region than its origin, or that Merge refuses is refused with an
// error and changes nothing. In a geo-replicated region of several nodes
// (a RegionReplication attached) the event is written to the region's map
// instead (regionfabric.go): ErrUnavailable when the map does not take it
// now (the replication applies it again later).
func (s *Service) ApplyReplicated(origin string, seq uint64, payload []byte) error {
	ev, err := DecodeEvent(payload)
	if err == nil && ev.Stamp.Region != origin {
		err = fmt.Errorf("%w: event of region %q shipped by %q", ErrBadEvent, ev.Stamp.Region, origin)
	}
	if err != nil {
		s.metrics.KeyEventsRefused.Add(1)
		return fmt.Errorf("auth: key event %s/%d: %w", origin, seq, err)
	}
	s.observe(ev.Stamp)
	if s.regionalReplication() != nil {
		return s.applyToRegion(s.regionKeys(), origin, seq, ev, payload) // regionfabric.go
	}
	before, after, err := s.store.apply(ev)
	if err != nil {
		s.metrics.KeyEventsRefused.Add(1)
		return fmt.Errorf("auth: key event %s/%d (%s of key %s): %w", origin, seq, ev.Type, ev.Key, err)
	}
	if after.Equal(before) {
		s.metrics.KeyEventsUnchanged.Add(1)
		return nil
	}
	s.metrics.KeyEventsApplied.Add(1)
	fields := []zap.Field{zap.String("event", string(ev.Type)), zap.String("key", ev.Key), zap.String("tenant", ev.Tenant),
		zap.Stringer("stamp", ev.Stamp)}
	if after.Revoked() && !before.Revoked() {
		n := s.sessions.endKey(ev.Key, ErrSessionRevoked)
		fields = append(fields, zap.Int("connectionsClosed", n))
	}
	s.log.Info("applied a key event", fields...)
	return nil
}

// stamp is a stamp for a new event of this region: its HLC is higher than
// that of every event applied here so far.
func (s *Service) stamp(region string) Stamp {
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	t := s.clock.Now(s.now().UnixNano())
	return Stamp{Wall: t.WallNanos, Logical: t.Logical, Region: region}
}

// observe moves the clock past an applied event's stamp.
func (s *Service) observe(st Stamp) {
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	_, _ = s.clock.Observe(replicator.Timestamp{WallNanos: st.Wall, Logical: st.Logical}, s.now().UnixNano()) // no offset bound: never fails
}

// publish makes ev through r and waits until it is applied here (the
// error is the local apply's), or until ctx ends.
func (s *Service) publish(ctx context.Context, r Replication, ev Event) error {
	payload, err := AppendEvent(nil, ev)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	r.PublishKeyEvent(payload, func(err error) { done <- err })
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: %s of key %s published, not yet applied here: %w", ErrUnavailable, ev.Type, ev.Key, ctx.Err())
	}
}

// applyLocal applies an event made here without replicating it (a grant
// change of a key of this node only).
func (s *Service) applyLocal(ev Event) (KeyState, error) {
	_, after, err := s.store.apply(ev)
	return after, err
}

// createFabricKey completes rec for key (id, plain) and creates it in
// every region through r; it returns once the key is applied here.
func (s *Service) createFabricKey(ctx context.Context, r Replication, id, plain string, rec KeyRecord) (KeyRecord, error) {
	rec, err := s.completeKey(id, plain, rec)
	if err != nil {
		return KeyRecord{}, err
	}
	rec.Origin = r.Region()
	if max := s.cfg.MaxKeysPerTenant; max > 0 && s.store.count(rec.Tenant) >= max {
		return KeyRecord{}, fmt.Errorf("%w: the tenant holds %d keys", ErrTooManyKeys, max)
	}
	ev := Event{Type: EventCreate, Key: id, Tenant: rec.Tenant, Stamp: s.stamp(r.Region()), Record: &rec}
	if err := s.publish(ctx, r, ev); err != nil {
		return KeyRecord{}, err
	}
	if k, ok := s.store.get(id); ok {
		return k, nil
	}
	return KeyRecord{}, fmt.Errorf("%w: key %s was revoked as it was created", ErrKeyConflict, id)
}

// SetGrants replaces the permissions of the key id of tenant (another
// tenant's key is ErrKeyNotFound) and returns the key as it is now. The
// change of a fabric-wide key is replicated (and applied here before
// SetGrants returns); a concurrent change made in another region without
// knowledge of this one wins everywhere if its stamp is higher (merge.go).
// The change of a key of this node only stays here. Connections already
// open keep the permissions they were opened with.
func (s *Service) SetGrants(ctx context.Context, tenant, id string, perms []string) (KeyRecord, error) {
	if _, err := ParseGrants(perms); err != nil {
		return KeyRecord{}, err
	}
	k, ok := s.store.get(id)
	if !ok || k.Tenant != tenant {
		return KeyRecord{}, ErrKeyNotFound
	}
	next := k
	next.Permissions, next.Stamp = append([]string{}, perms...), nil
	if rk := s.regionKeys(); rk != nil {
		if held, err := rk.setGrants(ctx, next); held {
			if err != nil {
				return KeyRecord{}, err
			}
			if k, ok = s.store.get(id); !ok {
				return KeyRecord{}, ErrKeyNotFound // revoked meanwhile
			}
			return k, nil
		}
	}
	if r := s.replication(); r != nil && k.Origin != "" {
		ev := Event{Type: EventGrants, Key: id, Tenant: tenant, Stamp: s.stamp(r.Region()), Record: &next}
		if err := s.publish(ctx, r, ev); err != nil {
			return KeyRecord{}, err
		}
	} else if _, err := s.applyLocal(Event{Type: EventGrants, Key: id, Tenant: tenant, Stamp: s.stamp(""), Record: &next}); err != nil {
		return KeyRecord{}, err
	}
	if k, ok = s.store.get(id); !ok {
		return KeyRecord{}, ErrKeyNotFound // revoked meanwhile
	}
	return k, nil
}
