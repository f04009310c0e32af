// Our own small SVG writer: two charts for bench/results.svg, no dependencies.
//   reconnect latency distributions (one row per engine and mode, log time axis, every repetition a dot)
//   per-tag cost against the number of tags (log-log, one line per mode)
import { quantile } from './lib.mjs';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (v) => (Math.round(v * 10) / 10).toString();
const attrs = (a) => Object.entries(a).filter(([, v]) => v != null).map(([k, v]) => ` ${k}="${esc(typeof v === 'number' ? num(v) : v)}"`).join('');
export const el = (name, a = {}, children = '') => (children === '' ? `<${name}${attrs(a)}/>` : `<${name}${attrs(a)}>${children}</${name}>`);
export const text = (x, y, s, a = {}) => el('text', { x, y, ...a }, esc(s));

/** A log10 scale from [lo, hi] to [a, b]. */
export function logScale(lo, hi, a, b) {
  const l0 = Math.log10(lo);
  const l1 = Math.log10(hi);
  const f = (v) => a + ((Math.log10(Math.min(Math.max(v, lo), hi)) - l0) / (l1 - l0)) * (b - a);
  f.ticks = () => {
    const out = [];
    for (let e = Math.floor(l0); e <= Math.ceil(l1); e++) {
      const v = 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
    return out;
  };
  return f;
}

const fmtTick = (v, unit) => {
  if (unit === 'ms' && v >= 1000) return `${v / 1000} s`;
  if (unit === 'ms' && v < 1) return `${v * 1000} µs`;
  return `${v.toLocaleString('en-US')}${unit ? ` ${unit}` : ''}`;
};

export const COLORS = { native: '#1f77b4', polyfill: '#d62728', firefox: '#ff7f0e', webkit: '#2ca02c', grid: '#ddd', axis: '#444', miss: '#999' };

/**
 * rows: [{ label, color, samples: [ms], misses: n }]. Dots jittered vertically, a box from p25 to p75, a bar at p50.
 * Returns an SVG <g> translated to (x, y) and its height.
 */
export function distributionChart({ x, y, width, title, rows, unit = 'ms', timeoutLabel }) {
  const rowH = 46;
  const left = 190;
  const top = 34;
  const plotW = width - left - 150;
  const all = rows.flatMap((r) => r.samples).filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.max(Math.min(...all, 1), 0.01)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...all, 10)));
  const sx = logScale(lo, hi, left, left + plotW);
  const height = top + rows.length * rowH + 40;
  let g = text(0, 16, title, { 'font-weight': 'bold', 'font-size': 14 });
  for (const t of sx.ticks()) {
    g += el('line', { x1: sx(t), x2: sx(t), y1: top - 4, y2: top + rows.length * rowH, stroke: COLORS.grid });
    g += text(sx(t), top + rows.length * rowH + 16, fmtTick(t, unit), { 'text-anchor': 'middle', 'font-size': 11, fill: COLORS.axis });
  }
  rows.forEach((row, i) => {
    const cy = top + i * rowH + rowH / 2;
    g += text(left - 10, cy + 4, row.label, { 'text-anchor': 'end', 'font-size': 12 });
    const s = row.samples.filter((v) => v > 0);
    if (s.length) {
      const q1 = quantile(s, 0.25);
      const q3 = quantile(s, 0.75);
      const med = quantile(s, 0.5);
      g += el('rect', { x: sx(q1), y: cy - 12, width: Math.max(sx(q3) - sx(q1), 1), height: 24, fill: row.color, 'fill-opacity': 0.15, stroke: row.color });
      g += el('line', { x1: sx(med), x2: sx(med), y1: cy - 15, y2: cy + 15, stroke: row.color, 'stroke-width': 3 });
      s.forEach((v, j) => {
        const jitter = ((j * 7919) % 17) - 8; // deterministic spread
        g += el('circle', { cx: sx(v), cy: cy + jitter, r: 2.6, fill: row.color, 'fill-opacity': 0.7 });
      });
      g += text(left + plotW + 6, cy + 4, `p50 ${fmtValue(med)}`, { 'font-size': 11, fill: row.color });
    }
    if (row.misses) {
      // Misses: crosses at the right edge of the plot.
      for (let j = 0; j < row.misses; j++) {
        const mx = left + plotW - 4 - (j % 10) * 7;
        const my = cy - 8 + Math.floor(j / 10) * 7;
        g += el('path', { d: `M${num(mx - 3)},${num(my - 3)} L${num(mx + 3)},${num(my + 3)} M${num(mx - 3)},${num(my + 3)} L${num(mx + 3)},${num(my - 3)}`, stroke: row.color, 'stroke-width': 1.5 });
      }
      g += text(left + plotW + 6, cy + 17, `${row.misses} × no event in ${timeoutLabel ?? 'time'}`, { 'font-size': 10, fill: COLORS.miss });
    }
  });
  g += text(left + plotW / 2, top + rows.length * rowH + 34, 'from the call that restores the network to the sync handler\'s entry (log scale)', { 'text-anchor': 'middle', 'font-size': 11, fill: COLORS.axis });
  return { svg: el('g', { transform: `translate(${x},${y})` }, g), height };
}

