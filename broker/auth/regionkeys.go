package auth

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Keys of a region of several nodes. Every node of the region serves every
// request, and a node that does not lead a stream proxies the request to
// the one that does with the client's credentials: every node must accept
// the same keys and tokens. So the region's keys live in its replicated
// key-value map (regionview.go: a record per key, a revocation per revoked
// key, a version written after every change):
//
//   - A key created, changed or revoked through any node is written to the
//     map (committed on a majority) and then read back by that node, so its
//     answer reflects it.
//   - Every node watches the map: at every applied entry it reads the
//     version (a local read), and when it changed it reads the whole prefix
//     (a linearizable read) and swaps the view into its store; connections
//     of keys the new view no longer holds are closed. A full read every
//     regionRescanEvery catches a writer that died between its change and
//     the version.
//   - The token secret is derived from the region secret (HKDF-SHA256)
//     unless jwtSecret is configured: every node has it from its start,
//     with nothing to agree on.
//   - Before the region's group runs a node knows its own keys only (the
//     configured admin key included, so it is not refused meanwhile); once
//     the group runs they are handed to the region (written to the map if
//     it holds neither them nor their revocation) and dropped locally, and
//     the node marks itself a region member: it generates no superuser key
//     at later starts.

// RegionMap is the region's replicated key-value map as the service needs
// it (server adapts region/meta.Group): writes return once a majority
// committed them and this node applied them; ErrUnavailable when no quorum
// answers, ErrBadRequest for an entry over the map's bounds.
type RegionMap interface {
	// Get is this node's applied value of key: cheap, possibly behind.
	Get(key string) (string, bool)
	// Scan returns every key beginning with prefix and its value, as of a
	// linearizable read.
	Scan(ctx context.Context, prefix string) (map[string]string, error)
	Put(ctx context.Context, key, value string) error
	Delete(ctx context.Context, key string) error
	// Changed returns a channel closed at the next entry applied here.
	Changed() <-chan struct{}
}

// Timings of the region's keys.
const (
	// regionRescanEvery is how often a node reads the region's keys even
	// if the version did not change (and forgets old revocations).
	regionRescanEvery = 30 * time.Second
	// regionRetryEvery spaces the reads of a node that failed to read
	// (no quorum).
	regionRetryEvery = time.Second
	// regionIOTimeout bounds one read or write of the map.
	regionIOTimeout = 10 * time.Second
	// maxForgetPerRescan bounds the revocations forgotten per rescan.
	maxForgetPerRescan = 100
	// regionTokenSecretInfo is the HKDF info of the token secret.
	regionTokenSecretInfo = "causeway/auth/token-secret/v1/"
)

// UseRegion makes the token secret the region's: derived from the region
// secret and the region's name, the same on every node of the region
// (unless jwtSecret is configured, which is then used as before). Call it
// before the service serves; AttachRegion brings the keys.
func (s *Service) UseRegion(region, regionSecret string) error {
	if s.cfg.JWTSecret != "" {
		return nil
	}
	if regionSecret == "" {
		return fmt.Errorf("%w: no region secret to derive the token secret from", ErrBadRequest)
	}
	sec, err := hkdf.Key(sha256.New, []byte(regionSecret), nil, regionTokenSecretInfo+region, MinSecretBytes)
	if err != nil {
		return fmt.Errorf("auth: derive the region's token secret: %w", err)
	}
	s.secret = sec
	return nil
}

// regionKeys is the service's link to its region's map (nil outside a
// region of several nodes).
type regionKeys struct {
	s   *Service
	m   RegionMap
	log *zap.Logger

	ctx    context.Context // ends at detach
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex // serializes reads of the map and the migration
	seen     string     // the version read before the last read
	migrated bool       // the node's own keys were handed over
	bad      int        // entries that did not decode at the last read

	// In a geo-replicated region (regionfabric.go): readC is closed at
	// every read of the map (nmu guards it), pumpDone when the outbox
	// pump ends (closed at once when none runs).
	nmu      sync.Mutex
	readC    chan struct{}
	pumpDone chan struct{}
}

