package shell

import (
	"github.com/prometheus/client_golang/prometheus"
)

// collector adapts Status to Prometheus: values are read on every scrape.
type collector struct {
	status                                    func() (Status, error)
	lagOps, lagSeconds, linkUp, delivered     *prometheus.Desc
	published, applied, rejected, retransmits *prometheus.Desc
	relayed, duplicates, buffered, linkDrops  *prometheus.Desc
}

func newCollector(s *Shell) *collector { return collectorOf(s.self, s.Status) }

// newStandbyCollector reads the Shell running under b (nothing while none
// runs on this node).
func newStandbyCollector(b *Standby) *collector { return collectorOf(b.self, b.Status) }

func collectorOf(self string, status func() (Status, error)) *collector {
	region := prometheus.Labels{"region": self}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("causeway_replication_"+name, help, labels, region)
	}
	return &collector{
		status:      status,
		lagOps:      d("lag_ops", "Ops of this region the peer has not acknowledged.", "peer"),
		lagSeconds:  d("lag_seconds", "Age of the oldest op of this region the peer has not acknowledged.", "peer"),
		linkUp:      d("link_up", "1 when the link to the peer is connected and not cut.", "peer"),
		delivered:   d("delivered_ops", "Ops of the origin delivered in this region.", "origin"),
		published:   d("published_ops_total", "Ops created in this region."),
		applied:     d("applied_records_total", "Replicated records appended to streams."),
		rejected:    d("rejected_messages_total", "Peer messages refused (bad input, wrong secret, invalid batches)."),
		retransmits: d("retransmits_total", "Go-back-N retransmissions."),
		relayed:     d("relayed_ranges_total", "Send ranges of third-party origins (relay)."),
		duplicates:  d("duplicate_ops_total", "Received ops that were already delivered."),
		buffered:    d("buffered_ops", "Received ops waiting for their causal dependencies."),
		linkDrops:   d("link_dropped_frames_total", "Frames dropped by the emulated WAN or a cut link.", "peer"),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.lagOps, c.lagSeconds, c.linkUp, c.delivered, c.published, c.applied,
		c.rejected, c.retransmits, c.relayed, c.duplicates, c.buffered, c.linkDrops} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.status()
	if err != nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for _, p := range st.Peers {
		gauge(c.lagOps, float64(p.LagOps), p.Peer)
		gauge(c.lagSeconds, p.LagMillis/1000, p.Peer)
		up := 0.0
		if p.Link.Up {
			up = 1
		}
		gauge(c.linkUp, up, p.Peer)
		counter(c.linkDrops, p.Link.LinkDrops, p.Peer)
	}
	for _, r := range st.Regions {
		gauge(c.delivered, float64(st.Delivered[r]), r)
	}
	counter(c.published, st.Shell.Published)
	counter(c.applied, st.Shell.Applied)
	counter(c.rejected, st.Shell.Rejected)
	counter(c.retransmits, st.Engine.Retransmits)
	counter(c.relayed, st.Engine.RelayedRanges)
	counter(c.duplicates, st.Engine.DuplicateOps)
	gauge(c.buffered, float64(st.Engine.BufferedOps))
}
