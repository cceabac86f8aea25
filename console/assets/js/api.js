// The node's public HTTP and WebSocket API, called with the user's key or
// token. Every failure becomes an ApiError carrying the server's message;
// a failure to reach the node at all is reported to onLost, which shows it
// and probes /health until the node answers again.

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status; // 0: the node could not be reached
    this.body = body;
  }
}

export class Api {
  constructor(credential, tenant) {
    this.credential = credential;
    this.tenant = tenant || ''; // '' = the credential's own tenant
    this.fabric = '_system';
    this.onLost = () => {};
  }

  // path is relative to the tenant: "/_fabric/f/_api/..." or "/_api/...".
  url(path) {
    return (this.tenant ? '/_tenant/' + encodeURIComponent(this.tenant) : '') + path;
  }

  fab(path) { return '/_fabric/' + encodeURIComponent(this.fabric) + '/_api' + path; }

  async raw(method, path, body, headers = {}) {
    const h = { Authorization: 'Bearer ' + this.credential, ...headers };
    let payload;
    if (body !== undefined) {
      h['Content-Type'] = 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(this.url(path), { method, headers: h, body: payload, cache: 'no-store' });
    } catch (e) {
      this.onLost();
      throw new ApiError(0, 'cannot reach the node: ' + e.message);
    }
    return res;
  }

  // call answers the decoded JSON body, or throws the API's error.
  async call(method, path, body, headers) {
    const res = await this.raw(method, path, body, headers);
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (!res.ok || (data && data.error === true)) {
      let msg = (data && (data.errorMessage || data.message)) || text.trim() || res.statusText;
      if (data && data.errorNum && data.errorNum !== res.status) msg += ' (errorNum ' + data.errorNum + ')';
      throw new ApiError(res.status, res.status + ' ' + msg, data);
    }
    if (data === null && text) return text;
    return data;
  }

  get(p) { return this.call('GET', p); }
  post(p, b) { return this.call('POST', p, b); }

  text(path) {
    return this.raw('GET', path).then(async (res) => {
      const t = await res.text();
      if (!res.ok) throw new ApiError(res.status, res.status + ' ' + t.trim());
      return t;
    });
  }

  // ws opens a WebSocket on a path of the API, the credential in `token`
  // as Pulsar's WebSocket API takes it (browsers cannot set headers).
  ws(path, params = {}) {
    const q = new URLSearchParams(params);
    q.set('token', this.credential);
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return new WebSocket(proto + '//' + location.host + this.url(path) + '?' + q.toString());
  }
}

// claims decodes a JWT's payload (no verification: the node verifies;
// the console only uses them to hide what would be refused).
export function claims(token) {
  const part = token.split('.')[1];
  if (!part) throw new Error('not a token');
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
}

// Grants: "read|write|admin:" + "*" | "fabric/F" | "stream/F/S" | "collection/F/C"
// ("*" for any fabric or name), as broker/auth reads them. admin covers
// write covers read.
const ranks = { read: 1, write: 2, admin: 3 };

export function parseGrant(s) {
  const i = s.indexOf(':');
  if (i < 0) return null;
  const action = ranks[s.slice(0, i)];
  const scope = s.slice(i + 1);
  if (!action) return null;
  if (scope === '*') return { action, kind: 'tenant' };
  const parts = scope.split('/');
  if (parts[0] === 'fabric' && parts.length === 2) return { action, kind: 'fabric', fabric: parts[1] };
  if ((parts[0] === 'stream' || parts[0] === 'collection') && parts.length === 3) {
    return { action, kind: parts[0], fabric: parts[1], name: parts[2] };
  }
  return null;
}

const match = (pattern, v) => pattern === '*' || pattern === v;

// Principal is who the console acts as: superuser, tenant, grants.
export class Principal {
  constructor(c) {
    this.superuser = !!c.su;
    this.tenant = c.tenant || '_mm';
    this.grants = (c.perms || []).map(parseGrant).filter(Boolean);
    this.key = c.key || '';
  }
  // can: action 'read'|'write'|'admin' on kind 'tenant'|'fabric'|'stream'|'collection'.
  can(action, kind, fabric, name) {
    if (this.superuser) return true;
    const want = ranks[action];
    return this.grants.some((g) => {
      if (g.action < want) return false;
      if (g.kind === 'tenant') return true;
      if (g.kind === 'fabric') return kind !== 'tenant' && match(g.fabric, fabric);
      return g.kind === kind && match(g.fabric, fabric) && match(g.name, name);
    });
  }
  // canSome: whether some resource of kind in fabric allows action (to
  // decide whether to offer a form at all; the exact name is checked with
  // can when the user names it).
  canSome(action, kind, fabric) {
    if (this.superuser) return true;
    const want = ranks[action];
    return this.grants.some((g) => g.action >= want && (g.kind === 'tenant' ||
      (g.kind === 'fabric' && match(g.fabric, fabric)) || (g.kind === kind && match(g.fabric, fabric))));
  }
  get tenantAdmin() { return this.can('admin', 'tenant'); }
}

// streamKind: a collection's op log and change feed are the collection's.
export function streamResource(name) {
  for (const p of ['_col.', '_changes.']) {
    if (name.startsWith(p)) return ['collection', name.slice(p.length)];
  }
  return ['stream', name];
}
