package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/causeway/causeway/broker/limits"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/replicator"
)

// Service is the authentication shell of one node: the key store, the
// token secret, the rate buckets, the per-tenant connection counts and the
// audit log. The HTTP gate (gate.go), the key endpoints (endpoints.go) and
// the Kafka listener's SASL use it.
type Service struct {
	cfg     Config
	log     *zap.Logger
	audit   *zap.Logger
	store   *store
	router  *Router
	rates   *limits.Rates
	conns   *limits.Counter
	secret  []byte
	now     func() time.Time
	rand    io.Reader
	metrics *Metrics
	maxBody int64
	// sessions are the live connections to end when their key is
	// revoked (sessions.go).
	sessions *sessions
	// bootstrapKey is the superuser key generated at this start ("" if
	// none was).
	bootstrapKey string
	// repl makes keys fabric-wide (replication.go); nil for a single
	// region.
	repl atomic.Pointer[replBox]
	// regionLink makes keys the region's in a region of several nodes
	// (regionkeys.go); nil otherwise. regionMember: the node's keys were
	// handed to its region (it generates no superuser key).
	regionLink   atomic.Pointer[regionKeys]
	regionMember bool
	// clock stamps this region's key events (a hybrid logical clock that
	// observes every event applied).
	clockMu sync.Mutex
	clock   replicator.Clock
}

// Options are the Service's collaborators. Zero fields take defaults.
type Options struct {
	// Logger receives the service's logs; its child "audit" the audit log
	// (default: no logs).
	Logger *zap.Logger
	// Now is the clock (default time.Now); Rand the randomness keys,
	// salts and secrets are drawn from (default crypto/rand).
	Now  func() time.Time
	Rand io.Reader
	// MaxHTTPBodyBytes bounds HTTP request bodies (default
	// limits.DefaultMaxHTTPBodyBytes).
	MaxHTTPBodyBytes int64
}

