// Reading causeway-binary-v1 frames (broker/wsbin/doc.go), the node's
// opt-in binary WebSocket framing, for the live tail: many messages per
// frame, one permit frame per batch. Pure code: bytes in, values out.

export const protocol = 'causeway-binary-v1';

export class Reader {
  constructor(buf) {
    this.b = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
    this.i = 0;
  }
  byte() {
    if (this.i >= this.b.length) throw new Error('wsbin: truncated frame');
    return this.b[this.i++];
  }
  // uvarint as a Number (exact below 2^53).
  uvarint() {
    let v = 0, mul = 1;
    for (let n = 0; n < 10; n++) {
      const c = this.byte();
      v += (c & 0x7f) * mul;
      if (c < 0x80) return v;
      mul *= 128;
    }
    throw new Error('wsbin: varint too long');
  }
  varint() { // zig-zag
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
  bytes() {
    const n = this.uvarint();
    if (this.i + n > this.b.length) throw new Error('wsbin: truncated field');
    const v = this.b.subarray(this.i, this.i + n);
    this.i += n;
    return v;
  }
  string() { return new TextDecoder().decode(this.bytes()); }
}

// messages decodes a 0x03 frame: {count, last: [{offset, publishTime,
// eventTime, redeliveryCount, key, properties, payload}]} with only the
// last `keep` messages decoded in full (the others are skipped over).
export function messages(buf, keep) {
  const r = new Reader(buf);
  if (r.byte() !== 0x03) return null;
  const count = r.uvarint();
  const first = Math.max(0, count - keep);
  const last = [];
  let offset = -1;
  for (let k = 0; k < count; k++) {
    const flags = r.byte();
    r.uvarint(); // stream index
    offset = r.uvarint();
    const publishTime = r.varint();
    const full = k >= first;
    const m = full ? { offset, publishTime } : null;
    if (flags & 4) { const t = r.varint(); if (m) m.eventTime = t; }
    if (flags & 8) { const n = r.uvarint(); if (m) m.redeliveryCount = n; }
    if (flags & 1) { if (m) m.key = r.string(); else r.bytes(); }
    if (flags & 2) {
      const n = r.uvarint();
      const props = {};
      for (let j = 0; j < n; j++) {
        if (m) { const name = r.string(); props[name] = r.string(); } else { r.bytes(); r.bytes(); }
      }
      if (m) m.properties = props;
    }
    const payload = r.bytes();
    if (m) { m.payload = payload; last.push(m); }
  }
  if (r.i !== r.b.length) throw new Error('wsbin: trailing bytes');
  return { count, offset, last };
}

// error decodes a 0x06 frame's message.
export function error(buf) {
  const r = new Reader(buf);
  if (r.byte() !== 0x06) return null;
  if (r.byte()) { r.uvarint(); r.uvarint(); }
  return r.string();
}

function uvarintBytes(v) {
  const out = [];
  while (v >= 128) { out.push((v % 128) | 0x80); v = Math.floor(v / 128); }
  out.push(v);
  return out;
}

// permit is a 0x05 frame granting n messages (pull mode).
export function permit(n) { return new Uint8Array([0x05, ...uvarintBytes(n)]); }

// messageId is the JSON protocol's id of offset (Pulsar's MessageIdData:
// ledgerId 0, entryId offset, partition -1), as a reader's start takes it.
export function messageId(offset) {
  const b = [0x08, 0x00, 0x10, ...uvarintBytes(offset), 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
  return btoa(String.fromCharCode(...b));
}
