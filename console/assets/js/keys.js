// Keys and tenants (tenant admins): the tenant's API keys, creating one
// (shown once), changing its grants, revoking it; tenants (superusers).
import { h, card, table, errorBox, act, fmtTime } from './ui.js';

export async function render({ api, principal, el }) {
  if (!principal.tenantAdmin) {
    el.append(card('Keys', h('p', { class: 'muted' }, 'Managing keys needs admin:* on the tenant.')));
    return;
  }
  const err = errorBox('keys');
  const body = h('div');
  const created = h('div', { id: 'key-created' });
  const load = () => act(err, async () => {
    const res = await api.get('/_api/key');
    body.replaceChildren(table([
      { title: 'id', key: 'id' }, { title: 'name', key: 'name' },
      { title: 'grants', render: (k) => grantsEditor(k) },
      { title: 'created', render: (k) => fmtTime(k.createdAt) + (k.createdBy ? ' by ' + k.createdBy : '') },
      { title: 'expires', render: (k) => (k.expiresAt ? fmtTime(k.expiresAt) : 'never') },
      { title: '', render: (k) => {
        if (k.superuser && !principal.superuser) return 'superuser';
        const b = h('button', { class: 'danger', 'data-revoke': k.id }, 'Revoke');
        b.addEventListener('click', () => act(err, async () => {
          if (!confirm('Revoke key ' + k.id + '? Its connections close now.')) return;
          await api.call('DELETE', '/_api/key/' + encodeURIComponent(k.id));
          await load();
        }, b));
        return b;
      } },
    ], res.result || []));
  });
  const grantsEditor = (k) => {
    const input = h('input', { value: (k.permissions || []).join(' '), style: 'width:22em' });
    const b = h('button', { class: 'secondary' }, 'Set');
    const e = errorBox();
    b.addEventListener('click', () => act(e, async () => {
      await api.call('PUT', '/_api/key/' + encodeURIComponent(k.id) + '/permissions', { permissions: input.value.split(/\s+/).filter(Boolean) });
      await load();
    }, b));
    return h('div', {}, h('div', { class: 'inline' }, input, b), e);
  };
  const name = h('input', { id: 'key-name', placeholder: 'ci' });
  const perms = h('input', { id: 'key-perms', placeholder: 'read:stream/_system/orders write:collection/_system/*', style: 'width:28em' });
  const exp = h('input', { id: 'key-expires', placeholder: '720h (empty: never)' });
  const cerr = errorBox('key-create');
  const b = h('button', { id: 'key-create' }, 'Create key');
  b.addEventListener('click', () => act(cerr, async () => {
    const body = { name: name.value.trim(), permissions: perms.value.split(/\s+/).filter(Boolean) };
    if (exp.value.trim()) body.expiresIn = exp.value.trim();
    const res = await api.post('/_api/key', body);
    const r = res.result || res;
    created.replaceChildren(h('p', { class: 'ok' }, 'Created. The key is shown once: copy it now.'), h('pre', { class: 'json', id: 'key-secret' }, r.key || JSON.stringify(r)));
    await load();
  }, b));
  el.append(card('API keys of tenant ' + (api.tenant || principal.tenant), err, body,
    h('div', { class: 'inline' }, h('label', {}, 'name', name), h('label', {}, 'grants (space-separated)', perms), h('label', {}, 'expires in', exp), b),
    cerr, created, h('p', { class: 'muted' }, 'Grants: read|write|admin on * (the tenant), fabric/F, stream/F/S or collection/F/C; a key never gets more than its creator has.')));
  load();
  if (principal.superuser) el.append(tenantsCard());

  function tenantsCard() {
    const terr = errorBox('tenants');
    const list = h('div');
    const tname = h('input', { id: 'tenant-name', placeholder: 'acme' });
    const tb = h('button', { id: 'tenant-create' }, 'Create tenant');
    const tload = () => act(terr, async () => {
      const res = await api.get('/_api/tenant');
      list.replaceChildren(table([{ title: 'tenant', render: (t) => t }], res.result || []));
    });
    tb.addEventListener('click', () => act(terr, async () => {
      await api.post('/_api/tenant/' + encodeURIComponent(tname.value.trim()));
      await tload();
    }, tb));
    tload();
    return card('Tenants (superusers)', terr, list, h('div', { class: 'inline' }, h('label', {}, 'name', tname), tb),
      h('p', { class: 'muted' }, 'A tenant\'s admin key: log in with a superuser key and tenant set to the new tenant, then create a key with admin:*.'));
  }
}
