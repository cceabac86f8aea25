// Streams: the fabric's streams with rates, backlog and storage; one
// stream's live tail, publishing, and its subscriptions (skip, reset,
// seek, delete).
import { h, card, table, errorBox, act, every, fmtBytes, parseJSON, openByName } from './ui.js';
import { Tail } from './tail.js';

export async function render(ctx) {
  const { api, principal, signal, el } = ctx;
  const fabric = api.fabric;
  const tenant = api.tenant || principal.tenant;
  const listErr = errorBox('streams');
  const list = h('div');
  const detail = h('div');
  const prev = new Map(); // name -> [time, messages] for rates
  let selected = decodeURIComponent((location.hash.split('/')[2] || ''));

  const createErr = errorBox('create-stream');
  const name = h('input', { id: 'stream-name', placeholder: 'orders', required: true });
  const global = h('input', { type: 'checkbox', id: 'stream-global', checked: true });
  const createBtn = h('button', { type: 'submit', id: 'stream-create' }, 'Create stream');
  const create = h('form', { class: 'inline' }, h('label', {}, 'name', name),
    h('label', {}, global, ' global (every region)'), createBtn);
  create.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const n = name.value.trim();
    act(createErr, async () => {
      if (!principal.can('admin', 'stream', fabric, n)) throw new Error('This key has no admin grant on stream/' + fabric + '/' + n + '.');
      await api.post(api.fab('/streams/' + encodeURIComponent(n)) + '?global=' + global.checked);
      select(n);
      await refresh();
    }, createBtn);
  });

  const canList = principal.can('read', 'fabric', fabric);
  if (!canList) list.append(h('p', { class: 'muted' }, 'Listing the fabric\'s streams needs read on fabric/' + fabric + '.'), openByName('streams', 'stream'));
  el.append(card('Streams of fabric ' + fabric, listErr, list,
    principal.canSome('admin', 'stream', fabric) ? [create, createErr]
      : h('p', { class: 'muted' }, 'Creating streams needs an admin grant in this fabric.')), detail);

  const refresh = async () => {
    if (!canList) return;
    try {
      const res = await api.get(api.fab('/streams'));
      const streams = res.result || [];
      // Backlog needs each stream's subscriptions: the first 50 streams.
      await Promise.all(streams.slice(0, 50).map(async (s) => {
        try {
          const d = await api.get(api.fab('/streams/' + encodeURIComponent(s.name)));
          s.subscriptions = d.result.subscriptions || {};
        } catch { /* listed but not readable with this key */ }
      }));
      const now = Date.now();
      for (const s of streams) {
        const p = prev.get(s.name);
        s.rate = p && now > p[0] ? ((s.messages - p[1]) * 1000) / (now - p[0]) : undefined;
        prev.set(s.name, [now, s.messages]);
      }
      list.replaceChildren(table([
        { title: 'stream', render: (s) => h('a', { href: '#/streams/' + encodeURIComponent(s.name), 'data-stream': s.name }, s.name) },
        { title: 'scope', render: (s) => (s.global ? 'global' : 'local') + (s.persistent ? '' : ', non-persistent') },
        { title: 'messages', key: 'messages' },
        { title: 'rate', render: (s) => (s.rate === undefined ? '…' : s.rate.toFixed(1) + ' msgs/s') },
        { title: 'backlog', render: (s) => s.subscriptions ? Object.values(s.subscriptions).reduce((a, x) => a + (x.backlog || 0), 0) : '' },
        { title: 'storage', render: (s) => fmtBytes(s.sizeBytes) },
        { title: 'producers', render: (s) => (s.producers || []).length },
        { title: 'subscriptions', render: (s) => s.subscriptions ? Object.keys(s.subscriptions).length : '' },
      ], streams, { empty: 'no streams yet' }));
      listErr.textContent = '';
    } catch (e) {
      listErr.textContent = e.message;
    }
  };
  every(2000, signal, refresh);

  let tail = null;
  signal.addEventListener('abort', () => tail && tail.close());
  let producer = null;
  signal.addEventListener('abort', () => producer && producer.close());

  let selCtl = null; // the selected stream's polling
  signal.addEventListener('abort', () => selCtl && selCtl.abort());
  const select = (n) => {
    if (!n) return;
    selected = n;
    if (selCtl) selCtl.abort();
    selCtl = new AbortController();
    if (location.hash !== '#/streams/' + encodeURIComponent(n)) history.replaceState(null, '', '#/streams/' + encodeURIComponent(n));
    if (tail) tail.close();
    if (producer) { producer.close(); producer = null; }
    detail.replaceChildren(tailCard(n), publishCard(n), subsCard(n), adminCard(n));
  };
  const wsPath = (kind, n) => `/ws/v2/${kind}/persistent/${encodeURIComponent(tenant)}/${encodeURIComponent(fabric)}/${encodeURIComponent(n)}`;

  function tailCard(n) {
    const box = h('div', { class: 'tail', id: 'tail' });
    const st = h('p', { class: 'muted', id: 'tail-status' });
    const from = h('select', { id: 'tail-from' }, h('option', { value: 'latest' }, 'new messages'), h('option', { value: 'earliest' }, 'from the start'));
    const pause = h('button', { class: 'secondary', id: 'tail-pause' }, 'Pause');
    const pretty = h('input', { type: 'checkbox', checked: true });
    const decode = h('input', { type: 'checkbox', checked: true });
    const restart = () => {
      if (tail) tail.close();
      box.replaceChildren();
      if (!principal.can('read', 'stream', fabric, n)) {
        st.textContent = 'This key cannot read stream ' + n + '.';
        return;
      }
      tail = new Tail((id, protocol) => api.ws(wsPath('reader', n), { messageId: id, pullMode: 'true', protocol }), box, st);
      tail.pretty = pretty.checked;
      tail.decode = decode.checked;
      tail.start(from.value);
    };
    from.addEventListener('change', restart);
    pause.addEventListener('click', () => {
      tail.paused = !tail.paused;
      pause.textContent = tail.paused ? 'Resume' : 'Pause';
    });
    pretty.addEventListener('change', () => { tail.pretty = pretty.checked; });
    decode.addEventListener('change', () => { tail.decode = decode.checked; });
    queueMicrotask(restart);
    return card('Live tail of ' + n, h('div', { class: 'inline' }, h('label', {}, 'read', from), pause,
      h('label', {}, pretty, ' pretty-print JSON'), h('label', {}, decode, ' decode base64')), st, box);
  }

  function adminCard(n) {
    if (!principal.can('admin', 'stream', fabric, n)) return '';
    const err = errorBox('delete-stream');
    const force = h('input', { type: 'checkbox' });
    const b = h('button', { class: 'danger', id: 'stream-delete' }, 'Delete stream');
    b.addEventListener('click', () => act(err, async () => {
      if (!confirm('Delete stream ' + n + (force.checked ? ', with its producers and consumers' : '') + '?')) return;
      await api.call('DELETE', api.fab('/streams/' + encodeURIComponent(n)) + (force.checked ? '?force=true' : ''));
      location.hash = '#/streams';
    }, b));
    return card('Delete ' + n, h('div', { class: 'inline' }, b, h('label', {}, force, ' even while in use (force)')), err,
      h('p', { class: 'muted' }, 'Deleting a global stream is local to this region.'));
  }

  function publishCard(n) {
    if (!principal.can('write', 'stream', fabric, n)) {
      return card('Publish', h('p', { class: 'muted' }, 'This key cannot write to stream ' + n + '.'));
    }
    const err = errorBox('publish');
    const done = h('p', { class: 'ok', id: 'publish-result' });
    const payload = h('textarea', { id: 'publish-payload', placeholder: '{"hello":"world"}' });
    const key = h('input', { id: 'publish-key' });
    const props = h('input', { id: 'publish-props', placeholder: '{"source":"console"}' });
    const btn = h('button', { id: 'publish-send' }, 'Publish');
    let seq = 0;
    const open = () => new Promise((resolve, reject) => {
      if (producer && producer.readyState === WebSocket.OPEN) return resolve(producer);
      const ws = api.ws(wsPath('producer', n));
      ws.onopen = () => { producer = ws; resolve(ws); };
      ws.onerror = () => reject(new Error('the node refused the producer connection (see the key\'s grants, or the connection)'));
      ws.onclose = (ev) => { if (producer === ws) producer = null; reject(new Error('producer closed: ' + ev.code + ' ' + ev.reason)); };
    });
    btn.addEventListener('click', () => act(err, async () => {
      done.textContent = '';
      const properties = parseJSON(props.value, 'Properties');
      if (properties !== undefined && (typeof properties !== 'object' || Array.isArray(properties) ||
        Object.values(properties).some((v) => typeof v !== 'string'))) {
        throw new Error('Properties must be a JSON object of strings.');
      }
      const ws = await open();
      const context = 'c' + (++seq);
      const bytes = new TextEncoder().encode(payload.value);
      let bin = '';
      for (const b of bytes) bin += String.fromCharCode(b);
      const frame = { payload: btoa(bin), context };
      if (key.value) frame.key = key.value;
      if (properties) frame.properties = properties;
      const ack = await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no acknowledgement within 10 s')), 10000);
        ws.onmessage = (ev) => { clearTimeout(t); resolve(JSON.parse(ev.data)); };
        ws.onclose = (ev) => { clearTimeout(t); producer = null; reject(new Error('producer closed: ' + ev.code + ' ' + ev.reason)); };
        ws.send(JSON.stringify(frame));
      });
      if (ack.result !== 'ok') throw new Error(ack.result + ': ' + (ack.errorMsg || ''));
      done.textContent = 'stored as ' + ack.messageId;
    }, btn));
    return card('Publish to ' + n, h('label', {}, 'payload (text; sent base64-encoded)', payload),
      h('div', { class: 'inline' }, h('label', {}, 'key', key), h('label', {}, 'properties (JSON object)', props), btn), err, done);
  }

  function subsCard(n) {
    const err = errorBox('subscriptions');
    const body = h('div');
    const canAdmin = principal.can('admin', 'stream', fabric, n);
    const canRead = principal.can('read', 'stream', fabric, n);
    const base = api.fab('/streams/' + encodeURIComponent(n) + '/subscriptions/');
    const load = async () => {
      try {
        const res = await api.get(api.fab('/streams/' + encodeURIComponent(n) + '/subscriptions'));
        const subs = Object.entries(res.result || {}).map(([name, s]) => ({ name, ...s }));
        body.replaceChildren(table([
          { title: 'subscription', key: 'name' }, { title: 'type', key: 'type' },
          { title: 'backlog', render: (s) => h('span', { 'data-sub-backlog': s.name }, String(s.backlog)) },
          { title: 'consumers', render: (s) => (s.stats.consumers || []).map((c) => c.name || c.id).join(', ') || '0' },
          { title: 'unacked', render: (s) => (s.stats.consumers || []).reduce((a, c) => a + (c.unacked || 0), 0) },
          { title: 'redeliveries queued', render: (s) => s.stats.redeliveryQueue },
          { title: 'cursor', render: (s) => `${s.stats.markDelete} / ${s.stats.end}` },
          { title: 'actions', render: (s) => canRead ? subActions(s.name) : '' },
        ], subs, { empty: 'no subscriptions' }));
        err.textContent = '';
      } catch (e) {
        err.textContent = e.message;
      }
    };
    const subActions = (sub) => {
      const aerr = errorBox('sub-' + sub);
      const count = h('input', { type: 'number', min: 1, value: 1, style: 'width:5em' });
      const skip = h('button', { class: 'secondary', 'data-sub-skip': sub }, 'Skip');
      skip.addEventListener('click', () => act(aerr, async () => {
        await api.post(base + encodeURIComponent(sub) + '/skip?count=' + encodeURIComponent(count.value));
        await load();
      }, skip));
      const to = h('input', { placeholder: 'earliest | latest | message id | time (ms)', style: 'width:16em', 'data-sub-to': sub });
      const reset = h('button', { class: 'secondary', 'data-sub-reset': sub }, 'Reset / seek');
      reset.addEventListener('click', () => act(aerr, async () => {
        const v = to.value.trim() || 'earliest';
        const q = /^\d+$/.test(v) ? 'timestamp=' + v : 'messageId=' + encodeURIComponent(v);
        await api.post(base + encodeURIComponent(sub) + '/reset?' + q);
        await load();
      }, reset));
      const del = canAdmin ? h('button', { class: 'danger' }, 'Delete') : null;
      if (del) {
        del.addEventListener('click', () => act(aerr, async () => {
          if (!confirm('Delete subscription ' + sub + ' and its cursor?')) return;
          await api.call('DELETE', base + encodeURIComponent(sub) + '?force=true');
          await load();
        }, del));
      }
      return h('div', {}, h('div', { class: 'inline' }, count, skip, to, reset, del), aerr);
    };
    every(3000, selCtl.signal, load);
    return card('Subscriptions of ' + n, err, body);
  }

  if (selected) select(selected);
}
