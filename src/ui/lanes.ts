// A replay trace laid out as task lanes: one column per task, one row per
// event, the event's text in its task's column -- the way one reads an
// interleaving on paper. Pure: text in, text out.

import { cell, formatNs } from './format.js';
import type { TraceView } from './types.js';

const STEP_W = 7;
const TIME_W = 10;
const PREFIX_W = STEP_W + 1 + TIME_W + 1;
const LANE_MIN_W = 12;

export interface LaneLine {
  text: string;
  isReport: boolean;
}

export interface LaneLayout {
  header: string;
  lines: LaneLine[];
}

/**
 * `width`: total columns. Tasks beyond what fits share the last lane, named
 * in their cell. A report spans the whole row: it ends the story.
 */
export function laneLayout(trace: TraceView, width: number): LaneLayout {
  const present = [...new Set(trace.rows.filter((r) => !r.isReport).map((r) => r.task))].sort((a, b) => a - b);
  const room = Math.max(LANE_MIN_W, width - PREFIX_W);
  const lanes = Math.max(1, Math.min(present.length, Math.floor(room / LANE_MIN_W)));
  const laneW = Math.max(LANE_MIN_W, Math.floor(room / lanes));
  const laneOf = new Map<number, number>();
  present.forEach((t, i) => laneOf.set(t, Math.min(i, lanes - 1)));
  const shared = present.length > lanes;
  const name = (t: number): string => (t < 0 ? 'sim' : trace.taskNames[t] ?? `task${t}`);
  const heads = Array.from({ length: lanes }, (_, i) => (shared && i === lanes - 1 ? 'others' : name(present[i]!)));
  const header = `${cell('step', STEP_W, 'right')} ${cell('time', TIME_W, 'right')} ${heads.map((h) => cell(`│${h}`, laneW)).join('')}`;
  const lines = trace.rows.map((r) => {
    const at = `${cell(String(r.step), STEP_W, 'right')} ${cell(formatNs(r.timeNs), TIME_W, 'right')} `;
    if (r.isReport) return { text: `${at}▶ ${r.task >= 0 ? `${name(r.task)}: ` : ''}${r.label}`, isReport: true };
    const lane = laneOf.get(r.task) ?? 0;
    const label = shared && lane === lanes - 1 ? `${name(r.task)}: ${r.label}` : r.label;
    const cells = heads.map((_, i) => cell(i === lane ? `│${label}` : '│', laneW)).join('');
    return { text: `${at}${cells}`, isReport: false };
  });
  // A long run's middle was not kept: say so where it was.
  const gap = trace.gap;
  if (gap !== undefined && gap.count > 0 && gap.at < lines.length) lines.splice(gap.at, 0, { text: `${' '.repeat(PREFIX_W)}… ${gap.count} events not kept …`, isReport: false });
  return { header, lines };
}
