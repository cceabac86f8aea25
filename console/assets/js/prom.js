// Reading the node's /metrics (Prometheus text format) for the charts.

// parse returns samples: [{name, labels, value}]. Lines that do not
// parse are skipped.
export function parse(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    if (m[3]) for (const l of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    const value = Number(m[4]);
    if (!Number.isNaN(value)) out.push({ name: m[1], labels, value });
  }
  return out;
}

export function sum(samples, name) {
  return samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
}

// buckets sums a histogram's cumulative buckets by upper bound.
export function buckets(samples, name) {
  const m = new Map();
  for (const s of samples) {
    if (s.name !== name + '_bucket') continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    m.set(le, (m.get(le) || 0) + s.value);
  }
  return [...m.entries()].sort((a, b) => a[0] - b[0]);
}

// quantile estimates q from the difference of two bucket snapshots (the
// observations between them), interpolating inside the bucket as
// Prometheus' histogram_quantile does; undefined with no observations.
export function quantile(q, now, before) {
  const prev = new Map(before);
  const d = now.map(([le, c]) => [le, c - (prev.get(le) || 0)]);
  const total = d.length ? d[d.length - 1][1] : 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lo = 0, below = 0;
  for (const [le, c] of d) {
    if (c >= rank) {
      if (le === Infinity) return lo;
      return lo + ((le - lo) * (rank - below)) / Math.max(c - below, 1e-9);
    }
    lo = le;
    below = c;
  }
  return lo;
}
