// The body of a finding's detail view as lines, one pane at a time: the
// detector's text, the reproducer, or the replay trace in task lanes. Pure,
// so the views can scroll it and tests can read it.

import { laneLayout, type LaneLine } from './lanes.js';
import type { CrashDetailData, MinimizeOutcome, ReplayOutcome } from './types.js';

export type DetailPane = 'details' | 'reproducer' | 'trace';

/** An action that runs on a key press: replay, minimize. */
export type Job<T> = { status: 'idle' } | { status: 'running' } | { status: 'done'; value: T } | { status: 'error'; message: string };

export const IDLE: { status: 'idle' } = { status: 'idle' };

export interface DetailBody {
  /** A fixed line above the scrolled lines (the lane names), if any. */
  header: string | null;
  lines: LaneLine[];
}

function plain(text: string): LaneLine[] {
  return text.replace(/\n+$/, '').split('\n').map((t) => ({ text: t, isReport: false }));
}

export function detailBody(d: CrashDetailData, pane: DetailPane, replay: Job<ReplayOutcome>, width: number): DetailBody {
  switch (pane) {
    case 'details':
      return { header: null, lines: plain(d.details || '(the detector left no details)') };
    case 'reproducer':
      return { header: null, lines: d.repro ? plain(d.repro.program) : plain('(no reproducer stored)') };
    case 'trace': {
      if (replay.status === 'done') {
        const t = replay.value.trace;
        if (t.rows.length === 0) return { header: null, lines: plain('(the replay recorded no events)') };
        const l = laneLayout(t, width);
        // (A gap inside the trace is shown where it is, by laneLayout.)
        if (t.truncated && (t.gap === undefined || t.gap.at >= t.rows.length)) l.lines.push({ text: `… trace cut at ${t.rows.length} events`, isReport: false });
        return { header: l.header, lines: l.lines };
      }
      if (replay.status === 'running') return { header: null, lines: plain('replaying…') };
      if (replay.status === 'error') return { header: null, lines: plain(`replay failed: ${replay.message}`) };
      return { header: null, lines: plain(d.repro ? 'press r to replay the reproducer and record its trace' : '(no reproducer to replay)') };
    }
  }
}

/** Where a pane starts before any scrolling: traces at their end (the report), text at the top. */
export function defaultScroll(pane: DetailPane): number | 'end' {
  return pane === 'trace' ? 'end' : 0;
}

/** The first line shown, clamped to the body. */
export function scrollStart(scroll: number | 'end', lines: number, height: number): number {
  const max = Math.max(0, lines - height);
  return scroll === 'end' ? max : Math.max(0, Math.min(scroll, max));
}

export function replayLine(j: Job<ReplayOutcome>): string | null {
  if (j.status === 'idle') return null;
  if (j.status === 'running') return 'replay: running…';
  if (j.status === 'error') return `replay: failed: ${j.message}`;
  const r = j.value;
  const cost = `${r.steps} steps`;
  if (r.divergence) return `replay: NOT reproduced: diverged (${r.divergence})`;
  if (r.reproduced) return `replay: reproduced (same title, trace ${r.traceHash}; ${cost})`;
  return `replay: NOT reproduced: expected "${r.expectTitle}" / ${r.expectHash}, got "${r.title ?? 'no report'}" / ${r.traceHash}`;
}

export function minimizeLine(j: Job<MinimizeOutcome>): string | null {
  if (j.status === 'idle') return null;
  if (j.status === 'running') return 'minimization: running…';
  if (j.status === 'error') return `minimization: failed: ${j.message}`;
  return j.value.message;
}
