// Number formatting for the table: milliseconds with sensible precision, summaries as
// "median (min–max)", and counts with thousands separators.
import type { Latency, Summary } from './stats.js';

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms >= 100) return Math.round(ms).toLocaleString('en-US');
  if (ms >= 10) return ms.toFixed(1);
  return ms.toFixed(2);
}

export function fmtSummary(s: Summary | undefined, unit = '', format: (v: number) => string = fmtMs): string {
  if (s === undefined || s.n === 0) return '–';
  if (s.n === 1) return `${format(s.median)}${unit}`;
  return `${format(s.median)}${unit} (${format(s.min)}–${format(s.max)})`;
}

export function fmtLatency(l: Latency): string {
  if (l.n === 0) return '–';
  return `${fmtMs(l.p50)} / ${fmtMs(l.p99)}`;
}

export function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function fmtMb(mb: number): string {
  return Number.isFinite(mb) ? mb.toFixed(mb < 10 ? 1 : 0) : '–';
}