// New opens the service over kv. When cfg is on it makes sure a superuser
// key exists: cfg.AdminKey, or one generated now (BootstrapKey).
func New(cfg Config, kv KV, opts Options) (*Service, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.MaxHTTPBodyBytes == 0 {
		opts.MaxHTTPBodyBytes = limits.DefaultMaxHTTPBodyBytes
	}
	st, bad, err := openStore(kv, opts.Now().Add(-cfg.MaxTokenTTL).UnixMilli())
	if err != nil {
		return nil, err
	}
	s := &Service{
		cfg: cfg, log: opts.Logger.Named("auth"), audit: opts.Logger.Named("audit"), store: st,
		router: NewRouter(), rates: limits.NewRates(cfg.RequestsPerSecond, cfg.RequestBurst),
		conns: limits.NewCounter(cfg.MaxConnsPerTenant), now: opts.Now, rand: opts.Rand,
		metrics: &Metrics{}, maxBody: opts.MaxHTTPBodyBytes, sessions: newSessions(),
	}
	for _, e := range bad {
		s.log.Error("skipping a stored API key that does not decode", zap.Error(e))
	}
	last := st.maxStamp()
	s.clock = replicator.NewClock(replicator.Timestamp{WallNanos: last.Wall, Logical: last.Logical}, 0)
	if s.secret, err = s.loadSecret(kv); err != nil {
		return nil, err
	}
	if _, s.regionMember, err = kv.Get(kvRegionMember); err != nil {
		return nil, fmt.Errorf("auth: load the region mark: %w", err)
	}
	if cfg.On() {
		if err := s.bootstrap(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// On reports whether the service authenticates requests.
func (s *Service) On() bool { return s.cfg.On() }

// Config is the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// Metrics returns the live counters.
func (s *Service) Metrics() *Metrics { return s.metrics }

// BootstrapKey is the superuser key generated at this start, to show the
// operator once; "" when none was generated (a superuser key already
// existed, or cfg.AdminKey is set, or authentication is off).
func (s *Service) BootstrapKey() string { return s.bootstrapKey }

// loadSecret returns the configured token secret, or the stored one, or a
// new one it stores.
func (s *Service) loadSecret(kv KV) ([]byte, error) {
	if s.cfg.JWTSecret != "" {
		return []byte(s.cfg.JWTSecret), nil
	}
	b, found, err := kv.Get(kvJWTSecret)
	if err != nil {
		return nil, fmt.Errorf("auth: load token secret: %w", err)
	}
	if found {
		if sec, err := hex.DecodeString(string(b)); err == nil && len(sec) >= MinSecretBytes {
			return sec, nil
		}
		s.log.Error("stored token secret is damaged: generating a new one (tokens issued before are refused)")
	}
	sec := make([]byte, MinSecretBytes)
	if _, err := io.ReadFull(s.rand, sec); err != nil {
		return nil, fmt.Errorf("auth: draw token secret: %w", err)
	}
	if err := kv.Set(kvJWTSecret, []byte(hex.EncodeToString(sec))); err != nil {
		return nil, fmt.Errorf("auth: save token secret: %w", err)
	}
	return sec, nil
}

// bootstrap makes sure a superuser key exists.
func (s *Service) bootstrap() error {
	if s.cfg.AdminKey != "" {
		id, _ := KeyID(s.cfg.AdminKey)
		if k, ok := s.store.get(id); ok && k.Matches(s.cfg.AdminKey) && k.Superuser && k.Tenant == naming.DefaultTenant {
			return nil
		}
		if s.store.state(id).Revoked() {
			s.log.Error("the configured admin key was revoked fabric-wide: it is not restored; configure another adminKey",
				zap.String("id", id))
			return nil
		}
		_, err := s.storeKey(id, s.cfg.AdminKey, KeyRecord{Tenant: naming.DefaultTenant, Name: "admin (configuration)", Superuser: true,
			Permissions: []string{"admin:*"}, CreatedBy: "config"})
		return err
	}
	if s.store.hasSuperuser() || s.regionMember {
		return nil // a region member's superusers are its region's
	}
	id, plain, err := NewKey(s.rand)
	if err != nil {
		return err
	}
	if _, err := s.storeKey(id, plain, KeyRecord{Tenant: naming.DefaultTenant, Name: "admin (generated at first start)",
		Superuser: true, Permissions: []string{"admin:*"}, CreatedBy: "bootstrap"}); err != nil {
		return err
	}
	s.bootstrapKey = plain
	s.log.Warn("generated a superuser API key: it is shown once, keep it", zap.String("id", id))
	return nil
}

// storeKey completes rec for key (id, plain) and stores it.
func (s *Service) storeKey(id, plain string, rec KeyRecord) (KeyRecord, error) {
	rec, err := s.completeKey(id, plain, rec)
	if err != nil {
		return KeyRecord{}, err
	}
	if err := s.store.put(rec, s.cfg.MaxKeysPerTenant); err != nil {
		return KeyRecord{}, err
	}
	return rec, nil
}

// completeKey fills in the record of key (id, plain): its id, hash,
// creation time and SCRAM credential.
func (s *Service) completeKey(id, plain string, rec KeyRecord) (KeyRecord, error) {
	rec.ID, rec.Hash, rec.CreatedAt = id, HashKey(plain), s.now().UnixMilli()
	if rec.Permissions == nil {
		rec.Permissions = []string{}
	}
	sc, err := DeriveSCRAM(s.rand, id, plain)
	if err != nil {
		return KeyRecord{}, err
	}
	rec.SCRAM = sc
	return rec, nil
}

// Authenticate returns the principal of a credential: an API key or a
// token. Every failure is ErrUnauthenticated (the wrapped reason is for
// logs only).
func (s *Service) Authenticate(cred string) (*Principal, error) {
	now := s.now()
	if cred == "" {
		return nil, fmt.Errorf("%w: no credential", ErrUnauthenticated)
	}
	if IsKey(cred) {
		id, _ := KeyID(cred)
		k, ok := s.store.get(id)
		switch {
		case !ok:
			return nil, fmt.Errorf("%w: unknown or revoked key %s", ErrUnauthenticated, id)
		case !k.Matches(cred):
			return nil, fmt.Errorf("%w: wrong secret for key %s", ErrUnauthenticated, id)
		case k.Expired(now):
			return nil, fmt.Errorf("%w: key %s expired", ErrUnauthenticated, id)
		}
		return k.Principal()
	}
	p, c, err := ParseToken(s.secret, cred, now)
	if err != nil {
		return nil, err
	}
	if c.Key != "" {
		// A token issued from a key dies with it. A key this node never
		// knew is another node's own key, or a fabric-wide key whose
		// creation has not arrived yet (the token secret is shared): the
		// signature vouches for the token.
		k, ok := s.store.get(c.Key)
		switch {
		case !ok && s.store.isRevoked(c.Key):
			return nil, fmt.Errorf("%w: the key token was issued from (%s) is revoked", ErrUnauthenticated, c.Key)
		case ok && (k.Expired(now) || (!k.Superuser && k.Tenant != c.Tenant) || (c.Superuser && !k.Superuser)):
			return nil, fmt.Errorf("%w: the key token was issued from (%s) expired or does not cover it", ErrUnauthenticated, c.Key)
		case ok && k.ExpiresAt > 0 && (p.Expires.IsZero() || k.ExpiresAt < p.Expires.UnixMilli()):
			p.Expires = time.UnixMilli(k.ExpiresAt) // the token dies with its key
		}
	}
	return p, nil
}

// Revoke deletes the API key id of tenant (another tenant's key is
// ErrKeyNotFound): it authenticates nothing from now on, nor do the tokens
// issued from it, and the connections authenticated with either are ended
// (Track) before Revoke returns. In a multi-region node the revocation is
// fabric-wide and permanent (replication.go): Revoke returns once it is
// applied here; every other region applies it as it arrives.
func (s *Service) Revoke(tenant, id string) error {
	return s.RevokeContext(context.Background(), tenant, id)
}

// RevokeContext is Revoke, giving up waiting for a multi-region
// revocation to apply here when ctx ends (it is applied all the same).
func (s *Service) RevokeContext(ctx context.Context, tenant, id string) error {
	if rk := s.regionKeys(); rk != nil {
		return rk.revoke(ctx, tenant, id)
	}
	if r := s.replication(); r != nil {
		k, ok := s.store.get(id)
		if !ok || k.Tenant != tenant {
			return ErrKeyNotFound
		}
		return s.publish(ctx, r, Event{Type: EventRevoke, Key: id, Tenant: tenant, Stamp: s.stamp(r.Region()),
			At: s.now().UnixMilli()})
	}
	if _, err := s.store.remove(tenant, id, s.now().UnixMilli()); err != nil {
		return err
	}
	if n := s.sessions.endKey(id, ErrSessionRevoked); n > 0 {
		s.log.Info("revoked key: connections closed", zap.String("key", id), zap.Int("connections", n))
	}
	return nil
}

// KeyPrincipal returns the principal of the key id if it exists and has not
// expired (SCRAM logins, which prove the key without showing it).
func (s *Service) KeyPrincipal(id string) (*Principal, error) {
	k, ok := s.store.get(id)
	if !ok || k.Expired(s.now()) {
		return nil, fmt.Errorf("%w: unknown, revoked or expired key %q", ErrUnauthenticated, id)
	}
	return k.Principal()
}

// SCRAMCredential returns the SCRAM-SHA-256 credential of the key id.
func (s *Service) SCRAMCredential(id string) (*SCRAMCredential, error) {
	k, ok := s.store.get(id)
	if !ok || k.SCRAM == nil || k.Expired(s.now()) {
		return nil, fmt.Errorf("%w: unknown, revoked or expired key %q", ErrUnauthenticated, id)
	}
	return k.SCRAM, nil
}

// AcquireConn counts one more long-lived connection (WebSocket, Kafka) of
// tenant; release gives it back (call it once). It fails with
// ErrTooManyConnections past MaxConnsPerTenant.
func (s *Service) AcquireConn(tenant string) (release func(), err error) {
	if !s.conns.Acquire(tenant) {
		s.metrics.TenantConnsRefused.Add(1)
		return nil, fmt.Errorf("%w: tenant holds %d connections", ErrTooManyConnections, s.cfg.MaxConnsPerTenant)
	}
	var once sync.Once
	return func() { once.Do(func() { s.conns.Release(tenant) }) }, nil
}

// AllowRequest takes one request of p's rate; false (and counted) when p
// is over it.
func (s *Service) AllowRequest(p *Principal) bool {
	if s.rates.Allow(p.ID, s.now()) {
		return true
	}
	s.metrics.RateLimited.Add(1)
	return false
}

// MaxThrottle bounds the throttle Throttle hands out (Kafka caps its quota
// throttles likewise, at its quota window).
const MaxThrottle = 10 * time.Second

// Throttle takes one request of p's rate (the bucket AllowRequest uses)
// without ever refusing it, and returns how long p's connection should
// wait before its next request: 0 within the rate, at most MaxThrottle.
// The Kafka listener answers with it as ThrottleMillis and does not read
// the connection again until it has passed, as Kafka brokers do.
func (s *Service) Throttle(p *Principal) time.Duration {
	return s.rates.Take(p.ID, s.now(), MaxThrottle)
}

// errorKind names an authentication or authorization failure for logs.
func errorKind(err error) string {
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return "unauthenticated"
	case errors.Is(err, ErrNotFound):
		return "other-tenant"
	case errors.Is(err, ErrForbidden):
		return "forbidden"
	}
	return "error"
}
