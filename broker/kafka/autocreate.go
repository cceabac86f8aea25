package kafka

import (
	"sync"
	"time"
)

// maxPendingAutoCreates bounds the topics an autoCreateGate remembers.
const maxPendingAutoCreates = 10000

// autoCreateGate holds back the auto-creation of a topic in a region of a
// fabric of several regions: a topic created elsewhere may not have
// arrived yet, and auto-creating it here would make a one-partition fork
// of it. A topic's first request starts its wait; until wait has passed
// the caller answers LEADER_NOT_AVAILABLE (retriable; the topic's metadata
// may arrive meanwhile), after it the topic is created. It is pure: the
// caller passes the time.
type autoCreateGate struct {
	wait time.Duration

	mu    sync.Mutex
	first map[string]time.Time // topic -> first asked
}

func newAutoCreateGate(wait time.Duration) *autoCreateGate {
	return &autoCreateGate{wait: wait, first: map[string]time.Time{}}
}

// ready reports whether topic may be auto-created at now.
func (g *autoCreateGate) ready(topic string, now time.Time) bool {
	if g.wait <= 0 {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	at, ok := g.first[topic]
	if !ok {
		if len(g.first) >= maxPendingAutoCreates {
			g.expireLocked(now)
			if len(g.first) >= maxPendingAutoCreates {
				return false
			}
		}
		g.first[topic] = now
		return false
	}
	if now.Sub(at) < g.wait {
		return false
	}
	delete(g.first, topic)
	return true
}

// expireLocked forgets topics first asked for long ago (their clients gave
// up, or will start a new wait).
func (g *autoCreateGate) expireLocked(now time.Time) {
	for t, at := range g.first {
		if now.Sub(at) > 10*g.wait {
			delete(g.first, t)
		}
	}
}
