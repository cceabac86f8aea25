// Fabric: the fabric's regions as a graph, every pair with its lag in ops
// as seen from this region, this region's links with their state and lag
// in ms (live); the nodes of the region when it has several, and
// cutting or healing a link (superusers).
import { h, card, table, errorBox, act, every } from './ui.js';
import { fabricGraph } from './graph.js';

// linkState names a peer link as the fabric page shows it.
export function linkState(p, peers) {
  const l = p.link || {};
  if (l.down) return 'cut';
  if (l.up && l.connected) return 'up';
  const others = peers.some((q) => q !== p && q.link && q.link.up && q.link.connected);
  return others ? 'relayed' : 'connecting';
}

// fabricPairs computes every ordered pair of the fabric's regions from one
// GET /_api/replication answer (st): for the pair {from: Q, to: P}, lagOps
// is how many of Q's ops P lacks as seen from this region (st.region),
// max(0, own(Q) - advertisedBy(P)[Q]), where own(Q) is the highest count
// of Q's origin known here (Q's own advertisement or this region's
// delivered vector) and advertisedBy(P) is P's delivered vector as P last
// advertised it here (this region's own for itself); null when P never
// advertised here. This region's links (own: true) carry the link's state
// and, for its own ops, lagMillis (null when not known); the other pairs
// carry state 'unknown': nothing here says how those two regions are
// linked; they are stale when this region's link to either is not up
// (their figures are then as last advertised). Regions evicted are left
// out.
export function fabricPairs(st) {
  const self = st.region;
  const peers = st.peers || [];
  const byPeer = new Map(peers.map((p) => [p.peer, p]));
  const evicted = new Set(st.evicted || []);
  const regions = [...new Set([self, ...(st.regions || []), ...peers.map((p) => p.peer)])]
    .filter((r) => r && !evicted.has(r));
  const delivered = st.delivered || {};
  const vectorOf = (r) => (r === self ? delivered : (byPeer.get(r) || {}).advertised);
  const own = (q) => Math.max(delivered[q] || 0, q === self ? 0 : ((vectorOf(q) || {})[q] || 0));
  const fresh = (r) => byPeer.has(r) && linkState(byPeer.get(r), peers) === 'up';
  const pairs = [];
  for (const from of regions) {
    for (const to of regions) {
      if (from === to) continue;
      const adv = vectorOf(to);
      const lagOps = adv ? Math.max(0, own(from) - (adv[from] || 0)) : null;
      const peer = from === self ? byPeer.get(to) : to === self ? byPeer.get(from) : undefined;
      const pair = { from, to, lagOps, lagMillis: null, own: from === self || to === self, state: 'unknown', seenFrom: self };
      if (!pair.own) pair.stale = !fresh(from) || !fresh(to);
      if (peer) {
        pair.state = linkState(peer, peers);
        if (from === self && peer.lagKnown) pair.lagMillis = lagOps ? peer.lagMillis : 0;
      }
      pairs.push(pair);
    }
  }
  return { regions, pairs };
}

// legend says what the graph's edges are and what is not known.
function legend(self, regions) {
  return h('p', { class: 'muted', 'data-legend': '' },
    `Edges from ${self} have its links' states (up, cut, relayed, connecting) and, for ${self}'s own ops, the lag in ms. `,
    regions.length > 2 ? `Edges between other regions are as seen from ${self}: how many ops each lacks by what it last ` +
      `advertised to ${self}; their link state is unknown here (grey, dotted) ` +
      'and lag in ms is not measured; "stale" (* in the table) marks figures from a region whose link to ' +
      `${self} is not up.` : '');
}

// lagMatrix is the pairs as a table: a row per origin, a column per
// region lacking its ops.
function lagMatrix({ regions, pairs }) {
  const at = new Map(pairs.map((p) => [p.from + '\n' + p.to, p]));
  return h('table', { class: 'matrix' },
    h('thead', {}, h('tr', {}, h('th', {}, 'ops of ↓ lacked by →'), regions.map((r) => h('th', {}, r)))),
    h('tbody', {}, regions.map((from) => h('tr', {}, h('th', {}, from), regions.map((to) => {
      const p = at.get(from + '\n' + to);
      if (!p) return h('td', { class: 'muted' }, '—');
      return h('td', { 'data-lag': from + '|' + to, title: p.stale ? 'stale: as last advertised' : null },
        p.lagOps === null ? 'unknown' : String(p.lagOps) + (p.stale ? '*' : ''));
    })))));
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
    const matrix = fabricPairs(st);
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
      fabricGraph(matrix, st.region), legend(st.region, matrix.regions), lagMatrix(matrix), table(cols, rows, { empty: 'no peers: this node runs a region of its own' }), linkErr,
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
