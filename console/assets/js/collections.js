// Collections: documents (paging, search by key, edit as JSON with a
// _rev precondition, conflicts), indexes, and key/value collections with
// their TTL.
import { h, card, table, errorBox, act, json, parseJSON, fmtTime, openByName } from './ui.js';

const pageSize = 20;

export async function render({ api, principal, signal, el }) {
  const fabric = api.fabric;
  const listErr = errorBox('collections');
  const list = h('div');
  const detail = h('div', { id: 'collection-detail' });
  const selected = decodeURIComponent(location.hash.split('/')[2] || '');

  const createErr = errorBox('create-collection');
  const cname = h('input', { id: 'collection-name', placeholder: 'users', required: true });
  const kind = h('select', { id: 'collection-kind' }, h('option', { value: 'document' }, 'documents'),
    h('option', { value: 'kv' }, 'key/value'), h('option', { value: 'edge' }, 'edges'));
  const ttl = h('input', { id: 'collection-ttl', type: 'number', min: 0, value: 0, style: 'width:7em' });
  const cbtn = h('button', { type: 'submit', id: 'collection-create' }, 'Create collection');
  const create = h('form', { class: 'inline' }, h('label', {}, 'name', cname), h('label', {}, 'kind', kind),
    h('label', {}, 'default TTL (s, key/value)', ttl), cbtn);
  create.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(createErr, async () => {
      const n = cname.value.trim();
      if (kind.value === 'kv') await api.post(api.fab('/kv/' + encodeURIComponent(n)), { ttl: Number(ttl.value) || 0 });
      else await api.post(api.fab('/collection'), { name: n, type: kind.value });
      location.hash = '#/collections/' + encodeURIComponent(n);
    }, cbtn);
  });
  el.append(card('Collections of fabric ' + fabric, listErr, list,
    principal.can('admin', 'fabric', fabric) ? [create, createErr]
      : h('p', { class: 'muted' }, 'Creating collections needs admin on the fabric.')), detail);

  let cols = [];
  if (!principal.can('read', 'fabric', fabric)) {
    list.append(h('p', { class: 'muted' }, 'Listing the fabric\'s collections needs read on fabric/' + fabric + '.'), openByName('collections', 'collection'));
  } else try {
    cols = (await api.get(api.fab('/collection'))).result || [];
    await Promise.all(cols.map(async (c) => {
      try { c.count = (await api.get(api.fab('/collection/' + encodeURIComponent(c.name) + '/count'))).count; } catch { /* unreadable */ }
    }));
    list.replaceChildren(table([
      { title: 'collection', render: (c) => h('a', { href: '#/collections/' + encodeURIComponent(c.name), 'data-collection': c.name }, c.name) },
      { title: 'kind', render: (c) => c.isSpot ? 'SPOT (home ' + c.homeRegion + ')' : c.keyValue ? 'key/value' : c.type === 3 ? 'edges' : 'documents' },
      { title: 'TTL', render: (c) => c.keyValue ? (c.ttl ? c.ttl + ' s' : 'none') : '' },
      { title: 'documents', key: 'count' },
    ], cols, { empty: 'no collections yet' }));
  } catch (e) {
    listErr.textContent = e.message;
  }
  if (!selected || signal.aborted) return;
  const col = cols.find((c) => c.name === selected) || { name: selected };
  const enc = encodeURIComponent(selected);
  if (col.keyValue) detail.append(kvCard(api, principal, col));
  else detail.append(docsCard(api, principal, col), indexCard(api, principal, col));
  if (principal.can('admin', 'collection', fabric, col.name)) detail.append(adminCard(col));

  function adminCard(col) {
    const err = errorBox('drop-collection');
    const path = col.keyValue ? api.fab('/kv/' + enc) : api.fab('/collection/' + enc);
    const truncate = col.keyValue ? null : h('button', { class: 'danger', id: 'collection-truncate' }, 'Delete every document');
    if (truncate) {
      truncate.addEventListener('click', () => act(err, async () => {
        if (!confirm('Delete every document of ' + col.name + '?')) return;
        await api.call('PUT', api.fab('/collection/' + enc + '/truncate'));
        location.hash = '#/collections/' + enc + '/' + Date.now();
      }, truncate));
    }
    const drop = h('button', { class: 'danger', id: 'collection-drop' }, 'Drop collection');
    drop.addEventListener('click', () => act(err, async () => {
      if (!confirm('Drop ' + col.name + ' with its data and its streams?')) return;
      await api.call('DELETE', path);
      location.hash = '#/collections';
    }, drop));
    return card('Administer ' + col.name, h('div', { class: 'inline' }, truncate, drop), err);
  }

  function docsCard(api, principal, col) {
    const err = errorBox('documents');
    const rows = h('div');
    const pager = h('span', { class: 'muted' });
    let skip = 0;
    const afters = ['']; // SPOT: the key each page starts after
    const prev = h('button', { class: 'secondary' }, '‹ previous');
    const next = h('button', { class: 'secondary' }, 'next ›');
    const editor = h('div', { id: 'doc-editor' });
    const load = async () => act(err, async () => {
      let docs;
      if (col.isSpot) { // SPOT pages by key: after the last key of the previous page
        const after = afters[skip / pageSize] || '';
        const res = await api.get(api.fab('/spot/collection/' + encodeURIComponent(col.name) + '/documents') +
          `?limit=${pageSize}` + (after ? '&after=' + encodeURIComponent(after) : ''));
        docs = res.result || [];
        if (docs.length) afters[skip / pageSize + 1] = docs[docs.length - 1]._key;
      } else {
        const res = await api.call('PUT', api.fab('/simple/all'), { collection: col.name, skip, limit: pageSize, batchSize: pageSize });
        docs = res.result || [];
      }
      rows.replaceChildren(table([
        { title: '_key', key: '_key' }, { title: '_rev', key: '_rev' },
        { title: 'document', render: (d) => { const { _id, _key, _rev, ...rest } = d; return JSON.stringify(rest).slice(0, 120); } },
      ], docs, { onclick: (d) => open(d._key), empty: 'no documents' }));
      pager.textContent = `documents ${skip + 1}–${skip + docs.length}`;
      prev.disabled = skip === 0;
      next.disabled = docs.length < pageSize;
    });
    prev.addEventListener('click', () => { skip = Math.max(0, skip - pageSize); load(); });
    next.addEventListener('click', () => { skip += pageSize; load(); });
    const key = h('input', { id: 'doc-key', placeholder: '_key' });
    const find = h('button', { id: 'doc-find' }, 'Open');
    find.addEventListener('click', () => open(key.value.trim()));
    const open = (k) => { load(); return openDoc(api, principal, col, k, editor, load); };
    const newBtn = principal.can('write', 'collection', fabric, col.name)
      ? h('button', { class: 'secondary', id: 'doc-new' }, 'New document') : null;
    if (newBtn) newBtn.addEventListener('click', () => openDoc(api, principal, col, null, editor, load));
    load();
    return card('Documents of ' + col.name, h('div', { class: 'inline' }, h('label', {}, 'search by key', key), find, newBtn),
      err, rows, h('div', { class: 'inline' }, prev, next, pager), editor);
  }

  function indexCard(api, principal, col) {
    const err = errorBox('indexes');
    const body = h('div', { id: 'indexes' });
    const canAdmin = principal.can('admin', 'collection', fabric, col.name);
    const load = () => act(err, async () => {
      const res = await api.get(api.fab('/index') + '?collection=' + enc);
      body.replaceChildren(table([
        { title: 'name', key: 'name' }, { title: 'type', key: 'type' },
        { title: 'fields', render: (i) => (i.fields || []).join(', ') },
        { title: '', render: (i) => i.type === 'primary' || !canAdmin ? '' : (() => {
          const b = h('button', { class: 'danger' }, 'Drop');
          b.addEventListener('click', () => act(err, async () => {
            await api.call('DELETE', api.fab('/index/' + enc + '/' + encodeURIComponent(i.name)));
            await load();
          }, b));
          return b;
        })() },
      ], res.indexes || []));
    });
    const fields = h('input', { id: 'index-path', placeholder: 'address.city' });
    const iname = h('input', { id: 'index-name', placeholder: 'by_city' });
    const ibtn = h('button', { id: 'index-create' }, 'Create persistent index');
    ibtn.addEventListener('click', () => act(err, async () => {
      await api.post(api.fab('/index') + '?collection=' + enc, { type: 'persistent', fields: [fields.value.trim()], name: iname.value.trim() || undefined });
      await load();
    }, ibtn));
    load();
    return card('Indexes of ' + col.name, err, body, canAdmin
      ? h('div', { class: 'inline' }, h('label', {}, 'path', fields), h('label', {}, 'name', iname), ibtn)
      : h('p', { class: 'muted' }, 'Creating indexes needs admin on the collection.'));
  }

  function kvCard(api, principal, col) {
    const err = errorBox('kv');
    const body = h('div', { id: 'kv-entries' });
    let offset = 0;
    const canWrite = principal.can('write', 'collection', fabric, col.name);
    const load = () => act(err, async () => {
      const res = await api.get(api.fab('/kv/' + enc + '/values') + `?offset=${offset}&limit=${pageSize}`);
      body.replaceChildren(table([
        { title: '_key', key: '_key' }, { title: 'value', render: (e) => JSON.stringify(e.value) },
        { title: 'expires', render: (e) => (e.expireAt === -1 ? 'never' : fmtTime(e.expireAt * 1000)) },
        { title: '', render: (e) => !canWrite ? '' : (() => {
          const b = h('button', { class: 'danger' }, 'Delete');
          b.addEventListener('click', () => act(err, async () => {
            await api.call('DELETE', api.fab('/kv/' + enc + '/value/' + encodeURIComponent(e._key)));
            await load();
          }, b));
          return b;
        })() },
      ], res.result || [], { empty: 'no entries' }));
    });
    const k = h('input', { id: 'kv-key', placeholder: 'key' });
    const v = h('input', { id: 'kv-value', placeholder: '{"any":"JSON"}' });
    const t = h('input', { id: 'kv-ttl', type: 'number', min: 0, placeholder: 'collection default', style: 'width:10em' });
    const sbtn = h('button', { id: 'kv-set' }, 'Set');
    sbtn.addEventListener('click', () => act(err, async () => {
      const entry = { _key: k.value.trim(), value: parseJSON(v.value, 'Value') ?? null };
      if (t.value !== '') entry.ttl = Number(t.value);
      await api.call('PUT', api.fab('/kv/' + enc + '/value'), entry);
      await load();
    }, sbtn));
    const prev = h('button', { class: 'secondary' }, '‹ previous');
    const next = h('button', { class: 'secondary' }, 'next ›');
    prev.addEventListener('click', () => { offset = Math.max(0, offset - pageSize); load(); });
    next.addEventListener('click', () => { offset += pageSize; load(); });
    load();
    return card('Key/value collection ' + col.name + (col.ttl ? ` (default TTL ${col.ttl} s)` : ''), err, body,
      h('div', { class: 'inline' }, prev, next),
      canWrite ? h('div', { class: 'inline' }, h('label', {}, 'key', k), h('label', {}, 'value (JSON)', v), h('label', {}, 'TTL (s)', t), sbtn)
        : h('p', { class: 'muted' }, 'This key cannot write here.'));
  }
}

