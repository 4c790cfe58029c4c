// Replay you can see: the event trace of a run as swimlanes, one per task,
// in time order -- syscalls with their arguments and results, page faults,
// lock acquire/contend/release, waits and wake-ups, FUSE requests and I/O,
// and the moment a detector fired. Two renderings of the same rows: text
// columns for the terminal (`faultline replay ID --trace`) and a
// self-contained HTML page with an SVG (`--timeline FILE.html`): no
// scripts, no network assets.
//
// Page faults are kernel trace events when the kernel emits them ("fault"
// labels); until then a fault is recognised by its first act: taking the
// task's mmap_lock inside a call that touches user memory.

import { Ev, formatNs } from '../sim/index.js';
import { formatResult } from '../kernel/errno.js';
import { execute, type ExecResult } from './execute.js';
import { formatCall, formatProgram } from './format.js';
import type { Call, Program } from './program.js';

export type RowKind =
  | 'syscall' | 'return' | 'fault' | 'acquire' | 'contend' | 'release' | 'lock'
  | 'wait' | 'wake' | 'timer' | 'fuse' | 'io' | 'event' | 'exit' | 'report' | 'phase';

export interface Row {
  step: number;
  timeNs: number;
  /** Task id, -1 for rows that span every lane (report without a task, phase change). */
  task: number;
  kind: RowKind;
  text: string;
  /** For a wake-up: the waker's task id (-1: a timer or an interrupt). */
  from?: number;
}

/** Something that lasts: a task on the CPU, inside a call, holding a lock, asleep. Rows `from`..`to`, inclusive. */
export interface Span {
  task: number;
  kind: 'run' | 'syscall' | 'lock' | 'wait';
  from: number;
  to: number;
  label: string;
  /** Nesting depth among the task's held locks. */
  depth: number;
}

export interface Timeline {
  tasks: string[];
  rows: Row[];
  spans: Span[];
  /** Rows left out before the first one shown (the window ends at the detector). */
  omitted: number;
  title: string | null;
  steps: number;
  virtualNs: number;
}

export interface TimelineOptions {
  /** Most rows to keep (the last ones up to the report). Default 3000. */
  maxRows?: number;
}

const MEM_CALLS = new Set(['mem_read', 'mem_write', 'read', 'write', 'pread64', 'pwrite64', 'readv', 'writev', 'pwritev']);
const STATE = ['R', 'D', 'D killable', 'S', 'S timer', 'X'];

/** The program's call behind each syscall a task began, in order (reruns repeat the call). */
function callsByTask(p: Program, tasks: readonly string[]): Map<number, { call: Call; rerun: number; of: number }[]> {
  const out = new Map<number, { call: Call; rerun: number; of: number }[]>();
  tasks.forEach((name, id) => {
    const m = /^p(\d+)\.t(\d+)$/.exec(name);
    const th = m ? p.procs[Number(m[1])]?.threads[Number(m[2])] : undefined;
    if (th === undefined) return;
    const ops: { call: Call; rerun: number; of: number }[] = [];
    for (const call of th.calls) {
      const of = Math.max(1, call.props.rerun ?? 1);
      for (let r = 0; r < of; r++) ops.push({ call, rerun: r, of });
    }
    out.set(id, ops);
  });
  return out;
}

function classify(label: string): RowKind {
  if (label.startsWith('fault')) return 'fault';
  if (label.startsWith('fuse')) return 'fuse';
  if (label.startsWith('bio') || label.startsWith('io')) return 'io';
  return 'event';
}

/** Trace events kept for a timeline: enough for most runs, then enough for long ones (hangs). */
const TRACE_EVENTS = [100_000, 2_000_000];

/**
 * Replay `p` (its recorded schedule, if any) keeping its trace events: the
 * trace keeps the first events of a run, so a long run is replayed again
 * with room for all of them, up to a bound.
 */
export function traceRun(p: Program): ExecResult {
  let r: ExecResult | null = null;
  for (const limit of TRACE_EVENTS) {
    r = execute(p, { replay: true, traceLimit: limit });
    if (r.events.length < limit) break;
  }
  return r!;
}

