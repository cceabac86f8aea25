package auth

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.uber.org/zap"
)

// Fabric-wide keys in a geo-replicated region of several nodes. The
// region's replication (its journals, the causal engine) runs on one node
// at a time, the "runner"; every node serves every request and reads the
// region's keys from the region's map (regionkeys.go). So a key event
// travels like this:
//
//  1. Any node makes the event (create, grant change, revocation of a
//     key with an origin region) and writes it to the map's outbox
//     (auth/outbox/...: committed on a majority of the region).
//  2. The runner (RegionReplication.Leading) publishes every outbox entry
//     through the replication: the shell journals it (at the journal's
//     high watermark), applies it here with ApplyReplicated and ships it to
//     every region; then the runner deletes the entry. A runner that dies
//     before the delete leaves it to the next runner, which publishes it
//     again: applying is idempotent (merge.go), in every region.
//  3. ApplyReplicated, for this region's events and for other regions'
//     alike, writes the event to the map (auth/fkey/{id}/{stamp}) unless
//     the key's state there already absorbs it, deletes the entries the
//     new one absorbs and bumps the version: every node reads the keys
//     again, and closes the connections of a key revoked.
//  4. The node that made the event answers once its own view absorbs it.
//
// The new runner re-applies its journal tails (events journaled but not
// yet applied when the old one stopped): writing an event twice writes the
// same entry, and an old runner still finishing writes other entries than
// the new one, never over them (regionfabricview.go). Keys without an
// origin (a node's configured admin key, keys created before the region
// was geo-replicated) stay the region's, as in a region without peers.

// RegionReplication is the replication of a region of several nodes: it
// runs on one node at a time. A Replication attached with
// AttachReplication that is also a RegionReplication makes the service's
// fabric-wide keys go through the region's map (see above) once
// AttachRegion links it.
type RegionReplication interface {
	Replication
	// Leading reports whether the replication runs on this node now.
	Leading() bool
}

// Timings of fabric-wide keys in a region of several nodes.
const (
	// regionApplyWait bounds the wait of the node that made an event for
	// its application (a runner's failover takes a few seconds).
	regionApplyWait = 20 * time.Second
	// regionPumpEvery is how often the runner looks at the outbox even
	// when no change was seen.
	regionPumpEvery = time.Second
)

// regionalReplication returns the attached replication if it is a
// region's of several nodes, nil otherwise.
func (s *Service) regionalReplication() RegionReplication {
	r, _ := s.replication().(RegionReplication)
	return r
}

// geoKeys returns the region's link and its replication when the
// service's fabric-wide keys go through the region's map.
func (s *Service) geoKeys() (*regionKeys, RegionReplication) {
	r := s.regionalReplication()
	if r == nil {
		return nil, nil
	}
	return s.regionKeys(), r
}

// applyToRegion is ApplyReplicated in a geo-replicated region of several
// nodes: ev (payload, from origin) is written to the region's map (step 3
// above). A map that does not answer is ErrUnavailable: the replication
// applies the event again later.
func (s *Service) applyToRegion(rk *regionKeys, origin string, seq uint64, ev Event, payload []byte) error {
	if rk == nil {
		return fmt.Errorf("%w: key event %s/%d: the region's keys are not read yet", ErrUnavailable, origin, seq)
	}
	ctx, cancel := context.WithTimeout(rk.ctx, regionIOTimeout)
	defer cancel()
	entries, err := rk.m.Scan(ctx, fabricPrefixOf(ev.Key))
	if err != nil {
		return fmt.Errorf("auth: key event %s/%d: read key %s in the region: %w", origin, seq, ev.Key, err)
	}
	before, _, _ := foldFabric(ev.Key, entries)
	if local, ok := rk.s.store.region.Load().get(ev.Key); ok && before.Record == nil && before.Tomb == nil {
		// A key of the region only under the same id: the event is another
		// key's (ids are random: a forged or broken event).
		before = KeyState{Record: &local}
	}
	after, err := Merge(before, ev)
	if err != nil {
		s.metrics.KeyEventsRefused.Add(1)
		return fmt.Errorf("auth: key event %s/%d (%s of key %s): %w", origin, seq, ev.Type, ev.Key, err)
	}
	if after.Equal(before) {
		s.metrics.KeyEventsUnchanged.Add(1)
		return nil
	}
	key := fabricEntryKey(ev)
	if err := rk.m.Put(ctx, key, string(payload)); err != nil {
		if !errors.Is(err, ErrUnavailable) {
			s.metrics.KeyEventsRefused.Add(1)
		}
		return fmt.Errorf("auth: key event %s/%d (%s of key %s): write it to the region: %w", origin, seq, ev.Type, ev.Key, err)
	}
	entries[key] = string(payload)
	_, drop, _ := foldFabric(ev.Key, entries)
	for _, k := range drop {
		if err := rk.m.Delete(ctx, k); err != nil {
			// Harmless: the entry is absorbed; the next event of the key
			// deletes it.
			rk.log.Warn("cannot delete an absorbed event of a key", zap.String("entry", k), zap.Error(err))
			break
		}
	}
	if err := rk.bump(ctx); err != nil {
		return fmt.Errorf("auth: key event %s/%d: %w", origin, seq, err)
	}
	s.metrics.KeyEventsApplied.Add(1)
	rk.log.Info("applied a key event to the region", zap.String("event", string(ev.Type)), zap.String("key", ev.Key),
		zap.String("tenant", ev.Tenant), zap.Stringer("stamp", ev.Stamp), zap.String("origin", origin))
	return nil
}