// AttachRegion makes the service's keys its region's (see above) once the
// region's group runs: it starts watching m and hands the node's own keys
// over. detach stops watching (the node leaves its group); the service
// keeps the view it had. Attach once; a second call is a no-op.
func (s *Service) AttachRegion(m RegionMap) (detach func()) {
	ctx, cancel := context.WithCancel(context.Background())
	rk := &regionKeys{s: s, m: m, log: s.log.Named("region"), ctx: ctx, cancel: cancel, done: make(chan struct{}),
		readC: make(chan struct{}), pumpDone: make(chan struct{})}
	if !s.regionLink.CompareAndSwap(nil, rk) {
		cancel()
		return func() {}
	}
	go rk.run()
	if r := s.regionalReplication(); r != nil {
		go rk.pump(r) // regionfabric.go
	} else {
		close(rk.pumpDone)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-rk.done
			<-rk.pumpDone
		})
	}
}

// regionKeys returns the region's link, nil outside a region of several
// nodes.
func (s *Service) regionKeys() *regionKeys { return s.regionLink.Load() }

// run watches the map until detach.
func (rk *regionKeys) run() {
	defer close(rk.done)
	full := time.NewTicker(regionRescanEvery)
	defer full.Stop()
	retry := time.NewTimer(0)
	defer retry.Stop()
	pending, forget := true, false
	var failing error
	var nextTry time.Time
	for {
		changed := rk.m.Changed()
		if !pending {
			v, _ := rk.m.Get(regionVersionKey)
			pending = v != rk.version()
		}
		if pending && !time.Now().Before(nextTry) {
			err := rk.sync()
			if err == nil && forget {
				err = rk.forgetStale()
			}
			switch {
			case err != nil && rk.ctx.Err() != nil:
				return
			case err != nil:
				if failing == nil {
					rk.log.Warn("cannot read the region's API keys: retrying (keys created or revoked meanwhile are not seen here)",
						zap.Error(err))
				}
				failing, nextTry = err, time.Now().Add(regionRetryEvery)
				retry.Reset(regionRetryEvery)
			default:
				if failing != nil {
					rk.log.Info("reading the region's API keys again")
				}
				failing, pending, forget = nil, false, false
			}
		}
		select {
		case <-rk.ctx.Done():
			return
		case <-changed:
		case <-full.C:
			pending, forget = true, true
		case <-retry.C:
		}
	}
}

func (rk *regionKeys) version() string {
	rk.mu.Lock()
	defer rk.mu.Unlock()
	return rk.seen
}

// sync reads the map and, after the first read, hands the node's own keys
// over.
func (rk *regionKeys) sync() error {
	rk.mu.Lock()
	defer rk.mu.Unlock()
	if err := rk.refreshLocked(rk.ctx); err != nil {
		return err
	}
	if rk.migrated {
		return nil
	}
	if err := rk.migrateLocked(rk.ctx); err != nil {
		return err
	}
	rk.migrated = true
	return nil
}

// refresh reads the map now (after a change made here: its answer
// reflects it).
func (rk *regionKeys) refresh(ctx context.Context) error {
	rk.mu.Lock()
	defer rk.mu.Unlock()
	return rk.refreshLocked(ctx)
}

// refreshLocked reads the region's keys into the store and closes the
// connections of the keys that no longer authenticate.
func (rk *regionKeys) refreshLocked(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, regionIOTimeout)
	defer cancel()
	ver, _ := rk.m.Get(regionVersionKey) // before the read: a change after it is seen again
	entries, err := rk.m.Scan(ctx, regionPrefix)
	if err != nil {
		return fmt.Errorf("auth: read the region's keys: %w", err)
	}
	v, bad := buildRegionView(entries)
	if len(bad) != rk.bad {
		for _, e := range bad {
			rk.log.Error("skipping an entry of the region's keys that does not decode", zap.Error(e))
		}
		rk.bad = len(bad)
	}
	for _, id := range rk.s.store.setRegion(v) {
		n := rk.s.sessions.endKey(id, ErrSessionRevoked)
		rk.log.Info("a key revoked in the region: connections closed", zap.String("key", id), zap.Int("connections", n))
	}
	rk.seen = ver
	rk.noteRead()
	return nil
}

