package kafka

import (
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/causeway/causeway/broker/limits"
)

// Request rates. On a listener that requires a login, every request of a
// logged-in connection takes one token of its principal's bucket (the one
// its HTTP and WebSocket requests take, auth.Service.Throttle). A request
// over the rate is not refused: as Kafka brokers do with quotas, it is
// served, its answer carries the throttle time (ThrottleMillis), and the
// connection is not read again until that time has passed ("muted"), so
// that a flooding client is paced at its rate while the others are not
// slowed down.

// SetLimitMetrics makes the listener count its throttled and oversized
// requests in m (the node's limit counters, exported with the others);
// by default it counts in counters of its own. Call it before Listen or
// Serve.
func (s *Server) SetLimitMetrics(m *limits.Metrics) {
	if m != nil {
		s.limits = m
	}
}

// LimitMetrics returns the counters of throttled and oversized requests.
func (s *Server) LimitMetrics() *limits.Metrics { return s.limits }

// throttle takes one request of the connection's principal's rate and
// returns how long the connection must not be read: 0 within the rate,
// before a login, or on a listener without authentication.
func (c *conn) throttle() time.Duration {
	p := c.auth.principal
	if p == nil || !c.s.sasl.required() {
		return 0
	}
	d := c.s.sasl.svc.Throttle(p)
	if d > 0 {
		c.s.limits.KafkaThrottled.Add(1)
	}
	return d
}

// mute waits d before the next request is read; false when the
// connection is closing meanwhile.
func (c *conn) mute(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// setThrottle makes resp's throttle time at least d (rounded up to a
// millisecond). Every response of the APIs served has the field; the
// versions that predate it do not encode it.
func setThrottle(resp kmsg.Response, d time.Duration) {
	r, ok := resp.(interface {
		kmsg.ThrottleResponse
		kmsg.SetThrottleResponse
	})
	if !ok || d <= 0 {
		return
	}
	ms := int32(min((d+time.Millisecond-1)/time.Millisecond, time.Duration(1<<31-1)))
	if cur, _ := r.Throttle(); cur < ms {
		r.SetThrottle(ms)
	}
}
