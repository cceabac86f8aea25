package auth

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/causeway/causeway/broker/limits"
)

// Metrics counts the gate's refusals and the audit records; the caller
// reads it (no global registry).
type Metrics struct {
	Unauthenticated    atomic.Uint64 // 401: missing, bad, expired or revoked credentials
	Forbidden          atomic.Uint64 // 403: a grant is missing
	OtherTenant        atomic.Uint64 // 404: a request for another tenant's data
	RateLimited        atomic.Uint64 // 429: over the principal's request rate
	TenantConnsRefused atomic.Uint64 // 429: over the tenant's connection bound
	BadPaths           atomic.Uint64 // 400: non-canonical paths
	BodyTooLarge       atomic.Uint64 // 413: request bodies over MaxHTTPBodyBytes
	AuditRecords       atomic.Uint64
	// Key events from the replication (replication.go): applied (they
	// changed a key), unchanged (duplicates, older grant changes, events
	// of revoked keys) and refused (bad events).
	KeyEventsApplied   atomic.Uint64
	KeyEventsUnchanged atomic.Uint64
	KeyEventsRefused   atomic.Uint64
}

// Collector exports the gate's and the listeners' counters to Prometheus.
type Collector struct {
	m  *Metrics
	lm *limits.Metrics

	refused, conns, audit, throttled, tooLarge, keyEvents *prometheus.Desc
}

// NewCollector exports m and lm (lm may be nil) with constant labels.
func NewCollector(m *Metrics, lm *limits.Metrics, labels prometheus.Labels) *Collector {
	return &Collector{
		m: m, lm: lm,
		refused: prometheus.NewDesc("causeway_auth_refused_total",
			"Requests refused by authentication, authorization or a per-key limit, by reason.", []string{"reason"}, labels),
		conns: prometheus.NewDesc("causeway_limit_connections_refused_total",
			"Connections refused by a connection limit, by limit.", []string{"limit"}, labels),
		audit: prometheus.NewDesc("causeway_audit_records_total", "Admin actions recorded in the audit log.", nil, labels),
		throttled: prometheus.NewDesc("causeway_limit_throttled_requests_total",
			"Requests served late because their key was over its request rate (Kafka: answered with a throttle time, the connection muted), by listener.",
			[]string{"listener"}, labels),
		tooLarge: prometheus.NewDesc("causeway_limit_oversize_requests_total",
			"Requests larger than the listener's bound (their connection was closed), by listener.", []string{"listener"}, labels),
		keyEvents: prometheus.NewDesc("causeway_auth_key_events_total",
			"Replicated API key events (creations, grant changes, revocations) by result: applied, unchanged (already applied or superseded), refused (invalid).",
			[]string{"result"}, labels),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.refused
	ch <- c.conns
	ch <- c.audit
	ch <- c.throttled
	ch <- c.tooLarge
	ch <- c.keyEvents
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(c.refused, c.m.Unauthenticated.Load(), "unauthenticated")
	counter(c.refused, c.m.Forbidden.Load(), "forbidden")
	counter(c.refused, c.m.OtherTenant.Load(), "other_tenant")
	counter(c.refused, c.m.RateLimited.Load(), "rate_limited")
	counter(c.refused, c.m.BadPaths.Load(), "bad_path")
	counter(c.refused, c.m.BodyTooLarge.Load(), "body_too_large")
	counter(c.conns, c.m.TenantConnsRefused.Load(), "per_tenant")
	lm := c.lm
	if lm == nil {
		lm = &limits.Metrics{}
	}
	counter(c.conns, lm.ConnsRefused.Load(), "per_ip")
	counter(c.throttled, lm.KafkaThrottled.Load(), "kafka")
	counter(c.tooLarge, lm.KafkaTooLarge.Load(), "kafka")
	counter(c.audit, c.m.AuditRecords.Load())
	counter(c.keyEvents, c.m.KeyEventsApplied.Load(), "applied")
	counter(c.keyEvents, c.m.KeyEventsUnchanged.Load(), "unchanged")
	counter(c.keyEvents, c.m.KeyEventsRefused.Load(), "refused")
}