// migrateLocked hands the node's own keys to the region: each is written
// to the map unless the map holds it or its revocation, then dropped here.
func (rk *regionKeys) migrateLocked(ctx context.Context) error {
	v := rk.s.store.region.Load()
	var handed []string
	written, err := rk.handFabricLocked(ctx, v)
	if err != nil {
		return err
	}
	geo := rk.s.regionalReplication() != nil
	for _, k := range rk.s.store.ownKeys() {
		if _, fabric := eventOfRecord(k); geo && fabric {
			handed = append(handed, k.ID) // handed by handFabricLocked
			continue
		}
		switch rec, held := v.get(k.ID); {
		case v.isRevoked(k.ID):
			rk.log.Error("a key of this node was revoked in the region: it is dropped (configure another adminKey if it is the configured one)",
				zap.String("key", k.ID), zap.String("createdBy", k.CreatedBy))
		case held && rec.Hash != k.Hash:
			rk.log.Error("the region holds another key under the id of a key of this node: the region's stands", zap.String("key", k.ID))
		case held:
		default:
			if err := rk.put(ctx, k); err != nil {
				return fmt.Errorf("auth: hand key %s to the region: %w", k.ID, err)
			}
			written++
			rk.log.Info("handed a key of this node to the region", zap.String("key", k.ID), zap.String("tenant", k.Tenant))
		}
		handed = append(handed, k.ID)
	}
	if written > 0 {
		if err := rk.bump(ctx); err != nil {
			return err
		}
		if err := rk.refreshLocked(ctx); err != nil {
			return err
		}
	}
	if err := rk.s.markRegionMember(); err != nil {
		return err
	}
	for _, id := range handed {
		if err := rk.s.store.dropOwn(id); err != nil {
			return err
		}
	}
	return nil
}

// forgetStale deletes the revocations older than the longest token's
// life (the record first, should a grant change have written it again).
func (rk *regionKeys) forgetStale() error {
	before := rk.s.now().Add(-rk.s.cfg.MaxTokenTTL).UnixMilli()
	ids := rk.s.store.region.Load().staleRevocations(before, maxForgetPerRescan)
	if len(ids) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(rk.ctx, regionIOTimeout)
	defer cancel()
	for _, id := range ids {
		if err := rk.m.Delete(ctx, regionKeyPrefix+id); err != nil {
			return fmt.Errorf("auth: forget revoked key %s: %w", id, err)
		}
		if err := rk.m.Delete(ctx, regionRevokedPrefix+id); err != nil {
			return fmt.Errorf("auth: forget the revocation of %s: %w", id, err)
		}
	}
	rk.log.Info("forgot revocations older than the longest token's life", zap.Int("keys", len(ids)))
	if err := rk.bump(ctx); err != nil {
		return err
	}
	return rk.refresh(rk.ctx)
}

// put writes k's record to the map.
func (rk *regionKeys) put(ctx context.Context, k KeyRecord) error {
	b, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("auth: encode key %s: %w", k.ID, err)
	}
	if err := rk.m.Put(ctx, regionKeyPrefix+k.ID, string(b)); err != nil {
		return fmt.Errorf("auth: save key %s in the region: %w", k.ID, err)
	}
	return nil
}

// bump writes a new version: every node reads the region's keys again.
func (rk *regionKeys) bump(ctx context.Context) error {
	var b [16]byte
	if _, err := io.ReadFull(rk.s.rand, b[:]); err != nil {
		return fmt.Errorf("auth: draw a version of the region's keys: %w", err)
	}
	if err := rk.m.Put(ctx, regionVersionKey, hex.EncodeToString(b[:])); err != nil {
		return fmt.Errorf("auth: announce a change of the region's keys: %w", err)
	}
	return nil
}

// changed announces a change written to the map and reads it back here.
func (rk *regionKeys) changed(ctx context.Context) error {
	if err := rk.bump(ctx); err != nil {
		return err
	}
	return rk.refresh(ctx)
}