/** Rows and spans of a run (run it with a traceLimit to have events). */
export function buildTimeline(p: Program, r: ExecResult, opts: TimelineOptions = {}): Timeline {
  const tasks = r.taskNames;
  const calls = callsByTask(p, tasks);
  const explicitFaults = r.events.some((e) => e.kind === Ev.Kernel && e.name.startsWith('fault'));
  const opIndex = new Array<number>(tasks.length).fill(0);
  const inOp = new Array<string | null>(tasks.length).fill(null);
  const asleep = new Array<boolean>(tasks.length).fill(false);
  let rows: Row[] = [];
  let sawReport = false;
  const events = r.events;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const base = { step: e.step, timeNs: e.timeNs, task: e.task };
    switch (e.kind) {
      case Ev.OpBegin: {
        const op = calls.get(e.task)?.[opIndex[e.task]!];
        opIndex[e.task]!++;
        inOp[e.task] = e.name;
        const text = op !== undefined && op.call.name === e.name
          ? formatCall(op.call) + (op.of > 1 ? ` [${op.rerun + 1}/${op.of}]` : '')
          : e.name;
        rows.push({ ...base, kind: 'syscall', text });
        break;
      }
      case Ev.OpEnd:
        inOp[e.task] = null;
        rows.push({ ...base, kind: 'return', text: `${e.name} = ${formatResult(e.arg)}` });
        break;
      case Ev.Acquire: {
        if (!explicitFaults && e.name === '&mm->mmap_lock' && MEM_CALLS.has(inOp[e.task] ?? '')) {
          rows.push({ ...base, kind: 'fault', text: `page fault in ${inOp[e.task]}` });
        }
        // An uncontended lock and unlock in one step is one row.
        const n = events[i + 1];
        if (n !== undefined && n.kind === Ev.Release && n.task === e.task && n.name === e.name && n.step === e.step) {
          rows.push({ ...base, kind: 'lock', text: `lock+unlock ${e.name}` });
          i++;
        } else rows.push({ ...base, kind: 'acquire', text: `lock ${e.name}` });
        break;
      }
      case Ev.Contend:
        rows.push({ ...base, kind: 'contend', text: `contend ${e.name}` });
        break;
      case Ev.Release:
        rows.push({ ...base, kind: 'release', text: `unlock ${e.name}` });
        break;
      case Ev.Sleep:
        asleep[e.task] = true;
        rows.push({ ...base, kind: 'wait', text: `wait${e.name ? ` on ${e.name}` : ''} (${STATE[e.arg] ?? e.arg})` });
        break;
      case Ev.Wake: {
        asleep[e.task] = false;
        // The simulator names the task that ran last; if it is asleep, a timer or an I/O completion did it.
        const by = e.arg >= 0 && !asleep[e.arg] ? e.arg : -1;
        rows.push({ ...base, kind: 'wake', text: by >= 0 ? `woken by ${tasks[by] ?? by}` : 'woken (timer or I/O completion)', from: by });
        break;
      }
      case Ev.TimerFire:
        rows.push({ ...base, kind: 'timer', text: 'timer fired' });
        break;
      case Ev.Kernel:
        rows.push({ ...base, kind: classify(e.name), text: e.arg ? `${e.name} ${e.arg}` : e.name });
        break;
      case Ev.Exit:
        rows.push({ ...base, kind: 'exit', text: 'exit' });
        break;
      case Ev.Report:
        sawReport = true;
        rows.push({ ...base, kind: 'report', text: e.name });
        break;
      case Ev.Phase:
        rows.push({ ...base, task: -1, kind: 'phase', text: 'liveness phase: fair scheduling, no new faults' });
        break;
      default:
        break; // switches become run spans; spawns are the lanes themselves
    }
  }
  // Reports found after the run (invariants at the end, leaks) have no trace event.
  if (!sawReport) for (const rep of r.reports) rows.push({ step: rep.step, timeNs: rep.timeNs, task: -1, kind: 'report', text: rep.title });

  // The window: the last maxRows rows up to the first report.
  const maxRows = Math.max(1, opts.maxRows ?? 3000);
  const firstReport = rows.findIndex((x) => x.kind === 'report');
  const end = firstReport >= 0 ? firstReport + 1 : rows.length;
  const start = Math.max(0, end - maxRows);
  rows = rows.slice(start, end);

  return { tasks, rows, spans: spansOf(r, rows, tasks.length), omitted: start, title: r.reports[0]?.title ?? null, steps: r.steps, virtualNs: r.virtualNs };
}

