// Small text helpers shared by the panels: counts, rates, durations,
// sparklines, fixed-width cells.

import { formatNs } from '../sim/index.js';

export { formatNs };

const BARS = '▁▂▃▄▅▆▇█';

/** One bar per value, scaled to the largest (all-zero data gives the lowest bar). */
export function sparkline(values: readonly number[], width: number): string {
  const v = values.slice(-width);
  const max = Math.max(0, ...v);
  let out = '';
  for (const x of v) out += max <= 0 ? BARS[0] : BARS[Math.min(BARS.length - 1, Math.floor((Math.max(0, x) / max) * (BARS.length - 1) + 0.5))];
  return out.padStart(width, ' ');
}

/** 1234567 -> "1.23M"; small counts stay exact. */
export function compact(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  const a = Math.abs(n);
  if (a < 10_000) return String(Math.round(n));
  if (a < 1e6) return `${+(n / 1e3).toFixed(1)}k`;
  if (a < 1e9) return `${+(n / 1e6).toFixed(2)}M`;
  return `${+(n / 1e9).toFixed(2)}G`;
}

/** Wall milliseconds as h:mm:ss or m:ss. */
export function elapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** Fit text into exactly `width` columns: cut with an ellipsis, or pad. */
export function cell(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const t = text.length > width ? (width === 1 ? '…' : `${text.slice(0, width - 1)}…`) : text;
  return align === 'left' ? t.padEnd(width) : t.padStart(width);
}

/** An optional gauge: the number, formatted, or "n/a" when the kernel does not report it. */
export function gauge(v: number | undefined, fmt: (n: number) => string = compact): string {
  return v === undefined || !Number.isFinite(v) ? 'n/a' : fmt(v);
}

/** A milliseconds-since-epoch timestamp as "YYYY-MM-DD HH:MM" (local time). */
export function dateTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
