// SPOT: the strictly serializable collections homed in this region, the
// region's Raft group (members, leader; superusers) and a transaction form.
import { h, card, table, errorBox, act, json, parseJSON, fmtTime } from './ui.js';

const example = {
  preconditions: [{ collection: 'accounts', key: 'a', exists: true }],
  operations: [
    { op: 'update', collection: 'accounts', key: 'a', doc: { balance: { $inc: -30 } } },
    { op: 'update', collection: 'accounts', key: 'b', doc: { balance: { $inc: 30 } } },
  ],
};

export async function render({ api, principal, el }) {
  const fabric = api.fabric;
  const cerr = errorBox('spot-collections');
  const cols = h('div');
  const gerr = errorBox('spot-group');
  const group = h('div');
  el.append(card('SPOT collections of fabric ' + fabric + ' homed in this region', cerr, cols, createForm()),
    card('This region\'s SPOT group, as this node sees it', gerr, group), txCard());

  act(cerr, async () => {
    const res = await api.get(api.fab('/spot/collection'));
    cols.replaceChildren(table([
      { title: 'collection', render: (c) => h('a', { href: '#/collections/' + encodeURIComponent(c.name) }, c.name) },
      { title: 'home region', key: 'homeRegion' }, { title: 'created', render: (c) => fmtTime(c.createdAt) },
    ], res.result || [], { empty: 'none homed here (collections homed elsewhere are listed on the Collections page)' }));
  });
  if (principal.superuser) {
    act(gerr, async () => {
      const r = (await api.get('/_api/spot/replicas')).result;
      group.replaceChildren(h('p', {}, `region ${r.region} · ${r.members} members · leader: replica ${r.leader || 'none (no quorum)'}`),
        table([{ title: 'replica', key: 'id' }, { title: 'Raft address', key: 'raftAddress' },
          { title: 'running', render: (x) => (x.running ? 'yes' : 'stopped') }, { title: 'applied index', key: 'applied' },
          { title: 'role', render: (x) => (x.id === r.leader ? 'leader' : 'follower') }], r.replicas || [],
          { empty: 'this node runs no replica of the group' }));
    });
  } else {
    group.append(h('p', { class: 'muted' }, 'The group\'s replicas (GET /_api/spot/replicas) are for superusers.'));
  }

  function createForm() {
    if (!principal.can('admin', 'fabric', fabric)) return h('p', { class: 'muted' }, 'Creating collections needs admin on the fabric.');
    const err = errorBox('spot-create');
    const name = h('input', { id: 'spot-name', placeholder: 'accounts' });
    const home = h('input', { id: 'spot-home', placeholder: 'this region' });
    const b = h('button', { id: 'spot-create' }, 'Create SPOT collection');
    b.addEventListener('click', () => act(err, async () => {
      const body = { name: name.value.trim(), isSpot: true };
      if (home.value.trim()) body.homeRegion = home.value.trim();
      await api.post(api.fab('/collection'), body);
      location.hash = '#/spot/' + Date.now();
    }, b));
    return h('div', {}, h('div', { class: 'inline' }, h('label', {}, 'name', name), h('label', {}, 'home region', home), b), err);
  }

  function txCard() {
    if (!principal.can('write', 'fabric', fabric)) {
      return card('Transaction', h('p', { class: 'muted' }, 'Transactions need write on fabric/' + fabric + '.'));
    }
    const err = errorBox('spot-tx');
    const area = h('textarea', { id: 'spot-tx', rows: 12, spellcheck: 'false' });
    area.value = JSON.stringify(example, null, 2);
    const out = h('div', { id: 'spot-tx-result' });
    const b = h('button', { id: 'spot-tx-run' }, 'Run transaction');
    b.addEventListener('click', () => act(err, async () => {
      out.replaceChildren();
      const tx = parseJSON(area.value, 'The transaction');
      const res = await api.post(api.fab('/transaction'), tx);
      out.replaceChildren(h('p', { class: 'ok' }, 'applied at Raft index ' + res.index), json(res.results));
    }, b));
    return card('Transaction (all or nothing; preconditions checked first)', area, b, err, out);
  }
}
