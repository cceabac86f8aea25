package streamworkers

import (
	"github.com/prometheus/client_golang/prometheus"
)

// collector exports the figures of the workers a node runs to /metrics
// (registered with the node's handler, broker/httpapi.Handler.Register).
type collector struct {
	r *Runner

	in, out, errs, lag, state, pending, inRate, outRate *prometheus.Desc
}

// Collector returns the runner's Prometheus collector.
func (r *Runner) Collector() prometheus.Collector {
	labels := []string{"tenant", "fabric", "worker", "region"}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("causeway_streamworker_"+name, help, labels, nil)
	}
	return &collector{
		r:       r,
		in:      d("events_in_total", "Messages a stream worker consumed (since it was created)."),
		out:     d("rows_out_total", "Rows a stream worker made (since it was created)."),
		errs:    d("errors_total", "Messages and rows a stream worker sent to its error stream."),
		lag:     d("lag_messages", "Messages of a stream worker's inputs not consumed yet."),
		state:   d("state_bytes", "Size of a stream worker's engine state."),
		pending: d("pending_rows", "Rows committed and not yet sent."),
		inRate:  d("input_rate", "Messages consumed per second (last sample)."),
		outRate: d("output_rate", "Rows made per second (last sample)."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.in, c.out, c.errs, c.lag, c.state, c.pending, c.inRate, c.outRate} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	for id, s := range c.r.running() {
		st := s.snapshot(c.r.region)
		l := []string{id.Tenant, id.Fabric, id.Name, c.r.region}
		ch <- prometheus.MustNewConstMetric(c.in, prometheus.CounterValue, float64(st.EventsIn), l...)
		ch <- prometheus.MustNewConstMetric(c.out, prometheus.CounterValue, float64(st.RowsOut), l...)
		ch <- prometheus.MustNewConstMetric(c.errs, prometheus.CounterValue, float64(st.Errors), l...)
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(st.Lag), l...)
		ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, float64(st.StateBytes), l...)
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(st.Pending), l...)
		ch <- prometheus.MustNewConstMetric(c.inRate, prometheus.GaugeValue, st.InPerSecond, l...)
		ch <- prometheus.MustNewConstMetric(c.outRate, prometheus.GaugeValue, st.OutPerSecond, l...)
	}
}
