// The console's shell: login, navigation between pages, the fabric the
// pages act in, and the lost-connection banner.
import { Api, ApiError, Principal, claims } from './api.js';
import { h } from './ui.js';

const pages = {
  fabric: () => import('./fabric.js'),
  streams: () => import('./streams.js'),
  collections: () => import('./collections.js'),
  query: () => import('./query.js'),
  spot: () => import('./spot.js'),
  keys: () => import('./keys.js'),
  metrics: () => import('./metrics.js'),
};

const $ = (id) => document.getElementById(id);
let session = null; // {api, principal}
let current = null; // the page's AbortController

async function login(credential, tenant) {
  const api = new Api(credential, tenant);
  // A token of the credential tells its tenant and grants; the node
  // answers 401 for a credential it does not take.
  let principal;
  try {
    const res = await api.post('/_api/token', { expiresIn: '1h' });
    principal = new Principal(claims(res.result.token));
  } catch (e) {
    if (e.status === 401 || e.status === 0) throw e;
    if (credential.split('.').length === 3) principal = new Principal(claims(credential));
    else throw e;
  }
  // Tokens do not say whether their key is a superuser's: the node's own
  // tenant list (superusers only) does.
  if (!principal.superuser) {
    try {
      await api.get('/_api/tenant');
      principal.superuser = true;
    } catch (e) {
      if (e.status === 0) throw e;
    }
  }
  return { api, principal };
}

function showLogin(msg) {
  session = null;
  if (current) current.abort();
  $('shell').classList.add('hidden');
  $('login').classList.remove('hidden');
  $('login-error').textContent = msg || '';
  $('login-cred').value = '';
  $('login-cred').focus();
}

async function start(s) {
  session = s;
  sessionStorage.setItem('causeway.console', JSON.stringify({ c: s.api.credential, t: s.api.tenant }));
  s.api.onLost = lost;
  const p = s.principal;
  $('who').textContent = (p.superuser ? 'superuser' : p.tenantAdmin ? 'tenant admin' : 'key ' + (p.key || '')) +
    ' · tenant ' + (s.api.tenant || p.tenant);
  for (const a of document.querySelectorAll('#nav a[data-admin]')) {
    const need = a.dataset.admin;
    a.classList.toggle('hidden', need === 'node' ? !p.superuser : !p.tenantAdmin);
  }
  $('login').classList.add('hidden');
  $('shell').classList.remove('hidden');
  await loadFabrics();
  route();
}

async function loadFabrics() {
  const sel = $('fabric-select');
  sel.replaceChildren();
  let names = ['_system'];
  try {
    const res = await session.api.get('/_fabric/_system/_api/database/user');
    if (Array.isArray(res.result) && res.result.length) names = res.result;
  } catch { /* a key without a grant on _system still works in its fabric */ }
  for (const n of names) sel.append(h('option', { value: n }, n));
  sel.value = names.includes(session.api.fabric) ? session.api.fabric : names[0];
  session.api.fabric = sel.value;
}

async function route() {
  if (!session) return;
  const name = (location.hash.replace(/^#\/?/, '').split('/')[0]) || 'fabric';
  const load = pages[name] || pages.fabric;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === name);
  if (current) current.abort();
  current = new AbortController();
  const signal = current.signal;
  const el = $('page');
  el.replaceChildren(h('p', { class: 'muted' }, 'loading…'));
  try {
    const mod = await load();
    if (signal.aborted) return;
    el.replaceChildren();
    el.dataset.page = name;
    await mod.render({ api: session.api, principal: session.principal, signal, el });
  } catch (e) {
    if (!signal.aborted) el.replaceChildren(h('p', { class: 'error' }, e.message || String(e)));
  }
}

// lost shows that the node cannot be reached and probes /health until it
// answers, then reloads the page it was on.
let probing = false;
function lost() {
  const b = $('conn');
  b.classList.remove('hidden');
  if (probing) return;
  probing = true;
  let wait = 1000;
  const probe = async () => {
    b.textContent = 'Lost the connection to the node; retrying every ' + (wait / 1000) + ' s…';
    try {
      const res = await fetch('/health', { cache: 'no-store' });
      if (res.status === 200 || res.status === 503) {
        probing = false;
        b.classList.add('hidden');
        route();
        return;
      }
    } catch { /* still down */ }
    wait = Math.min(wait * 2, 8000);
    setTimeout(probe, wait);
  };
  probe();
}

window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', async () => {
  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const btn = $('login-submit');
    btn.disabled = true;
    $('login-error').textContent = '';
    try {
      await start(await login($('login-cred').value.trim(), $('login-tenant').value.trim()));
    } catch (e) {
      $('login-error').textContent = e instanceof ApiError && e.status === 401
        ? 'The node refused this key or token (' + e.message + ')' : (e.message || String(e));
    } finally {
      btn.disabled = false;
    }
  });
  $('logout').addEventListener('click', () => {
    sessionStorage.removeItem('causeway.console');
    showLogin();
  });
  $('fabric-select').addEventListener('change', (ev) => {
    session.api.fabric = ev.target.value;
    route();
  });
  const saved = sessionStorage.getItem('causeway.console');
  if (saved) {
    try {
      const { c, t } = JSON.parse(saved);
      await start(await login(c, t));
      return;
    } catch (e) {
      showLogin(e.message);
      return;
    }
  }
  showLogin();
});
