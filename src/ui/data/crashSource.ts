// The crash browser's data source over a Store: rows become the UI's plain
// shapes, replay runs the executor on the smallest reproducer with its
// recorded schedule, and minimize runs src/fuzz/minimize.ts and stores a
// smaller reproducer (as `faultline minimize` does).

import { EV_NAMES, Ev } from '../../sim/index.js';
import { execute } from '../../fuzz/execute.js';
import { formatProgram, parseProgram } from '../../fuzz/format.js';
import { minimize as fuzzMinimize } from '../../fuzz/minimize.js';
import type { Program } from '../../fuzz/program.js';
import type { Store } from '../../store/index.js';
import type { CrashDetailData, CrashListItem, CrashSource, MinimizeOutcome, ReplayOutcome, TraceRow } from '../types.js';

/** Events a replay keeps for the lanes view. */
export const TRACE_LIMIT = 20_000;

export interface CrashSourceOptions {
  faultlineVersion: string;
  traceLimit?: number;
  now?: () => number;
  /** The minimizer (tests pass a fake, or null for none); default src/fuzz/minimize.ts. */
  loadMinimizer?: () => Promise<Minimizer | null>;
}

/** What src/fuzz/minimize.ts returns (the fields used here). */
export interface MinimizedRepro {
  program: Program;
  /** The input reproduced the title; if not, nothing was done. */
  reproduced: boolean;
  before: number;
  after: number;
  traceHash: string;
  verifiedReplays: number;
  timedOut: boolean;
}

/** src/fuzz/minimize.ts's minimize: shrink `program` while its first report keeps `title`. */
export type Minimizer = (program: Program, title: string) => MinimizedRepro;

export const NOT_AVAILABLE = 'minimization: not available yet';

const defaultMinimizer = async (): Promise<Minimizer> => fuzzMinimize;

export function storeCrashSource(store: Store, o: CrashSourceOptions): CrashSource {
  const now = o.now ?? Date.now;
  const traceLimit = o.traceLimit ?? TRACE_LIMIT;
  const loadMinimizer = o.loadMinimizer ?? defaultMinimizer;

  const smallest = (id: number) => store.reproducers(id)[0] ?? null;

  return {
    name: store.path,
    list(): CrashListItem[] {
      return store.listCrashes().map((c) => ({
        id: c.id, kind: c.kind, title: c.title, count: c.count, lastSeen: c.lastSeen, reproducers: c.reproducers, minCalls: c.minCalls,
        minimized: store.reproducers(c.id).some((r) => r.minimized),
      }));
    },
    detail(id: number): CrashDetailData | null {
      const c = store.getCrash(id);
      if (!c) return null;
      const r = smallest(id);
      return {
        id: c.id, kind: c.kind, title: c.title, count: c.count, firstSeen: c.firstSeen, lastSeen: c.lastSeen, details: c.details,
        repro: r && {
          id: r.id, program: r.program, calls: r.calls, traceHash: r.traceHash, minimized: r.minimized,
          sizeBefore: r.sizeBefore, sizeAfter: r.sizeAfter, verifiedReplays: r.verifiedReplays,
        },
      };
    },
    replay(id: number): ReplayOutcome | null {
      const c = store.getCrash(id);
      const r = smallest(id);
      if (!c || !r) return null;
      // A long run keeps its first events and its latest: the report is the last one.
      const res = execute(parseProgram(r.program, `finding #${id}`), { replay: true, traceLimit, traceTail: true });
      const title = res.reports[0]?.title ?? null;
      // The same test as `faultline replay`: no divergence, same title, same trace hash.
      const reproduced = res.divergence === null && title === c.title && res.traceHash === r.traceHash;
      if (reproduced) store.markVerified(r.id, r.verifiedReplays + 1);
      const rows: TraceRow[] = res.events.map((e) => ({
        step: e.step, timeNs: e.timeNs, task: e.task,
        label: `${EV_NAMES[e.kind] ?? e.kind}${e.name ? ` ${e.name}` : ''}${e.arg ? ` (${e.arg})` : ''}`,
        isReport: e.kind === Ev.Report,
      }));
      return {
        reproduced, title, expectTitle: c.title, traceHash: res.traceHash, expectHash: r.traceHash, divergence: res.divergence,
        steps: res.steps, virtualNs: res.virtualNs,
        trace: { rows, taskNames: res.taskNames, truncated: res.eventsGap.count > 0, gap: res.eventsGap },
      };
    },
    async minimize(id: number): Promise<MinimizeOutcome> {
      const c = store.getCrash(id);
      const r = smallest(id);
      if (!c || !r) return { available: false, message: 'minimization: no reproducer stored' };
      const minimize = await loadMinimizer();
      if (!minimize) return { available: false, message: NOT_AVAILABLE };
      const m = minimize(parseProgram(r.program, `finding #${id}`), c.title);
      if (!m.reproduced) return { available: true, before: m.before, after: m.after, reproduced: false, message: 'minimization: the reproducer no longer reproduces; nothing done' };
      let stored = '';
      if (m.after < m.before) {
        const reproId = store.addMinimized(c.id, r.id, {
          program: formatProgram(m.program), profile: m.program.header.profile, seed: m.program.header.seed, strategy: m.program.header.strategy,
          schedule: m.program.header.schedule ?? null, traceHash: m.traceHash, calls: m.after, faultlineVersion: o.faultlineVersion,
        }, m.before, m.after, now());
        if (m.verifiedReplays > 0) store.markVerified(reproId, m.verifiedReplays);
        stored = `, stored as reproducer #${reproId}`;
      } else stored = ', no smaller program found';
      const cut = m.timedOut ? ', time limit reached' : '';
      return { available: true, before: m.before, after: m.after, reproduced: true, message: `minimization: ${m.before} -> ${m.after} calls${stored}${cut}` };
    },
  };
}
