// A small line chart on a canvas: a few series, the last maxPoints values.

export const maxPoints = 120;
const colors = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

export class Chart {
  constructor(canvas, unit) {
    this.canvas = canvas;
    this.unit = unit;
    this.series = new Map(); // name -> values
  }

  push(name, v) {
    if (!this.series.has(name)) this.series.set(name, []);
    const s = this.series.get(name);
    s.push(v);
    if (s.length > maxPoints) s.shift();
  }

  draw() {
    const c = this.canvas;
    const w = (c.width = c.clientWidth * devicePixelRatio);
    const hgt = (c.height = c.clientHeight * devicePixelRatio);
    const g = c.getContext('2d');
    g.clearRect(0, 0, w, hgt);
    let max = 0;
    for (const s of this.series.values()) for (const v of s) if (v !== undefined && v > max) max = v;
    max = max > 0 ? max * 1.1 : 1;
    const pad = 4 * devicePixelRatio;
    g.font = 11 * devicePixelRatio + 'px system-ui';
    g.fillStyle = '#6b7483';
    g.fillText(fmt(max) + ' ' + this.unit, pad, 12 * devicePixelRatio);
    let i = 0;
    for (const [name, s] of this.series) {
      const color = colors[i % colors.length];
      g.strokeStyle = color;
      g.lineWidth = 1.5 * devicePixelRatio;
      g.beginPath();
      let started = false;
      s.forEach((v, j) => {
        if (v === undefined) { started = false; return; }
        const x = (w * (j + maxPoints - s.length)) / (maxPoints - 1);
        const y = hgt - pad - ((hgt - 2 * pad) * v) / max;
        if (started) g.lineTo(x, y); else g.moveTo(x, y);
        started = true;
      });
      g.stroke();
      const last = s[s.length - 1];
      g.fillStyle = color;
      g.fillText(`${name}: ${last === undefined ? '–' : fmt(last)}`, pad + 140 * devicePixelRatio * i, hgt - pad - 2);
      i++;
    }
  }
}

function fmt(v) {
  if (v >= 100) return Math.round(v).toString();
  if (v >= 1) return v.toFixed(1);
  return v.toPrecision(2);
}