// create completes rec for key (id, plain) and writes it to the region;
// it returns once this node sees it.
func (rk *regionKeys) create(ctx context.Context, id, plain string, rec KeyRecord) (KeyRecord, error) {
	rec, err := rk.s.completeKey(id, plain, rec)
	if err != nil {
		return KeyRecord{}, err
	}
	if err := rec.Validate(); err != nil {
		return KeyRecord{}, err
	}
	if max := rk.s.cfg.MaxKeysPerTenant; max > 0 && len(rk.s.store.list(rec.Tenant)) >= max {
		return KeyRecord{}, fmt.Errorf("%w: the tenant holds %d keys", ErrTooManyKeys, max)
	}
	if r := rk.s.regionalReplication(); r != nil {
		return rk.createFabric(ctx, r, rec) // regionfabric.go: the fabric's key
	}
	ctx, cancel := context.WithTimeout(ctx, regionIOTimeout)
	defer cancel()
	if err := rk.put(ctx, rec); err != nil {
		return KeyRecord{}, err
	}
	if err := rk.changed(ctx); err != nil {
		return KeyRecord{}, err
	}
	if k, ok := rk.s.store.get(id); ok {
		return k, nil
	}
	return KeyRecord{}, fmt.Errorf("%w: key %s was revoked as it was created", ErrKeyConflict, id)
}

// revoke revokes the key id of tenant in the region (and drops this
// node's own record of it): the revocation first, then the record, then
// the version; it returns once this node no longer accepts the key and
// has closed its connections.
func (rk *regionKeys) revoke(ctx context.Context, tenant, id string) error {
	k, ok := rk.s.store.get(id)
	if !ok || k.Tenant != tenant {
		return ErrKeyNotFound
	}
	if r := rk.s.regionalReplication(); r != nil && k.Origin != "" {
		return rk.revokeFabric(ctx, r, k) // regionfabric.go
	}
	ctx, cancel := context.WithTimeout(ctx, regionIOTimeout)
	defer cancel()
	if err := rk.m.Put(ctx, regionRevokedPrefix+id, strconv.FormatInt(rk.s.now().UnixMilli(), 10)); err != nil {
		return fmt.Errorf("auth: revoke key %s in the region: %w", id, err)
	}
	if err := rk.m.Delete(ctx, regionKeyPrefix+id); err != nil {
		return fmt.Errorf("auth: delete key %s in the region: %w", id, err)
	}
	if rk.s.store.ownHas(id) {
		if _, err := rk.s.store.remove(tenant, id, rk.s.now().UnixMilli()); err != nil && !errors.Is(err, ErrKeyNotFound) {
			return err
		}
	}
	if err := rk.changed(ctx); err != nil {
		return err
	}
	if n := rk.s.sessions.endKey(id, ErrSessionRevoked); n > 0 {
		rk.log.Info("revoked key: connections closed", zap.String("key", id), zap.Int("connections", n))
	}
	return nil
}

// setGrants writes next, the region's key with new permissions, to the
// region; held is false when the region does not hold the key (a key of
// this node not handed over yet: the caller changes it here).
func (rk *regionKeys) setGrants(ctx context.Context, next KeyRecord) (held bool, err error) {
	cur, ok := rk.s.store.region.Load().get(next.ID)
	if !ok {
		return false, nil
	}
	if err := next.Validate(); err != nil {
		return true, err
	}
	if r := rk.s.regionalReplication(); r != nil && cur.Origin != "" {
		return true, rk.grantsFabric(ctx, r, cur, next) // regionfabric.go
	}
	ctx, cancel := context.WithTimeout(ctx, regionIOTimeout)
	defer cancel()
	if err := rk.put(ctx, next); err != nil {
		return true, err
	}
	return true, rk.changed(ctx)
}

// markRegionMember records that the node's keys are its region's.
func (s *Service) markRegionMember() error {
	if err := s.store.kv.Set(kvRegionMember, []byte("1")); err != nil {
		return fmt.Errorf("auth: mark the node a region member: %w", err)
	}
	return nil
}
