// Small helpers: statistics, the node-side clock, number formats. (The namespace, drivers, server and the rest
// are the shared test kit's: test/kit/README.md.)
import { performance } from 'node:perf_hooks';

/** Milliseconds since the epoch with sub-millisecond resolution: the same scale the pages and workers report. */
export const nodeNow = () => performance.timeOrigin + performance.now();

/** Quantile by linear interpolation between closest ranks (R type 7). */
export function quantile(values, q) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!sorted.length) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summary(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  if (!finite.length) return { n: 0, p50: null, p95: null, min: null, max: null };
  return {
    n: finite.length,
    p50: quantile(finite, 0.5),
    p95: quantile(finite, 0.95),
    min: Math.min(...finite),
    max: Math.max(...finite),
  };
}

export const ratio = (a, b) => (a == null || b == null || b === 0 ? null : a / b);

export const fmtMs = (v, digits) => {
  if (v == null) return '–';
  const d = digits ?? (Math.abs(v) < 1 ? 3 : Math.abs(v) < 10 ? 2 : Math.abs(v) < 100 ? 1 : 0);
  return v.toFixed(d);
};
export const fmtRatio = (v) => (v == null ? '–' : v.toFixed(2));
export const fmtBytes = (v) => (v == null ? '–' : v.toLocaleString('en-US'));
