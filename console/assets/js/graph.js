// The fabric graph: every region a node, every pair of regions an edge
// labelled with its lag both ways (fabric.js fabricPairs), drawn as SVG.
// This region's edges are coloured by their link's state; the others are
// grey and dotted: their state is not known where the page is served.

const svgNS = 'http://www.w3.org/2000/svg';

const s = (tag, attrs, ...kids) => {
  const el = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const k of kids) el.append(k);
  return el;
};

export const stateColors = { up: '#15803d', cut: '#b91c1c', relayed: '#b45309', connecting: '#6b7483', unknown: '#94a3b8' };

// lagText is one direction of a pair: "a→b: 3 ops · 12 ms", or
// "b→c: 7 ops (stale)" when it is as last advertised.
export function lagText(p) {
  const ops = p.lagOps === null ? 'unknown' : `${p.lagOps} ops`;
  const ms = p.lagMillis === null || p.lagOps === null ? '' : ` · ${Math.round(p.lagMillis)} ms`;
  return `${p.from}→${p.to}: ${ops}${ms}${p.stale ? ' (stale)' : ''}`;
}

// edgeKey names the edge between two regions, whichever way.
export const edgeKey = (a, b) => [a, b].sort().join('|');

// fabricGraph draws {regions, pairs} as seen from self, self on top.
export function fabricGraph({ regions, pairs }, self) {
  const w = 760, cx = w / 2, cy = 190, rx = 250, ry = 135;
  const order = [self, ...regions.filter((r) => r !== self)];
  const pos = new Map(order.map((r, i) => {
    const a = (2 * Math.PI * i) / order.length - Math.PI / 2;
    return [r, { x: cx + rx * Math.cos(a), y: cy + ry * Math.sin(a) }];
  }));
  const ys = [...pos.values()].map((p) => p.y), top = Math.min(...ys) - 45, height = Math.max(...ys) + 45 - top;
  const svg = s('svg', { class: 'graph', width: w, height, viewBox: `0 ${top} ${w} ${height}`, role: 'img',
    'aria-label': `regions and the lag between them, as seen from ${self}` });
  const radius = (r) => (r === self ? 34 : 30);
  for (const r of order) {
    const { x, y } = pos.get(r);
    const me = r === self;
    svg.append(s('g', { 'data-region': r },
      s('circle', { cx: x, cy: y, r: radius(r), fill: me ? '#dbeafe' : '#e0e7ff', stroke: me ? '#2563eb' : '#6366f1', 'stroke-width': me ? 2 : 1 }),
      s('text', { x, y: y + 4, 'text-anchor': 'middle', 'font-weight': me ? 700 : 400 }, r)));
  }
  // Edges run between the circles' rims, so they may be drawn over them;
  // each holds its line and its label.
  const byPair = new Map(pairs.map((p) => [p.from + '\n' + p.to, p]));
  order.forEach((a, i) => order.slice(i + 1).forEach((b) => {
    const ab = byPair.get(a + '\n' + b), ba = byPair.get(b + '\n' + a);
    if (!ab || !ba) return;
    const state = ab.state; // both directions share the link
    const color = stateColors[state] || stateColors.unknown;
    const A = pos.get(a), B = pos.get(b);
    const d = Math.hypot(B.x - A.x, B.y - A.y) || 1, ux = (B.x - A.x) / d, uy = (B.y - A.y) / d;
    const g = s('g', { 'data-edge': edgeKey(a, b), 'data-state': state },
      s('title', {}, ab.own ? `link ${a}–${b}: ${state}` : `as seen from ${self}; link state unknown here`),
      s('line', { x1: A.x + ux * radius(a), y1: A.y + uy * radius(a), x2: B.x - ux * radius(b), y2: B.y - uy * radius(b),
        stroke: color, 'stroke-width': ab.own ? 3 : 2, 'stroke-dasharray': state === 'up' ? '' : state === 'unknown' ? '2 5' : '6 4' }));
    const lines = [...(ab.own ? [state] : []), lagText(ab), lagText(ba)];
    // Labels left of the middle end at their edge, those right of it
    // start there: two edges meeting above do not write over each other.
    const side = Math.sign(Math.round((A.x + B.x) / 2 - cx));
    const mx = (A.x + B.x) / 2 + side * 8, my = (A.y + B.y) / 2 - ((lines.length - 1) * 14) / 2 + 4;
    const anchor = side < 0 ? 'end' : side > 0 ? 'start' : 'middle';
    g.append(s('text', { x: mx, y: my, fill: ab.own ? color : '#475569', 'text-anchor': anchor, class: 'edge-label' },
      ...lines.map((l, k) => s('tspan', { x: mx, dy: k ? 14 : 0, 'font-weight': ab.own && k === 0 ? 700 : 400 }, l))));
    svg.append(g);
  }));
  return svg;
}
