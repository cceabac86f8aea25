// Fabric: this region and its links to every other region (state, lag in
// ops and ms, live), the nodes of the region when it has several, and
// cutting or healing a link (superusers).
import { h, card, table, errorBox, act, every } from './ui.js';

const svgNS = 'http://www.w3.org/2000/svg';
const s = (tag, attrs, ...kids) => {
  const el = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const k of kids) el.append(k);
  return el;
};

// linkState names a peer link as the fabric page shows it.
export function linkState(p, peers) {
  const l = p.link || {};
  if (l.down) return 'cut';
  if (l.up && l.connected) return 'up';
  const others = peers.some((q) => q !== p && q.link && q.link.up && q.link.connected);
  return others ? 'relayed' : 'connecting';
}

function graph(st) {
  const w = 520, hgt = 300, cx = w / 2, cy = hgt / 2, r = 110;
  const svg = s('svg', { class: 'graph', width: w, height: hgt, viewBox: `0 0 ${w} ${hgt}`, role: 'img' });
  const peers = st.peers || [];
  peers.forEach((p, i) => {
    const a = (2 * Math.PI * i) / Math.max(peers.length, 1) - Math.PI / 2;
    const x = cx + r * 1.6 * Math.cos(a), y = cy + r * Math.sin(a);
    const state = linkState(p, peers);
    const color = { up: '#15803d', cut: '#b91c1c', relayed: '#b45309', connecting: '#6b7483' }[state];
    svg.append(s('line', { x1: cx, y1: cy, x2: x, y2: y, stroke: color, 'stroke-width': 3,
      'stroke-dasharray': state === 'up' ? '' : '6 4' }));
    const mx = (cx + x) / 2, my = (cy + y) / 2;
    svg.append(s('text', { x: mx + 4, y: my - 4, fill: color }, `${state} · ${p.lagOps} ops · ${Math.round(p.lagMillis)} ms`));
    svg.append(s('circle', { cx: x, cy: y, r: 28, fill: '#e0e7ff', stroke: '#6366f1' }));
    svg.append(s('text', { x, y: y + 4, 'text-anchor': 'middle' }, p.peer));
  });
  svg.append(s('circle', { cx, cy, r: 34, fill: '#dbeafe', stroke: '#2563eb', 'stroke-width': 2 }));
  svg.append(s('text', { x: cx, y: cy + 4, 'text-anchor': 'middle', 'font-weight': 700 }, st.region));
  return svg;
}

export async function render({ api, principal, signal, el }) {
  const err = errorBox('fabric');
  const status = h('div', {}, h('p', { class: 'muted' }, 'loading…'));
  const nodes = h('div');
  el.append(card('Regions and links (as this node sees them)', err, status), card('Nodes of this region', nodes));
  if (!principal.superuser) {
    status.replaceChildren(h('p', { class: 'muted' },
      'The replication status (GET /_api/replication) is for superusers; this key cannot read it.'));
    nodes.replaceChildren(h('p', { class: 'muted' }, 'The region state (GET /_api/region/state) is for superusers.'));
    return;
  }
  const linkErr = errorBox('link');
  const draw = (st) => {
    const peers = st.peers || [];
    const rows = peers.map((p) => ({ ...p, state: linkState(p, peers) }));
    const cols = [
      { title: 'peer', key: 'peer' },
      { title: 'link', render: (p) => h('span', { class: 'state-' + p.state, 'data-link': p.peer }, p.state) },
      { title: 'lag (ops)', key: 'lagOps' },
      { title: 'lag (ms)', render: (p) => (p.lagKnown ? Math.round(p.lagMillis) : 'unknown') },
      { title: 'address', render: (p) => (p.link && p.link.addr) || '' },
      { title: 'frames sent / dropped', render: (p) => p.link ? `${p.link.written} / ${p.link.linkDrops + p.link.queueDrops}` : '' },
      { title: '', render: (p) => {
        const down = p.state === 'cut';
        const b = h('button', { class: down ? '' : 'danger', 'data-action': (down ? 'heal-' : 'cut-') + p.peer },
          down ? 'Heal link' : 'Cut link');
        b.addEventListener('click', () => act(linkErr, async () => {
          await api.post('/_api/replication/links/' + encodeURIComponent(p.peer) + (down ? '/up' : '/down'));
          draw(await fetchStatus());
        }, b));
        return b;
      } },
    ];
    status.replaceChildren(
      h('p', {}, 'Region ', h('b', {}, st.region), ' · fabric regions: ', (st.regions || []).join(', '),
        st.joined === false ? ' · joining' : '', st.failed ? h('span', { class: 'error' }, ' · replication failed: ' + st.failed) : ''),
      graph(st), table(cols, rows, { empty: 'no peers: this node runs a region of its own' }), linkErr,
      h('p', { class: 'muted' }, 'Cut and heal act on this region\'s side of a link, both directions ' +
        '(POST /_api/replication/links/{peer}/down|up); `causeway dev link` does both regions.'),
      h('p', { class: 'muted' }, 'Delivered ops by origin: ' + JSON.stringify(st.delivered || {})));
  };
  const fetchStatus = async () => (await api.get('/_api/replication')).result;
  let regionNodes = []; // the other nodes' URLs, from the region state
  every(1000, signal, async () => {
    try {
      draw(await fetchStatus());
      err.textContent = '';
    } catch (e) {
      if (e.status === 404) {
        status.replaceChildren(h('p', { class: 'muted' }, 'This node has no geo-replication: its region is the whole fabric.'));
        err.textContent = '';
      } else if (e.status === 503 && regionNodes.length) {
        // A region of several nodes: one of them runs its replication.
        err.textContent = '';
        status.replaceChildren(h('p', { class: 'muted' }, e.message),
          h('p', {}, 'Another node of this region runs its replication now; its console shows the links: ',
            ...regionNodes.map((u) => [h('a', { href: u + '/console/#/fabric' }, u), ' '])));
      } else {
        err.textContent = e.message;
      }
    }
  });
  every(3000, signal, async () => {
    try {
      const st = await api.get('/_api/region/state');
      const r = st.result || st;
      const units = r.units || [];
      regionNodes = (r.nodes || []).filter((n) => n.id !== r.node && n.addrs && n.addrs.http).map((n) => n.addrs.http.replace(/\/$/, ''));
      nodes.replaceChildren(table([
        { title: 'node', render: (n) => n.id + (n.id === r.node ? ' (this one)' : '') }, { title: 'status', key: 'status' },
        { title: 'http', render: (n) => (n.addrs && n.addrs.http) || '' },
        { title: 'incarnation', key: 'incarnation' },
        { title: 'units led', render: (n) => units.filter((u) => u.leader === n.id).length },
        { title: 'replicas held', render: (n) => units.filter((u) => (u.replicas || []).includes(n.id)).length },
      ], r.nodes || []), h('p', { class: 'muted' }, `metadata group leader: node ${r.metaLeader || 'none'} · ${units.length} units`));
    } catch (e) {
      nodes.replaceChildren(h('p', { class: 'muted' },
        e.status === 404 || e.status === 403 ? 'This region is one node.' : e.message));
    }
  });
}
