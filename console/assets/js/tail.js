// A live tail of a stream: a WebSocket reader in pull mode speaking the
// node's binary framing (many messages per frame, one permit frame per
// permitBatch messages), drawn at most maxRowsPerFrame rows per animation
// frame. When more arrive than that, the rows drawn are a sample (the
// newest of each frame) and the tail says so; the counters still count
// every message, and messages never drawn are skipped over undecoded.
import * as wsbin from './wsbin.js';

export const maxRowsPerFrame = 40;
export const maxRows = 200;
const permitBatch = 1000;

export class Tail {
  constructor(openReader, el, status) {
    this.openReader = openReader; // (messageId, binaryProtocol) => WebSocket
    this.el = el;
    this.status = status;
    this.pending = [];
    this.paused = false;
    this.pretty = true;
    this.decode = true;
    this.received = 0;
    this.sampled = false;
    this.position = 'latest'; // where a reconnection resumes: after the last message received
    this.closed = false;
    this.rateWindow = [];
    this.frame = requestAnimationFrame(() => this.draw());
  }

  start(position) {
    this.position = position;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const ws = this.openReader(this.position, wsbin.protocol);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    let granted = 0;
    const grant = () => {
      try { ws.send(wsbin.permit(permitBatch)); } catch { return; }
      granted += permitBatch;
    };
    this.setStatus('connecting…');
    ws.onopen = () => {
      this.setStatus('live');
      grant();
      grant();
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') return; // JSON answers: none asked for
      let f;
      try {
        f = wsbin.messages(ev.data, this.paused ? 0 : maxRowsPerFrame);
        if (!f) {
          const e = wsbin.error(ev.data);
          if (e) this.setStatus('live; the node reported: ' + e, true);
          return;
        }
      } catch (e) {
        this.setStatus('undecodable frame: ' + e.message, true);
        return;
      }
      this.received += f.count;
      if (f.count) this.position = wsbin.messageId(f.offset);
      granted -= f.count;
      while (granted <= permitBatch) grant();
      if (this.paused) return;
      for (const m of f.last) this.pending.push(m);
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
      for (const m of take) frag.append(this.row(m));
      this.el.append(frag);
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
    let payload;
    try {
      if (!this.decode) throw new Error('raw');
      payload = new TextDecoder('utf-8', { fatal: true }).decode(m.payload);
      if (this.pretty) {
        try { payload = JSON.stringify(JSON.parse(payload), null, 2); } catch { /* not JSON */ }
      }
    } catch {
      let bin = '';
      for (const b of m.payload) bin += String.fromCharCode(b);
      payload = btoa(bin) + (this.decode ? ' (binary, base64)' : '');
    }
    const meta = `#${m.offset} ${new Date(m.publishTime).toISOString()}${m.key ? ' key=' + m.key : ''}` +
      (m.properties && Object.keys(m.properties).length ? ' ' + JSON.stringify(m.properties) : '') +
      (m.redeliveryCount ? ' redelivered ' + m.redeliveryCount : '');
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