// handFabricLocked hands what this node's own store knows of fabric-wide
// keys (a node that ran as a region of its own, or as its region's only
// runner before keys were the region's) to the region's map, as the
// events that made it, unless the region's view v absorbs them already;
// it returns how many entries it wrote. Outside a geo-replicated region
// it does nothing.
func (rk *regionKeys) handFabricLocked(ctx context.Context, v *regionView) (int, error) {
	if rk.s.regionalReplication() == nil {
		return 0, nil
	}
	var evs []Event
	for _, k := range rk.s.store.ownKeys() {
		if ev, ok := eventOfRecord(k); ok {
			evs = append(evs, ev)
		}
	}
	for id, t := range rk.s.store.ownTombs() {
		if ev, ok := eventOfTomb(id, t); ok {
			evs = append(evs, ev)
		}
	}
	written := 0
	for _, ev := range evs {
		if ok, err := absorbs(v.fabState(ev.Key), ev); ok || err != nil {
			if err != nil {
				rk.log.Error("the region holds another key under the id of a fabric-wide key of this node: the region's stands",
					zap.String("key", ev.Key), zap.Error(err))
			}
			continue
		}
		payload, err := AppendEvent(nil, ev)
		if err == nil {
			err = rk.m.Put(ctx, fabricEntryKey(ev), string(payload))
		}
		if err != nil {
			return written, fmt.Errorf("auth: hand the %s of fabric-wide key %s to the region: %w", ev.Type, ev.Key, err)
		}
		written++
	}
	if written > 0 {
		rk.log.Info("handed fabric-wide keys of this node to the region", zap.Int("events", written))
	}
	return written, nil
}

// publishEvent writes ev to the outbox (step 1) and returns once this
// node's view absorbs it (step 4), or with ErrUnavailable when that takes
// longer than regionApplyWait (the event may still be applied).
func (rk *regionKeys) publishEvent(ctx context.Context, ev Event) error {
	payload, err := AppendEvent(nil, ev)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, regionApplyWait)
	defer cancel()
	ictx, icancel := context.WithTimeout(wctx, regionIOTimeout)
	defer icancel()
	if err := rk.m.Put(ictx, outboxKey(ev), string(payload)); err != nil {
		return fmt.Errorf("auth: %s of key %s: hand it to the region's replication: %w", ev.Type, ev.Key, err)
	}
	if err := rk.bump(ictx); err != nil {
		return err
	}
	for {
		seen := rk.refreshed()
		ok, err := absorbs(rk.s.store.region.Load().fabState(ev.Key), ev)
		switch {
		case err != nil:
			return err
		case ok:
			return nil
		}
		select {
		case <-seen:
		case <-time.After(regionPumpEvery):
			if err := rk.refresh(wctx); err != nil && wctx.Err() == nil {
				rk.log.Debug("cannot read the region's keys while waiting for a key event", zap.Error(err))
			}
		case <-wctx.Done():
			return fmt.Errorf("%w: %s of key %s handed to the region's replication, not applied after %v (it may still be)",
				ErrUnavailable, ev.Type, ev.Key, regionApplyWait)
		}
	}
}

// createFabric is create in a geo-replicated region: the key is the
// fabric's (its origin this region).
func (rk *regionKeys) createFabric(ctx context.Context, r RegionReplication, rec KeyRecord) (KeyRecord, error) {
	rec.Origin = r.Region()
	if err := rec.Validate(); err != nil {
		return KeyRecord{}, err
	}
	ev := Event{Type: EventCreate, Key: rec.ID, Tenant: rec.Tenant, Stamp: rk.s.stamp(r.Region()), Record: &rec}
	if err := rk.publishEvent(ctx, ev); err != nil {
		return KeyRecord{}, err
	}
	if k, ok := rk.s.store.get(rec.ID); ok {
		return k, nil
	}
	return KeyRecord{}, fmt.Errorf("%w: key %s was revoked as it was created", ErrKeyConflict, rec.ID)
}

