// The live view's memory between snapshots: rates over a short window, a
// bounded history for the sparkline, and the append-only log of findings as
// they first appeared (what ink's <Static> prints once). Pure: the hook in
// hooks/useSampledStats.ts feeds it one snapshot at a time.

import type { LiveStats } from './types.js';

/** Rates are measured over about this much wall time. */
export const RATE_WINDOW_MS = 1000;
/** Sparkline points kept. */
export const HISTORY_MAX = 60;
/** Snapshots kept for the rate window (bounds it however fast we sample). */
const WINDOW_SAMPLES_MAX = 32;

export interface Rates {
  execsPerSec: number;
  callsPerSec: number;
  /** Virtual nanoseconds simulated per wall second. */
  virtualNsPerSec: number;
  workerExecsPerSec: number[];
}

export interface FindingLogEntry {
  /** The title: unique, so a stable React key. */
  key: string;
  atMs: number;
  kind: string;
  title: string;
  isNew: boolean;
}

interface Point {
  wallMs: number;
  execs: number;
  calls: number;
  virtualNs: number;
  workerExecs: number[];
}

export interface SamplerState {
  stats: LiveStats;
  rates: Rates;
  /** execs/s at each sample, oldest first, at most HISTORY_MAX. */
  history: number[];
  log: FindingLogEntry[];
  /** Title of the finding that appeared last, or null. */
  newest: string | null;
  window: Point[];
}

function point(s: LiveStats): Point {
  return { wallMs: s.wallMs, execs: s.execs, calls: s.calls, virtualNs: s.virtualNs, workerExecs: s.workers.map((w) => w.execs) };
}

function perSec(delta: number, ms: number): number {
  return ms > 0 ? Math.max(0, (delta * 1000) / ms) : 0;
}

/** Fold one snapshot into the state (null: the first snapshot). */
export function advance(prev: SamplerState | null, stats: LiveStats): SamplerState {
  const cur = point(stats);
  const kept = (prev?.window ?? []).filter((p) => p.wallMs <= cur.wallMs && cur.wallMs - p.wallMs <= RATE_WINDOW_MS);
  // Keep at least the previous point so a slow sampler still gets a rate.
  const last = prev?.window[prev.window.length - 1];
  const base0 = kept[0] ?? (last && last.wallMs <= cur.wallMs ? last : undefined);
  const window = [...(kept.length ? kept : base0 ? [base0] : []), cur].slice(-WINDOW_SAMPLES_MAX);
  const base = window[0]!;
  const dt = cur.wallMs - base.wallMs;
  const rates: Rates = {
    execsPerSec: perSec(cur.execs - base.execs, dt),
    callsPerSec: perSec(cur.calls - base.calls, dt),
    virtualNsPerSec: perSec(cur.virtualNs - base.virtualNs, dt),
    workerExecsPerSec: cur.workerExecs.map((e, i) => perSec(e - (base.workerExecs[i] ?? 0), dt)),
  };
  const history = prev ? [...prev.history, rates.execsPerSec].slice(-HISTORY_MAX) : [];
  const seen = new Set(prev?.log.map((e) => e.key));
  const log = prev ? prev.log : [];
  let newest = prev?.newest ?? null;
  const fresh: FindingLogEntry[] = [];
  for (const f of stats.findings) {
    if (seen.has(f.title)) continue;
    fresh.push({ key: f.title, atMs: stats.wallMs, kind: f.kind, title: f.title, isNew: f.isNew });
    newest = f.title;
  }
  return { stats, rates, history, log: fresh.length ? [...log, ...fresh] : log, newest, window };
}
