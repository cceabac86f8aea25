// Small DOM helpers shared by the pages.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// errorBox is where an action's error shows, next to the action.
export function errorBox(id) {
  return h('p', { class: 'error', role: 'alert', 'data-error': id || '' });
}

// act runs fn for a button or form, showing its error in box and
// disabling the button meanwhile.
export async function act(box, fn, button) {
  box.textContent = '';
  if (button) button.disabled = true;
  try {
    return await fn();
  } catch (e) {
    box.textContent = e.message || String(e);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

export function table(columns, rows, opts = {}) {
  const head = h('tr', {}, columns.map((c) => h('th', {}, c.title)));
  const body = rows.map((r) => {
    const tr = h('tr', { class: opts.onclick ? 'click' : '' }, columns.map((c) => {
      const v = c.render ? c.render(r) : r[c.key];
      return h('td', {}, v instanceof Node ? v : v === undefined || v === null ? '' : String(v));
    }));
    if (opts.onclick) tr.addEventListener('click', () => opts.onclick(r, tr));
    return tr;
  });
  if (rows.length === 0) body.push(h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, opts.empty || 'none')));
  return h('table', {}, h('thead', {}, head), h('tbody', {}, body));
}

export function card(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', {}, title) : null, ...children);
}

export function json(v) { return h('pre', { class: 'json' }, JSON.stringify(v, null, 2)); }

export function fmtBytes(n) {
  if (n === undefined || n === null) return '';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + u[i];
}

export function fmtTime(ms) { return ms ? new Date(ms).toISOString().replace('T', ' ').replace('Z', '') : ''; }

// parseJSON parses text a user typed, naming the field on failure.
export function parseJSON(text, what) {
  if (text.trim() === '') return undefined;
  try { return JSON.parse(text); } catch (e) { throw new Error(what + ' is not valid JSON: ' + e.message); }
}

// every runs fn now and every ms until the page is left (signal aborts).
export function every(ms, signal, fn) {
  let t;
  const run = async () => {
    if (signal.aborted) return;
    try { await fn(); } catch { /* fn shows its own errors */ }
    if (!signal.aborted) t = setTimeout(run, ms);
  };
  signal.addEventListener('abort', () => clearTimeout(t));
  run();
}

// openByName is a form that opens #/{page}/{name}: for keys that may use
// some streams or collections but not list the fabric's.
export function openByName(page, what) {
  const input = h('input', { id: page + '-open-name', placeholder: what + ' name' });
  const b = h('button', { class: 'secondary', id: page + '-open' }, 'Open');
  const go = (ev) => { ev.preventDefault(); if (input.value.trim()) location.hash = '#/' + page + '/' + encodeURIComponent(input.value.trim()); };
  const f = h('form', { class: 'inline' }, h('label', {}, 'open a ' + what + ' by name', input), b);
  f.addEventListener('submit', go);
  return f;
}
