package auth

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Why a tracked connection is ended; the front end closes it with the
// message (WebSocket: close code 1008, policy violation; Kafka: the TCP
// connection is closed).
var (
	// ErrSessionRevoked: the API key the connection authenticated with (or
	// the key its token was issued from) was revoked.
	ErrSessionRevoked = errors.New("auth: the connection's API key was revoked")
	// ErrSessionExpired: the token or key the connection authenticated
	// with expired.
	ErrSessionExpired = errors.New("auth: the connection's credentials expired")
)

// sessions is the registry of a node's long-lived authenticated
// connections (WebSocket, Kafka) by the API key behind them, so that
// revoking a key ends them. Safe for concurrent use.
type sessions struct {
	mu    sync.Mutex
	byKey map[string]map[*session]struct{}
}

// session is one tracked connection.
type session struct {
	key   string // "" for a token of no key (expiry only)
	end   func(error)
	once  sync.Once
	mu    sync.Mutex
	timer *time.Timer // the expiry, nil for none
}

func newSessions() *sessions { return &sessions{byKey: map[string]map[*session]struct{}{}} }

// finish ends se with err, unless it ended or was untracked already.
func (se *session) finish(err error) {
	se.once.Do(func() {
		se.mu.Lock()
		t := se.timer
		se.mu.Unlock()
		if t != nil {
			t.Stop()
		}
		if err != nil {
			se.end(err)
		}
	})
}

func (r *sessions) add(se *session) {
	if se.key == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.byKey[se.key]
	if m == nil {
		m = map[*session]struct{}{}
		r.byKey[se.key] = m
	}
	m[se] = struct{}{}
}

func (r *sessions) remove(se *session) {
	if se.key == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.byKey[se.key]; m != nil {
		delete(m, se)
		if len(m) == 0 {
			delete(r.byKey, se.key)
		}
	}
}

// endKey ends every session of key with err.
func (r *sessions) endKey(key string, err error) int {
	r.mu.Lock()
	m := r.byKey[key]
	delete(r.byKey, key)
	r.mu.Unlock()
	for se := range m {
		se.finish(err)
	}
	return len(m)
}

// count is the number of sessions of key.
func (r *sessions) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byKey[key])
}

// Track registers a long-lived connection authenticated as p. end is
// called once, on a goroutine of its own or on Revoke's, with
// ErrSessionRevoked when p's key (or the key p's token was issued from) is
// revoked on this node, or with ErrSessionExpired when p's token or key
// expires; it must close the connection without blocking. Call untrack
// when the connection closes (once or more): end is not called after it
// returns, unless it was already running.
func (s *Service) Track(p *Principal, end func(error)) (untrack func()) {
	se := &session{key: p.KeyID, end: end}
	s.sessions.add(se)
	if !p.Expires.IsZero() {
		se.mu.Lock()
		se.timer = time.AfterFunc(max(p.Expires.Sub(s.now()), 0), func() {
			s.sessions.remove(se)
			se.finish(ErrSessionExpired)
		})
		se.mu.Unlock()
	}
	// A key revoked between the login and now has already ended its
	// sessions: end this one too.
	if se.key != "" && s.store.isRevoked(se.key) {
		s.sessions.remove(se)
		go se.finish(ErrSessionRevoked)
	}
	return func() {
		s.sessions.remove(se)
		se.finish(nil)
	}
}

// Sessions is the number of tracked connections of the API key id.
func (s *Service) Sessions(keyID string) int { return s.sessions.count(keyID) }

type serviceKey struct{}

// TrackRequest is Track for the connection a request the gate admitted
// upgrades to (a WebSocket): the principal and the service come from the
// request's context. On a node without authentication it tracks nothing.
func TrackRequest(ctx context.Context, end func(error)) (untrack func()) {
	p, ok := FromContext(ctx)
	s, _ := ctx.Value(serviceKey{}).(*Service)
	if !ok || s == nil {
		return func() {}
	}
	return s.Track(p, end)
}
