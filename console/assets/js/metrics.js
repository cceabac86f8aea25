// Metrics (superusers): live charts from the node's /metrics: publish and
// deliver rates, publish latency p99, replication lag per link.
import { h, card, errorBox, every } from './ui.js';
import { parse, sum, buckets, quantile } from './prom.js';
import { Chart } from './chart.js';

export async function render({ api, principal, signal, el }) {
  if (!principal.superuser) {
    el.append(card('Metrics', h('p', { class: 'muted' }, 'The node\'s metrics (GET /metrics) are for superusers.')));
    return;
  }
  const err = errorBox('metrics');
  const mk = (id) => h('canvas', { class: 'chart', id });
  const c = { rate: mk('chart-rate'), p99: mk('chart-p99'), lagOps: mk('chart-lag-ops'), lagMs: mk('chart-lag-ms') };
  const charts = { rate: new Chart(c.rate, 'msgs/s'), p99: new Chart(c.p99, 'ms'),
    lagOps: new Chart(c.lagOps, 'ops'), lagMs: new Chart(c.lagMs, 'ms') };
  const note = h('p', { class: 'muted' }, 'Sampled every 2 s from GET /metrics of this node.');
  el.append(card('Metrics of this node', err, note,
    h('div', { class: 'row' }, h('div', {}, h('h3', {}, 'Publish / deliver rate'), c.rate), h('div', {}, h('h3', {}, 'Publish latency p99'), c.p99)),
    h('div', { class: 'row' }, h('div', {}, h('h3', {}, 'Replication lag per link (ops)'), c.lagOps), h('div', {}, h('h3', {}, 'Replication lag per link (ms)'), c.lagMs))));
  let prev = null;
  every(2000, signal, async () => {
    let samples;
    try {
      samples = parse(await api.text('/metrics'));
      err.textContent = '';
    } catch (e) {
      err.textContent = e.message;
      return;
    }
    const now = { t: performance.now(), in: sum(samples, 'causeway_messages_in_total'), out: sum(samples, 'causeway_messages_out_total'),
      lat: buckets(samples, 'causeway_publish_latency_seconds') };
    if (prev) {
      const dt = (now.t - prev.t) / 1000;
      charts.rate.push('publish', Math.max(0, (now.in - prev.in) / dt));
      charts.rate.push('deliver', Math.max(0, (now.out - prev.out) / dt));
      const q = quantile(0.99, now.lat, prev.lat);
      charts.p99.push('p99', q === undefined ? undefined : q * 1000);
    }
    prev = now;
    for (const s of samples) {
      if (s.name === 'causeway_replication_lag_ops') charts.lagOps.push(s.labels.peer || '?', s.value);
      if (s.name === 'causeway_replication_lag_seconds') charts.lagMs.push(s.labels.peer || '?', s.value * 1000);
    }
    for (const ch of Object.values(charts)) ch.draw();
  });
}