/** Spans, in row coordinates: a step maps to the rows that carry it. */
function spansOf(r: ExecResult, rows: readonly Row[], nTasks: number): Span[] {
  const spans: Span[] = [];
  if (rows.length === 0) return spans;
  const firstStep = rows[0]!.step;
  const lastStep = rows[rows.length - 1]!.step;
  // Row range of a step interval [a, b]: from the first row at or after a to the last row at or before b.
  const rowAtOrAfter = (s: number): number => {
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (rows[m]!.step < s) lo = m + 1;
      else hi = m;
    }
    return lo;
  };
  const add = (task: number, kind: Span['kind'], a: number, b: number, label: string, depth = 0): void => {
    if (b < firstStep || a > lastStep) return;
    const from = rowAtOrAfter(a);
    const to = rowAtOrAfter(b + 1) - 1;
    if (from <= to) spans.push({ task, kind, from, to, label, depth });
  };
  let running = -1;
  let runFrom = 0;
  const opFrom = new Array<number>(nTasks).fill(-1);
  const opName = new Array<string>(nTasks).fill('');
  const held: { name: string; from: number }[][] = Array.from({ length: nTasks }, () => []);
  const sleepFrom = new Array<number>(nTasks).fill(-1);
  const sleepOn = new Array<string>(nTasks).fill('');
  for (const e of r.events) {
    const t = e.task;
    switch (e.kind) {
      case Ev.Switch:
        if (running >= 0) add(running, 'run', runFrom, e.step - 1, 'on CPU');
        running = t;
        runFrom = e.step;
        break;
      case Ev.OpBegin:
        opFrom[t] = e.step;
        opName[t] = e.name;
        break;
      case Ev.OpEnd:
        if (opFrom[t]! >= 0) add(t, 'syscall', opFrom[t]!, e.step, opName[t]!);
        opFrom[t] = -1;
        break;
      case Ev.Acquire:
        held[t]!.push({ name: e.name, from: e.step });
        break;
      case Ev.Release: {
        const h = held[t]!;
        const i = h.map((x) => x.name).lastIndexOf(e.name);
        if (i >= 0) {
          add(t, 'lock', h[i]!.from, e.step, e.name, i);
          h.splice(i, 1);
        }
        break;
      }
      case Ev.Sleep:
        sleepFrom[t] = e.step;
        sleepOn[t] = e.name;
        break;
      case Ev.Wake:
        if (sleepFrom[t]! >= 0) add(t, 'wait', sleepFrom[t]!, e.step, sleepOn[t] || 'sleep');
        sleepFrom[t] = -1;
        break;
      default:
        break;
    }
  }
  // Whatever is still open lasts to the end of the window.
  if (running >= 0) add(running, 'run', runFrom, lastStep, 'on CPU');
  for (let t = 0; t < nTasks; t++) {
    if (opFrom[t]! >= 0) add(t, 'syscall', opFrom[t]!, lastStep, opName[t]!);
    held[t]!.forEach((h, i) => add(t, 'lock', h.from, lastStep, h.name, i));
    if (sleepFrom[t]! >= 0) add(t, 'wait', sleepFrom[t]!, lastStep, sleepOn[t] || 'sleep');
  }
  return spans;
}

// ------------------------------------------------------------------ text

function fit(s: string, w: number): string {
  return s.length <= w ? s.padEnd(w) : `${s.slice(0, w - 1)}…`;
}

/** Per-task columns in time order, for the terminal. */
export function formatLanes(tl: Timeline, opts: { width?: number } = {}): string {
  const w = Math.max(12, opts.width ?? 36);
  const lanes = tl.tasks.length;
  const gutter = 20;
  const out: string[] = [];
  const sep = ' │ ';
  out.push(`${fit('step       time', gutter)}${sep}${tl.tasks.map((t) => fit(t, w)).join(sep)}`);
  out.push(`${'─'.repeat(gutter)}─┼─${tl.tasks.map(() => '─'.repeat(w)).join('─┼─')}`);
  if (tl.omitted > 0) out.push(`  (${tl.omitted} earlier events not shown)`);
  // A task inside a call shows a thin bar when it has nothing to say.
  const inCall = new Array<boolean>(lanes).fill(false);
  for (const row of tl.rows) {
    const left = fit(`${String(row.step).padStart(7)} ${formatNs(row.timeNs).padStart(10)}`, gutter);
    if (row.kind === 'report' || row.task < 0) {
      const who = row.task >= 0 ? ` (${tl.tasks[row.task]})` : '';
      const mark = row.kind === 'report' ? '>>> DETECTOR FIRED: ' : row.kind === 'phase' ? '--- ' : '--- (no task) ';
      out.push(`${left}${sep}${mark}${row.text}${who}`);
      continue;
    }
    if (row.kind === 'syscall') inCall[row.task] = true;
    const cells = tl.tasks.map((_, i) => (i === row.task ? fit(cellText(row), w) : fit(inCall[i] ? '┊' : '', w)));
    if (row.kind === 'return' || row.kind === 'exit') inCall[row.task] = false;
    out.push(`${left}${sep}${cells.join(sep)}`.trimEnd());
  }
  return out.join('\n');
}

