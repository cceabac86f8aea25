// A live tail of a stream: a WebSocket reader whose messages are drawn at
// most maxRowsPerFrame per animation frame. When more arrive than that,
// the rows drawn are a sample (the newest of each frame) and the tail says
// so; the counters still count every message.

export const maxRowsPerFrame = 40;
export const maxRows = 200;
const permitBatch = 1000;

export class Tail {
  constructor(openReader, el, status) {
    this.openReader = openReader; // (messageId) => WebSocket
    this.el = el;
    this.status = status;
    this.pending = [];
    this.paused = false;
    this.pretty = true;
    this.decode = true;
    this.received = 0;
    this.drawn = 0;
    this.sampled = false;
    this.lastId = 'latest';
    this.closed = false;
    this.rateWindow = [];
    this.frame = requestAnimationFrame(() => this.draw());
  }

  // position is where a reconnection resumes: after the last message
  // received.
  position() {
    if (this.lastRaw) {
      try { this.lastId = JSON.parse(this.lastRaw).messageId || this.lastId; } catch { /* keep the previous */ }
      this.lastRaw = null;
    }
    return this.lastId;
  }

  start(position) {
    this.lastId = position;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    // Pull mode: the reader sends what permit frames grant, so flow
    // control costs one frame per permitBatch messages instead of an ack
    // per message.
    const ws = this.openReader(this.position());
    this.ws = ws;
    let granted = 0;
    const grant = () => {
      try { ws.send(JSON.stringify({ type: 'permit', permitMessages: permitBatch })); } catch { return; }
      granted += permitBatch;
    };
    this.setStatus('connecting…');
    ws.onopen = () => {
      this.setStatus('live');
      grant();
      grant();
    };
    // Messages stay unparsed until drawn: at 10,000 a second only the few
    // drawn (and the last, for its id) are decoded.
    ws.onmessage = (ev) => {
      this.received++;
      this.lastRaw = ev.data;
      if (--granted <= permitBatch) grant();
      if (this.paused) return;
      this.pending.push(ev.data);
      if (this.pending.length > maxRowsPerFrame * 4) this.pending.splice(0, this.pending.length - maxRowsPerFrame);
    };
    ws.onclose = (ev) => {
      if (this.closed) return;
      this.setStatus(`disconnected (${ev.code}${ev.reason ? ' ' + ev.reason : ''}); reconnecting in 2 s`, true);
      this.retry = setTimeout(() => this.connect(), 2000);
    };
  }

  setStatus(text, bad) {
    this.statusText = text;
    this.statusBad = !!bad;
  }

  draw() {
    if (this.closed) return;
    const now = performance.now();
    const batch = this.pending;
    this.pending = [];
    let take = batch;
    if (batch.length > maxRowsPerFrame) {
      take = batch.slice(batch.length - maxRowsPerFrame);
      this.sampled = true;
      this.sampledAt = now;
    }
    if (take.length) {
      const frag = document.createDocumentFragment();
      for (const raw of take) {
        let m;
        try { m = JSON.parse(raw); } catch { continue; }
        if (m.messageId) frag.append(this.row(m));
      }
      this.el.append(frag);
      this.drawn += take.length;
      while (this.el.childElementCount > maxRows) this.el.firstElementChild.remove();
      this.el.scrollTop = this.el.scrollHeight;
    }
    this.rateWindow.push([now, this.received]);
    while (this.rateWindow.length > 1 && now - this.rateWindow[0][0] > 1000) this.rateWindow.shift();
    const [t0, n0] = this.rateWindow[0];
    const rate = now > t0 ? Math.round(((this.received - n0) * 1000) / (now - t0)) : 0;
    if (this.sampled && now - this.sampledAt > 3000) this.sampled = false;
    this.status.textContent = `${this.statusText || ''} · ${this.received} received · ${rate} msgs/s` +
      (this.paused ? ' · paused' : '') +
      (this.sampled ? ` · sampling: drawing at most ${maxRowsPerFrame} rows per frame` : '');
    this.status.classList.toggle('error', this.statusBad);
    this.frame = requestAnimationFrame(() => this.draw());
  }

  row(m) {
    let payload = m.payload || '';
    if (this.decode) {
      try {
        const bin = atob(payload);
        const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
        payload = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        if (this.pretty) {
          try { payload = JSON.stringify(JSON.parse(payload), null, 2); } catch { /* not JSON */ }
        }
      } catch { payload = m.payload + ' (binary, base64)'; }
    }
    const meta = `${m.publishTime || ''}${m.key ? ' key=' + m.key : ''}` +
      (m.properties && Object.keys(m.properties).length ? ' ' + JSON.stringify(m.properties) : '');
    const d = document.createElement('div');
    const s = document.createElement('span');
    s.className = 'meta';
    s.textContent = meta + '\n';
    d.append(s, payload);
    return d;
  }

  close() {
    this.closed = true;
    clearTimeout(this.retry);
    cancelAnimationFrame(this.frame);
    if (this.ws) this.ws.close();
  }
}
