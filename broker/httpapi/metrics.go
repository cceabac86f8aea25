package httpapi

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/causeway/causeway/broker"
)

// collector adapts the broker's own Metrics struct to Prometheus: values
// are read on every scrape; nothing is registered globally.
type collector struct {
	node *broker.Node

	messagesIn, bytesIn, messagesOut, bytesOut *prometheus.Desc
	publishErrors, duplicates, rejected        *prometheus.Desc
	producers, consumers, connections, streams *prometheus.Desc
	publishLatency                             *prometheus.Desc
	refusals, storeRefused, storeWritable      *prometheus.Desc
}

func newCollector(node *broker.Node) *collector {
	region := prometheus.Labels{"region": node.Config().Region}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("causeway_"+name, help, nil, region)
	}
	return &collector{
		node:           node,
		messagesIn:     d("messages_in_total", "Messages published and made durable."),
		bytesIn:        d("bytes_in_total", "Payload bytes published."),
		messagesOut:    d("messages_out_total", "Messages delivered to consumers and readers."),
		bytesOut:       d("bytes_out_total", "Payload bytes delivered."),
		publishErrors:  d("publish_errors_total", "Messages whose publish failed in storage."),
		duplicates:     d("duplicates_total", "Re-sent messages recognised by producer name and sequence id."),
		rejected:       d("rejected_frames_total", "Frames refused as malformed or invalid."),
		producers:      d("producers", "Connected producers."),
		consumers:      d("consumers", "Attached consumers."),
		connections:    d("websocket_connections", "Open WebSocket connections."),
		streams:        d("streams", "Streams on this node."),
		publishLatency: d("publish_latency_seconds", "Time from handing a batch to storage until it is durable."),
		refusals: prometheus.NewDesc("causeway_publish_refusals_total", "Messages whose publish failed, by reason (no_space, storage, unavailable, too_large, other).",
			[]string{"reason"}, region),
		storeRefused: prometheus.NewDesc("causeway_store_refused_writes_total", "Writes a Pebble store refused (failed store, read-only, disk below the reserve).",
			[]string{"store"}, region),
		storeWritable: prometheus.NewDesc("causeway_store_writable", "1 while a Pebble store accepts writes, 0 while it refuses them (see /health).",
			[]string{"store"}, region),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.messagesIn, c.bytesIn, c.messagesOut, c.bytesOut, c.publishErrors,
		c.duplicates, c.rejected, c.producers, c.consumers, c.connections, c.streams, c.publishLatency,
		c.refusals, c.storeRefused, c.storeWritable} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	m := c.node.Metrics()
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter(c.messagesIn, m.MessagesIn.Load())
	counter(c.bytesIn, m.BytesIn.Load())
	counter(c.messagesOut, m.MessagesOut.Load())
	counter(c.bytesOut, m.BytesOut.Load())
	counter(c.publishErrors, m.PublishErrors.Load())
	counter(c.duplicates, m.Duplicates.Load())
	counter(c.rejected, m.RejectedFrames.Load())
	gauge(c.producers, m.Producers.Load())
	gauge(c.consumers, m.Consumers.Load())
	gauge(c.connections, m.Connections.Load())
	gauge(c.streams, int64(len(c.node.Streams("", ""))))
	cum, count, sum := m.PublishLatency.Snapshot()
	buckets := make(map[float64]uint64, len(cum))
	for i, b := range broker.HistogramBuckets {
		buckets[b] = cum[i]
	}
	ch <- prometheus.MustNewConstHistogram(c.publishLatency, count, sum, buckets)
	for i, n := range m.PublishRefusals() {
		ch <- prometheus.MustNewConstMetric(c.refusals, prometheus.CounterValue, float64(n), broker.RefusalReasons[i])
	}
	h := c.node.StoreHealth()
	ch <- prometheus.MustNewConstMetric(c.storeRefused, prometheus.CounterValue, float64(h.Stats.RefusedWrites), h.Name)
	writable := 0.0
	if h.Writable {
		writable = 1
	}
	ch <- prometheus.MustNewConstMetric(c.storeWritable, prometheus.GaugeValue, writable, h.Name)
}