// openDoc shows one document in a JSON editor. Saving sends the changed
// top-level attributes as a PATCH (removed ones as null with
// keepNull=false) with If-Match: the _rev in the editor, so a document that
// changed meanwhile is refused (412) instead of overwritten; what comes
// back is the document as the node now holds it, merged with concurrent
// writes from other regions, and its conflicts.
async function openDoc(api, principal, col, key, box, reload) {
  const err = errorBox('document');
  const enc = encodeURIComponent(col.name);
  const canWrite = principal.can('write', 'collection', api.fabric, col.name);
  const area = h('textarea', { id: 'doc-json', rows: 14, spellcheck: 'false' });
  const view = h('div', { id: 'doc-view' });
  const replace = h('input', { type: 'checkbox', id: 'doc-replace' });
  const save = h('button', { id: 'doc-save' }, key ? 'Save' : 'Insert');
  const del = key && canWrite ? h('button', { class: 'danger', id: 'doc-delete' }, 'Delete') : null;
  let loaded = null;
  const show = async (k) => {
    const doc = await api.get(api.fab('/document/' + enc + '/' + encodeURIComponent(k)));
    loaded = doc;
    area.value = JSON.stringify(doc, null, 2);
    let conflicts = [];
    try { conflicts = (await api.get(api.fab('/document/' + enc + '/' + encodeURIComponent(k) + '/conflicts'))).result || []; } catch { /* SPOT: none */ }
    view.replaceChildren(h('p', { class: 'muted' }, 'As stored now (_rev ' + doc._rev + '):'), json(doc),
      ...(conflicts.length ? [h('p', {}, 'Conflicts (values that lost to concurrent writes):'), table([
        { title: 'path', render: (c) => (Array.isArray(c.path) ? c.path.join('.') : String(c.path ?? '')) }, { title: 'value', render: (c) => JSON.stringify(c.value) },
        { title: 'from', render: (c) => c.region + ':' + c.seq }], conflicts)] : [h('p', { class: 'muted' }, 'No conflicts.')]));
  };
  box.replaceChildren(card(key ? 'Document ' + key : 'New document in ' + col.name, err,
    h('div', { class: 'row' }, h('div', {}, area,
      canWrite ? h('div', { class: 'inline' }, save, key ? h('label', {}, replace, ' replace the whole document') : null, del)
        : h('p', { class: 'muted' }, 'This key cannot write to ' + col.name + '.')), view)));
  if (key) await act(err, () => show(key));
  else area.value = '{\n  "_key": ""\n}';
  save.addEventListener('click', () => act(err, async () => {
    const edited = parseJSON(area.value, 'The document');
    if (!edited || typeof edited !== 'object' || Array.isArray(edited)) throw new Error('The document must be a JSON object.');
    if (!key) {
      const res = await api.post(api.fab('/document/' + enc), edited);
      await show(res._key);
      await reload();
      return;
    }
    const path = api.fab('/document/' + enc + '/' + encodeURIComponent(key));
    // The precondition is the _rev the editor shows (the one loaded
    // unless the user changed it).
    const ifMatch = { 'If-Match': '"' + (typeof edited._rev === 'string' && edited._rev ? edited._rev : loaded._rev) + '"' };
    const strip = ({ _id, _key, _rev, ...rest }) => rest;
    if (replace.checked) {
      await api.call('PUT', path, strip(edited), ifMatch);
    } else {
      const before = strip(loaded), after = strip(edited), patch = {};
      for (const [k, v] of Object.entries(after)) if (JSON.stringify(before[k]) !== JSON.stringify(v)) patch[k] = v;
      for (const k of Object.keys(before)) if (!(k in after)) patch[k] = null;
      if (Object.keys(patch).length === 0) throw new Error('Nothing changed.');
      await api.call('PATCH', path + '?keepNull=false&mergeObjects=false', patch, ifMatch);
    }
    await show(key);
    await reload();
  }, save));
  if (del) {
    del.addEventListener('click', () => act(err, async () => {
      await api.call('DELETE', api.fab('/document/' + enc + '/' + encodeURIComponent(key)), undefined, { 'If-Match': '"' + loaded._rev + '"' });
      box.replaceChildren(h('p', { class: 'muted' }, 'Deleted ' + key + '.'));
      await reload();
    }, del));
  }
}