const GLYPH: Record<RowKind, string> = {
  syscall: '→ ', return: '← ', fault: '⚡ ', acquire: '+ ', contend: '! ', release: '- ', lock: '± ',
  wait: 'z ', wake: '^ ', timer: '⏲ ', fuse: '» ', io: '» ', event: '· ', exit: '✕ ', report: '', phase: '',
};

function cellText(row: Row): string {
  return GLYPH[row.kind] + row.text;
}

// ------------------------------------------------------------------ HTML

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const COLOR: Record<RowKind, string> = {
  syscall: '#1f4e99', return: '#1f4e99', fault: '#b35900', acquire: '#2e7d32', contend: '#c62828', release: '#6d8f6f',
  lock: '#6d8f6f', wait: '#8e24aa', wake: '#00838f', timer: '#00838f', fuse: '#ad1457', io: '#5d4037', event: '#555555',
  exit: '#333333', report: '#d50000', phase: '#777777',
};

const LANE_W = 290;
const ROW_H = 18;
const GUTTER = 120;
const HEAD = 46;

/** A self-contained HTML page: the same rows as swimlanes in an SVG, the program and the report. */
export function timelineHtml(tl: Timeline, p: Program, r: ExecResult, opts: { heading?: string } = {}): string {
  const n = tl.tasks.length;
  const width = GUTTER + n * LANE_W + 20;
  const height = HEAD + tl.rows.length * ROW_H + 40;
  const laneX = (t: number): number => GUTTER + t * LANE_W;
  const rowY = (i: number): number => HEAD + i * ROW_H;
  const svg: string[] = [];
  svg.push(`<svg class="timeline" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="swimlanes, one per task">`);
  // Gutter: step and virtual time.
  svg.push(`<g class="gutter">`);
  svg.push(`<text x="8" y="28" class="head">step · time</text>`);
  tl.rows.forEach((row, i) => {
    svg.push(`<text x="8" y="${rowY(i) + 13}" class="gut">${row.step} · ${esc(formatNs(row.timeNs))}</text>`);
  });
  svg.push(`</g>`);
  // Lanes.
  for (let t = 0; t < n; t++) {
    const x = laneX(t);
    svg.push(`<g class="lane" data-task="${esc(tl.tasks[t]!)}">`);
    svg.push(`<rect x="${x}" y="0" width="${LANE_W}" height="${height}" class="${t % 2 ? 'bg1' : 'bg0'}"/>`);
    svg.push(`<text x="${x + 10}" y="28" class="head">${esc(tl.tasks[t]!)}</text>`);
    for (const s of tl.spans) {
      if (s.task !== t) continue;
      const y = rowY(s.from);
      const h = (s.to - s.from + 1) * ROW_H;
      const tip = `<title>${esc(`${s.kind}: ${s.label}`)}</title>`;
      if (s.kind === 'syscall') svg.push(`<rect x="${x + 22}" y="${y}" width="${LANE_W - 28}" height="${h}" class="call">${tip}</rect>`);
      else if (s.kind === 'run') svg.push(`<rect x="${x + 4}" y="${y}" width="5" height="${h}" class="run">${tip}</rect>`);
      else if (s.kind === 'lock') svg.push(`<rect x="${x + 12 + Math.min(s.depth, 2) * 3}" y="${y}" width="2.5" height="${h}" class="held">${tip}</rect>`);
      else svg.push(`<line x1="${x + 7}" y1="${y}" x2="${x + 7}" y2="${y + h}" class="asleep">${tip}</line>`);
    }
    tl.rows.forEach((row, i) => {
      if (row.task !== t || row.kind === 'report') return;
      const y = rowY(i) + 13;
      const tip = `<title>${esc(`${row.kind} · step ${row.step} · ${formatNs(row.timeNs)}\n${row.text}`)}</title>`;
      svg.push(`<text x="${x + 26}" y="${y}" class="ev" fill="${COLOR[row.kind]}">${esc(clip(GLYPH[row.kind] + row.text, 38))}${tip}</text>`);
    });
    svg.push(`</g>`);
  }
  // Wake-ups: an arrow from the waker's lane to the woken task's.
  svg.push(`<g class="wakes">`);
  tl.rows.forEach((row, i) => {
    if (row.kind !== 'wake' || row.from === undefined || row.from < 0 || row.from === row.task) return;
    const y = rowY(i) + 9;
    const x1 = laneX(row.from) + LANE_W / 2;
    const x2 = laneX(row.task) + 22;
    svg.push(`<line x1="${x1}" y1="${y}" x2="${x2}" y2="${y}" class="wake"/>`);
    svg.push(`<circle cx="${x2}" cy="${y}" r="3" class="wakehead"/>`);
  });
  svg.push(`</g>`);
  // Events outside any task (I/O completions): across the lanes, quietly.
  tl.rows.forEach((row, i) => {
    if (row.task >= 0 || row.kind === 'report' || row.kind === 'phase') return;
    svg.push(`<text x="${GUTTER + 26}" y="${rowY(i) + 13}" class="notask" fill="${COLOR[row.kind]}">${esc(`(no task) ${GLYPH[row.kind]}${row.text}`)}</text>`);
  });
  // Phase changes and the detector.
  tl.rows.forEach((row, i) => {
    if (row.kind !== 'report' && row.kind !== 'phase') return;
    const y = rowY(i);
    const cls = row.kind === 'report' ? 'report' : 'phase';
    const who = row.task >= 0 ? ` (${tl.tasks[row.task]})` : '';
    svg.push(`<g class="${cls}"><rect x="${GUTTER}" y="${y}" width="${width - GUTTER - 10}" height="${ROW_H}"/>`);
    svg.push(`<line x1="${GUTTER}" y1="${y + ROW_H}" x2="${width - 10}" y2="${y + ROW_H}"/>`);
    svg.push(`<text x="${GUTTER + 8}" y="${y + 13}">${esc((row.kind === 'report' ? 'detector fired: ' : '') + row.text + who)}</text></g>`);
  });
  svg.push(`</svg>`);

  const title = tl.title ?? 'no report';
  const h = p.header;
  const legend = (['syscall', 'fault', 'acquire', 'contend', 'release', 'wait', 'wake', 'fuse', 'io', 'report'] as RowKind[])
    .map((k) => `<span class="key"><span class="sw" style="background:${COLOR[k]}"></span>${k === 'io' ? 'block I/O' : k === 'fuse' ? 'FUSE' : k}</span>`)
    .join(' ');
  const details = r.reports.map((x) => `[${x.kind}] ${x.title}\n${x.details}`).join('\n\n') || 'no report';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<title>${esc(`faultline: ${title}`)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #1d1d1d; background: #fafafa; }
h1 { font-size: 18px; margin: 0 0 4px; }
h2 { font-size: 15px; margin: 20px 0 6px; }
.meta { color: #555; margin: 0 0 10px; }
.key { margin-right: 12px; white-space: nowrap; }
.sw { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; vertical-align: middle; }
.scroll { overflow: auto; border: 1px solid #ccc; background: #fff; max-height: 80vh; }
pre { background: #fff; border: 1px solid #ddd; padding: 8px; overflow: auto; font-size: 12px; }
svg text { font: 11px ui-monospace, SFMono-Regular, Menlo, monospace; }
svg .head { font-weight: bold; font-size: 12px; }
svg .gut { fill: #777; }
svg .notask { font-style: italic; }
svg .bg0 { fill: #ffffff; }
svg .bg1 { fill: #f4f6fa; }
svg .call { fill: #e3ecfa; }
svg .run { fill: #37474f; }
svg .held { fill: #43a047; }
svg .asleep { stroke: #8e24aa; stroke-width: 2; stroke-dasharray: 3 2; }
svg .wake { stroke: #00838f; stroke-width: 1; stroke-dasharray: 2 2; }
svg .wakehead { fill: #00838f; }
svg .report rect { fill: #ffebee; }
svg .report line { stroke: #d50000; stroke-width: 2; }
svg .report text { fill: #d50000; font-weight: bold; }
svg .phase rect { fill: #f0f0f0; }
svg .phase line { stroke: #999; stroke-dasharray: 6 3; }
svg .phase text { fill: #777; }
</style>
</head>
<body>
<h1>${esc(opts.heading ?? title)}</h1>
<p class="meta">profile ${esc(h.profile)} · seed ${esc(h.seed)} · strategy ${esc(h.strategy)} · ${tl.steps} steps · ${esc(formatNs(tl.virtualNs))} virtual · trace ${esc(r.traceHash)}${tl.omitted > 0 ? ` · ${tl.omitted} earlier events not shown` : ''}</p>
<p class="meta">One lane per task, time flowing down. Dark bar: on the CPU; blue block: inside a call; green bar: a lock held; dashed purple: asleep; dotted arrow: a wake-up, from the waker; red line: the detector fired.</p>
<p>${legend}</p>
<div class="scroll">
${svg.join('\n')}
</div>
<h2>Reproducer</h2>
<pre>${esc(formatProgram(p))}</pre>
<h2>Report</h2>
<pre>${esc(details)}</pre>
</body>
</html>
`;
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}