const fmtValue = (v) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : v >= 10 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`);

/** series: [{ label, color, dash?, points: [[n, msPerTag]] }], log-log. */
export function lineChart({ x, y, width, height, title, series, xLabel, yLabel }) {
  const left = 70;
  const top = 34;
  const plotW = width - left - 290;
  const plotH = height - top - 46;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => v > 0);
  const sx = logScale(10 ** Math.floor(Math.log10(Math.min(...xs))), 10 ** Math.ceil(Math.log10(Math.max(...xs))), left, left + plotW);
  const sy = logScale(10 ** Math.floor(Math.log10(Math.min(...ys))), 10 ** Math.ceil(Math.log10(Math.max(...ys))), top + plotH, top);
  let g = text(0, 16, title, { 'font-weight': 'bold', 'font-size': 14 });
  for (const t of sx.ticks()) {
    g += el('line', { x1: sx(t), x2: sx(t), y1: top, y2: top + plotH, stroke: COLORS.grid });
    g += text(sx(t), top + plotH + 16, fmtTick(t), { 'text-anchor': 'middle', 'font-size': 11, fill: COLORS.axis });
  }
  for (const t of sy.ticks()) {
    g += el('line', { x1: left, x2: left + plotW, y1: sy(t), y2: sy(t), stroke: COLORS.grid });
    g += text(left - 6, sy(t) + 4, fmtTick(t, 'ms'), { 'text-anchor': 'end', 'font-size': 11, fill: COLORS.axis });
  }
  g += text(left + plotW / 2, top + plotH + 34, xLabel, { 'text-anchor': 'middle', 'font-size': 11, fill: COLORS.axis });
  g += text(14, top + plotH / 2, yLabel, { 'text-anchor': 'middle', 'font-size': 11, fill: COLORS.axis, transform: `rotate(-90 14 ${top + plotH / 2})` });
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => p[1] > 0);
    if (!pts.length) return;
    g += el('path', {
      d: pts.map((p, j) => `${j ? 'L' : 'M'}${num(sx(p[0]))},${num(sy(p[1]))}`).join(' '),
      fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-dasharray': s.dash ?? null,
    });
    for (const p of pts) g += el('circle', { cx: sx(p[0]), cy: sy(p[1]), r: 3.5, fill: s.color });
    const ly = top + 10 + i * 18;
    g += el('line', { x1: left + plotW + 16, x2: left + plotW + 40, y1: ly, y2: ly, stroke: s.color, 'stroke-width': 2, 'stroke-dasharray': s.dash ?? null });
    g += text(left + plotW + 46, ly + 4, s.label, { 'font-size': 11 });
  });
  return { svg: el('g', { transform: `translate(${x},${y})` }, g), height };
}

export function document(width, height, body, title) {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">\n` +
    `<title>${esc(title)}</title>\n<rect width="100%" height="100%" fill="#fff"/>\n${body}\n</svg>\n`;
}
