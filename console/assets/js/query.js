// Query editor: SQL or C8QL (AQL) with bind parameters, results as a
// table or JSON, the plan (explain), and saved queries (restql).
import { h, card, table, errorBox, act, json, parseJSON } from './ui.js';

const aqlWords = ['FOR', 'LET', 'RETURN', 'INSERT', 'UPDATE', 'REPLACE', 'REMOVE', 'UPSERT', 'WITH', 'COLLECT'];

// language tells which language the node will read text as: C8QL when
// its first word, after blanks and comments, is an AQL statement keyword
// (collections/aql.IsAQL), SQL otherwise.
export function language(text) {
  const t = text.replace(/^(\s+|\/\/[^\n]*\n?|\/\*[\s\S]*?\*\/|--[^\n]*\n?)*/, '');
  const w = (t.match(/^[A-Za-z]+/) || [''])[0].toUpperCase();
  return aqlWords.includes(w) ? 'C8QL' : 'SQL';
}

export async function render({ api, principal, signal, el }) {
  if (!principal.can('read', 'fabric', api.fabric)) {
    el.append(card('Query', h('p', { class: 'muted' }, 'Queries need read on fabric/' + api.fabric + ' (their collections are named in the text); this key has no such grant.')));
    return;
  }
  const canSave = principal.can('write', 'fabric', api.fabric);
  const err = errorBox('query');
  const text = h('textarea', { id: 'query-text', rows: 6, spellcheck: 'false' });
  text.value = sessionStorage.getItem('causeway.query') || 'SELECT * FROM users LIMIT 20';
  const lang = h('span', { class: 'pill', id: 'query-lang' });
  const binds = h('textarea', { id: 'query-binds', rows: 3, spellcheck: 'false', placeholder: '{"min": 18}' });
  const run = h('button', { id: 'query-run' }, 'Run');
  const explain = h('button', { class: 'secondary', id: 'query-explain' }, 'Explain');
  const asJSON = h('input', { type: 'checkbox', id: 'query-json' });
  const more = h('button', { class: 'secondary hidden', id: 'query-more' }, 'More rows');
  const out = h('div', { id: 'query-result' });
  const stats = h('p', { class: 'muted', id: 'query-stats' });
  const showLang = () => { lang.textContent = language(text.value); };
  text.addEventListener('input', showLang);
  showLang();

  let rows = [];
  let cursor = null;
  const draw = () => {
    if (asJSON.checked) { out.replaceChildren(json(rows)); return; }
    const cols = [];
    for (const r of rows) {
      if (r && typeof r === 'object' && !Array.isArray(r)) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
    }
    const columns = cols.length ? cols.map((k) => ({ title: k, render: (r) => fmt(r[k]) })) : [{ title: 'value', render: (r) => fmt(r) }];
    out.replaceChildren(table(columns, rows, { empty: 'no rows' }));
  };
  const fmt = (v) => (v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  asJSON.addEventListener('change', draw);
  const answer = (res, started) => {
    rows = rows.concat(res.result || []);
    cursor = res.hasMore ? res.id : null;
    more.classList.toggle('hidden', !cursor);
    const s = (res.extra && res.extra.stats) || {};
    stats.textContent = `${rows.length} rows${cursor ? ' so far' : ''} · ${Math.round(performance.now() - started)} ms` +
      (s.executionTime !== undefined ? ` (server ${(s.executionTime * 1000).toFixed(2)} ms)` : '') +
      (res.extra && res.extra.warnings && res.extra.warnings.length ? ' · warnings: ' + JSON.stringify(res.extra.warnings) : '');
    draw();
  };
  const bindVars = () => parseJSON(binds.value, 'Bind parameters');
  run.addEventListener('click', () => act(err, async () => {
    sessionStorage.setItem('causeway.query', text.value);
    rows = [];
    const started = performance.now();
    const res = await api.post(api.fab('/cursor'), { query: text.value, bindVars: bindVars(), batchSize: 100 });
    answer(res, started);
  }, run));
  more.addEventListener('click', () => act(err, async () => {
    const started = performance.now();
    answer(await api.call('PUT', api.fab('/cursor/' + encodeURIComponent(cursor))), started);
  }, more));
  explain.addEventListener('click', () => act(err, async () => {
    const res = await api.post(api.fab('/explain'), { query: text.value, bindVars: bindVars() });
    out.replaceChildren(h('p', { class: 'muted' }, 'Plan:'), json(res.plan || res));
    stats.textContent = '';
  }, explain));
  signal.addEventListener('abort', () => {
    if (cursor) api.call('DELETE', api.fab('/cursor/' + encodeURIComponent(cursor))).catch(() => {});
  });

  el.append(card('Query (fabric ' + api.fabric + ')', h('label', {}, 'query ', lang, text),
    h('label', {}, 'bind parameters (JSON object, or array for ?)', binds),
    h('div', { class: 'inline' }, run, explain, h('label', {}, asJSON, ' show JSON'), more), err, stats, out),
  savedCard());

  function savedCard() {
    const serr = errorBox('saved');
    const body = h('div');
    const name = h('input', { id: 'saved-name', placeholder: 'adults' });
    const save = h('button', { class: 'secondary', id: 'saved-save' }, 'Save the query above');
    const load = () => act(serr, async () => {
      const res = await api.get(api.fab('/restql'));
      body.replaceChildren(table([
        { title: 'name', key: 'name' }, { title: 'query', key: 'value' },
        { title: 'parameters', render: (q) => JSON.stringify(q.parameter || {}) },
        { title: '', render: (q) => {
          const open = h('button', { class: 'secondary' }, 'Edit');
          open.addEventListener('click', () => {
            text.value = q.value;
            binds.value = q.parameter && Object.keys(q.parameter).length ? JSON.stringify(q.parameter) : '';
            name.value = q.name;
            showLang();
          });
          const exec = h('button', {}, 'Run');
          exec.addEventListener('click', () => act(serr, async () => {
            rows = [];
            const started = performance.now();
            answer(await api.post(api.fab('/restql/execute/' + encodeURIComponent(q.name)), { bindVars: bindVars() || {} }), started);
          }, exec));
          const del = canSave ? h('button', { class: 'danger' }, 'Delete') : null;
          if (del) {
            del.addEventListener('click', () => act(serr, async () => {
              await api.call('DELETE', api.fab('/restql/' + encodeURIComponent(q.name)));
              await load();
            }, del));
          }
          return h('div', { class: 'inline' }, open, exec, del);
        } },
      ], res.result || [], { empty: 'no saved queries' }));
    });
    save.addEventListener('click', () => act(serr, async () => {
      const n = name.value.trim();
      if (!n) throw new Error('Name the query first.');
      const q = { name: n, value: text.value, parameter: bindVars() || {} };
      const existing = ((await api.get(api.fab('/restql'))).result || []).some((x) => x.name === n);
      if (existing) await api.call('PUT', api.fab('/restql/' + encodeURIComponent(n)), { query: { value: q.value, parameter: q.parameter } });
      else await api.post(api.fab('/restql'), { query: q });
      await load();
    }, save));
    load();
    return card('Saved queries', serr, body, canSave ? h('div', { class: 'inline' }, h('label', {}, 'name', name), save)
      : h('p', { class: 'muted' }, 'Saving queries needs write on fabric/' + api.fabric + '.'));
  }
}