// revokeFabric revokes the fabric-wide key k in every region.
func (rk *regionKeys) revokeFabric(ctx context.Context, r RegionReplication, k KeyRecord) error {
	ev := Event{Type: EventRevoke, Key: k.ID, Tenant: k.Tenant, Stamp: rk.s.stamp(r.Region()), At: rk.s.now().UnixMilli()}
	if err := rk.publishEvent(ctx, ev); err != nil {
		return err
	}
	if n := rk.s.sessions.endKey(k.ID, ErrSessionRevoked); n > 0 {
		rk.log.Info("revoked key: connections closed", zap.String("key", k.ID), zap.Int("connections", n))
	}
	return nil
}

// grantsFabric changes the permissions of the fabric-wide key cur to
// next's in every region.
func (rk *regionKeys) grantsFabric(ctx context.Context, r RegionReplication, cur, next KeyRecord) error {
	if cur.Stamp != nil {
		rk.s.observe(*cur.Stamp) // the change is stamped after the one it replaces
	}
	next.Stamp = nil
	ev := Event{Type: EventGrants, Key: next.ID, Tenant: next.Tenant, Stamp: rk.s.stamp(r.Region()), Record: &next}
	return rk.publishEvent(ctx, ev)
}

// pump publishes the outbox's events while the replication runs on this
// node (step 2), until detach.
func (rk *regionKeys) pump(r RegionReplication) {
	defer close(rk.pumpDone)
	tick := time.NewTicker(regionPumpEvery)
	defer tick.Stop()
	drained := false // since the replication runs here
	var failing error
	for {
		seen := rk.refreshed()
		switch {
		case !r.Leading():
			drained = false
		case !drained || len(rk.s.store.region.Load().outbox) > 0:
			err := rk.drain(r)
			switch {
			case err != nil && rk.ctx.Err() != nil:
				return
			case err != nil:
				if failing == nil {
					rk.log.Warn("cannot hand key events of this region to the replication: retrying", zap.Error(err))
				}
				failing = err
			default:
				if failing != nil {
					rk.log.Info("handing key events of this region to the replication again")
				}
				failing, drained = nil, true
			}
		}
		select {
		case <-rk.ctx.Done():
			return
		case <-seen:
		case <-tick.C:
		}
	}
}

// drain publishes every outbox entry through r, oldest first, and deletes
// those published; entries that are not valid events of this region are
// deleted with an error in the log.
func (rk *regionKeys) drain(r RegionReplication) error {
	ctx, cancel := context.WithTimeout(rk.ctx, regionIOTimeout)
	entries, err := rk.m.Scan(ctx, regionOutboxPrefix)
	cancel()
	if err != nil {
		return fmt.Errorf("auth: read the key events waiting for the replication: %w", err)
	}
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	done := 0
	for _, key := range keys {
		ev, err := decodeEntry(key, entries[key], outboxKey)
		if err == nil && ev.Stamp.Region != r.Region() {
			err = fmt.Errorf("%w: outbox entry %s of region %s", ErrBadEvent, key, ev.Stamp.Region)
		}
		if err != nil {
			rk.log.Error("dropping a key event that cannot be replicated", zap.String("entry", key), zap.Error(err))
		} else if err := rk.publishOne(r, entries[key]); errors.Is(err, ErrUnavailable) {
			return fmt.Errorf("auth: publish the %s of key %s: %w", ev.Type, ev.Key, err)
		} else if err != nil {
			// Journaled, then refused by the merge here (and everywhere).
			rk.log.Error("a key event of this region was refused", zap.String("key", ev.Key), zap.Error(err))
		}
		ctx, cancel := context.WithTimeout(rk.ctx, regionIOTimeout)
		err = rk.m.Delete(ctx, key)
		cancel()
		if err != nil {
			return fmt.Errorf("auth: delete the published key event %s: %w", key, err)
		}
		done++
	}
	if done == 0 {
		return nil
	}
	ctx, cancel = context.WithTimeout(rk.ctx, regionIOTimeout)
	defer cancel()
	return rk.bump(ctx)
}

// publishOne publishes payload through r and waits for its outcome.
func (rk *regionKeys) publishOne(r RegionReplication, payload string) error {
	out := make(chan error, 1)
	r.PublishKeyEvent([]byte(payload), func(err error) { out <- err })
	select {
	case err := <-out:
		return err
	case <-time.After(regionApplyWait):
		return fmt.Errorf("%w: the replication did not answer in %v", ErrUnavailable, regionApplyWait)
	case <-rk.ctx.Done():
		return fmt.Errorf("%w: %w", ErrUnavailable, rk.ctx.Err())
	}
}

// refreshed returns a channel closed at this node's next read of the
// region's keys.
func (rk *regionKeys) refreshed() <-chan struct{} {
	rk.nmu.Lock()
	defer rk.nmu.Unlock()
	return rk.readC
}

// noteRead wakes the waiters of refreshed.
func (rk *regionKeys) noteRead() {
	rk.nmu.Lock()
	defer rk.nmu.Unlock()
	close(rk.readC)
	rk.readC = make(chan struct{})
}
