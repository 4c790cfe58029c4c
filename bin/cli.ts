// faultline's command line (commander). Parses, wires the store to the
// fuzzer, prints. Exit codes: 0 ok, 1 a finding or a failure, 2 a usage error.

import { readFileSync, readdirSync, writeFileSync, mkdirSync, existsSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runDemo } from '../src/fuzz/demo.js';
import { formatNs, EV_NAMES } from '../src/sim/index.js';
import { formatResult } from '../src/kernel/errno.js';
import { PROFILES, resolveProfile, ProfileError } from '../src/kernel/profiles/index.js';
import { SYSCALL_DESCS } from '../syscalls/index.js';
import { DEFAULT_FUZZ_CONFIG, type FuzzConfig } from '../src/fuzz/fuzzer.js';
import { Session, type SessionStats } from '../src/fuzz/session.js';
import { execute, OptionError, type ExecResult } from '../src/fuzz/execute.js';
import { FuseOptionError, parseFlag, parseFuseErrorRate, parseFuseLatency, parseFuseStall } from '../src/kernel/fs/fuse/index.js';
import { formatProgram, parseProgram, ParseError } from '../src/fuzz/format.js';
import { callCount, type Program } from '../src/fuzz/program.js';
import { minimize, type MinimizeResult } from '../src/fuzz/minimize.js';
import { BackgroundMinimizer, type MinimizeJob } from '../src/fuzz/bgminimize.js';
import { coverItems, minimizeCorpus } from '../src/fuzz/corpus-min.js';
import { buildTimeline, formatLanes, timelineHtml, traceRun } from '../src/fuzz/timeline.js';
import { openStore, DEFAULT_DB_PATH, type Store } from '../src/store/index.js';
import { sessionControl } from '../src/ui/data/sessionControl.js';
import { storeCrashSource } from '../src/ui/data/crashSource.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

class UsageError extends Error {}

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** "60s", "5m", "1500ms", "2h" -> milliseconds. */
function duration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`duration '${v}' must look like 60s, 5m, 1500ms or 2h`);
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * mult;
}

function strategyArg(v: string): string {
  if (!/^(random|mixed|pct(:[1-9]\d*(:[1-9]\d*)?)?)$/.test(v)) throw new InvalidArgumentError(`strategy must be random, pct, pct:D, pct:D:K or mixed`);
  return v;
}

function checkProfile(p: string): string {
  try {
    resolveProfile(p);
  } catch (e) {
    if (e instanceof ProfileError) throw new InvalidArgumentError(e.message);
    throw e;
  }
  return p;
}

/** A FUSE option value checked by the kernel's own parser: a bad one is a usage error. */
function fuseArg(parse: (v: string) => unknown) {
  return (v: string): string => {
    try {
      parse(v);
    } catch (e) {
      if (e instanceof FuseOptionError) throw new InvalidArgumentError(e.message);
      throw e;
    }
    return v;
  };
}

interface FuseFlags {
  fuseLatency?: string;
  fuseStall?: string;
  fuseErrorRate?: string;
  /** `true` when given without a value. */
  fuseWritebackCache?: string | boolean;
}

/** The virtiofs daemon options given on the command line, as program header options. */
function fuseOptionsOf(o: FuseFlags): Record<string, string> {
  const out: Record<string, string> = {};
  if (o.fuseLatency !== undefined) out.fuseLatency = o.fuseLatency;
  if (o.fuseStall !== undefined) out.fuseStall = o.fuseStall;
  if (o.fuseErrorRate !== undefined) out.fuseErrorRate = o.fuseErrorRate;
  const wb = o.fuseWritebackCache;
  if (wb !== undefined) out.fuseWritebackCache = wb === true || (typeof wb === 'string' && parseFlag(wb, 'writeback cache')) ? '1' : '0';
  return out;
}

function addFuseOptions(c: Command): Command {
  return c
    .option('--fuse-latency <model>', 'virtiofs daemon latency per request: fixed:2ms, uniform:1ms-5ms or exp:2ms', fuseArg(parseFuseLatency))
    .option('--fuse-stall <rules>', 'daemon stalls: 30s@every:5s (after every 5 s of service), 30s@once:1s; comma separated', fuseArg(parseFuseStall))
    .option('--fuse-error-rate <p>', 'probability that a FUSE request fails with EIO', fuseArg(parseFuseErrorRate))
    .option('--fuse-writeback-cache [on|off]', 'FUSE writeback cache instead of write-through', fuseArg((v) => parseFlag(v, 'writeback cache')));
}

/** The ink views need a terminal on both sides; pipes, CI logs and --json never get escape codes. */
function wantsTui(o: { tui?: boolean; json?: boolean }): boolean {
  return process.stdout.isTTY === true && process.stdin.isTTY === true && o.tui !== false && !o.json;
}

function openDb(path: string): Store {
  return openStore(path);
}

function readProgram(file: string): Program {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  return parseProgram(text, file);
}

function printResults(p: Program, r: ExecResult): void {
  for (const c of r.results) {
    console.log(`  proc ${c.proc} thread ${c.thread} #${c.index} ${c.name} = ${c.ret === null ? '(not run)' : formatResult(c.ret)}`);
  }
  console.log(`outcome ${r.outcome}; ${r.steps} steps, ${formatNs(r.virtualNs)} virtual, trace ${r.traceHash}; ${callCount(p)} calls in the program`);
  const vm = Object.entries(r.vmstat ?? {});
  if (vm.length > 0) console.log(`vmstat: ${vm.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const rep of r.reports) {
    console.log(`\n[${rep.kind}] ${rep.title}\n${rep.details}`);
  }
}

function printTrace(r: ExecResult): void {
  console.log('\ntrace (step, virtual time, task, event):');
  const gap = r.eventsGap;
  for (let i = 0; i < r.events.length; i++) {
    if (i === gap.at && gap.count > 0) console.log(`  … ${gap.count} events not kept …`);
    const e = r.events[i]!;
    const task = e.task >= 0 ? r.taskNames[e.task] ?? `task${e.task}` : '-';
    console.log(`  ${String(e.step).padStart(7)} ${formatNs(e.timeNs).padStart(12)} ${task.padEnd(14)} ${EV_NAMES[e.kind] ?? e.kind} ${e.name}${e.arg ? ` (${e.arg})` : ''}`);
  }
  if (gap.count > 0 && gap.at >= r.events.length) console.log(`  … ${gap.count} more events not kept`);
}

const program = new Command();
program
  .name('faultline')
  .description('A Trinity-style system-call fuzzer against a deterministic simulated Linux kernel')
  .version(pkg.version, '-v, --version')
  .showHelpAfterError()
  .exitOverride();

// ------------------------------------------------------------------ fuzz

addFuseOptions(program
  .command('fuzz')
  .description('fuzz the simulated kernel; findings and reproducers go to the database')
  .option('--profile <name>', 'kernel profile (see `faultline profiles`), with +switch=value overrides', checkProfile, 'default')
  .option('-C, --procs <n>', 'processes per program', positiveInt('--procs'), DEFAULT_FUZZ_CONFIG.procs)
  .option('--threads <n>', 'threads per process', positiveInt('--threads'), DEFAULT_FUZZ_CONFIG.threads)
  .option('-N, --calls <n>', 'calls per thread in generated programs', positiveInt('--calls'), DEFAULT_FUZZ_CONFIG.calls)
  .option('--workers <n>', 'parallel simulations (worker threads)', positiveInt('--workers'), 1)
  .option('-s, --seed <seed>', 'fuzzer seed (default: chosen from the clock and printed)')
  .option('--strategy <name>', 'random, pct, pct:D (depth), pct:D:K (over K steps), or mixed (alternate)', strategyArg, 'mixed')
  .option('--duration <time>', 'stop after this long (60s, 5m)', duration)
  .option('--execs <n>', 'stop after this many program executions', positiveInt('--execs'))
  .option('--stop-on-first', 'stop at the first finding')
  .option('--no-minimize', 'do not minimize new findings (each is minimized in the background as it is found)')
  .option('-c, --syscall <name>', 'fuzz only this call (repeatable)', collect, [])
  .option('-x, --exclude <name>', 'never generate this call (repeatable)', collect, [])
  .option('-V, --victims <path>', 'a shared file to attack (repeatable)', collect, [])
  .option('--db <file>', 'SQLite database', DEFAULT_DB_PATH)
  .option('--no-tui', 'plain progress lines even on a terminal')
  .option('--json', 'machine-readable output only'))
  .action(async (o: {
    profile: string; procs: number; threads: number; calls: number; workers: number; seed?: string; strategy: string;
    duration?: number; execs?: number; stopOnFirst?: boolean; syscall: string[]; exclude: string[]; victims: string[];
    db: string; json?: boolean; tui?: boolean; minimize?: boolean;
  } & FuseFlags) => {
    const tui = wantsTui(o);
    const known = new Set(SYSCALL_DESCS.map((d) => d.name));
    for (const n of [...o.syscall, ...o.exclude]) if (!known.has(n)) throw new UsageError(`unknown syscall '${n}' (known: ${[...known].join(', ')})`);
    const enabled = (o.syscall.length ? o.syscall : [...known]).filter((n) => !o.exclude.includes(n));
    if (enabled.length === 0) throw new UsageError('every syscall is excluded');
    const seed = o.seed ?? String(Date.now() % 1_000_000_007);
    const cfg: FuzzConfig = {
      ...DEFAULT_FUZZ_CONFIG,
      profile: o.profile, seed, strategy: o.strategy, procs: o.procs, threads: o.threads, calls: o.calls,
      victims: o.victims.length ? o.victims : DEFAULT_FUZZ_CONFIG.victims, enabled,
      pinned: { ...DEFAULT_FUZZ_CONFIG.pinned, ...fuseOptionsOf(o) },
    };
    // Loaded only for a terminal: ink takes most of a second to import.
    const liveView = tui ? (await import('../src/ui/run.js')).startLiveView : null;
    const store = openDb(o.db);
    // Start from the stored corpus (programs that no longer parse are skipped).
    const seeds: Program[] = [];
    for (const row of store.corpus()) {
      try {
        const p = parseProgram(row.program, `corpus #${row.id}`);
        seeds.push({ ...p, header: { ...p.header, profile: o.profile } });
      } catch {
        /* a program from an older format: skip it */
      }
    }
    const crashIds = new Map<string, number>();
    // Automatic minimization: each new finding's reproducer, in a thread of
    // its own while fuzzing goes on; the main thread stores each result as a
    // minimized reproducer of the same crash as it comes back.
    const minimized: { crash: number; title: string; before: number; after: number; ms: number; reproId: number | null; error?: string }[] = [];
    const bg = o.minimize === false ? null : new BackgroundMinimizer<MinimizeJob & { crashId: number; reproId: number }>((job, out) => {
      if (out.error !== undefined) {
        minimized.push({ crash: job.crashId, title: job.title, before: callCount(job.program), after: callCount(job.program), ms: 0, reproId: null, error: out.error });
        if (!o.json && !tui) console.log(`minimize finding #${job.crashId} failed: ${out.error}`);
        return;
      }
      const m = storeMinimized(store, job.crashId, job.reproId, out.result);
      minimized.push({ crash: job.crashId, title: job.title, before: m.before, after: m.after, ms: Math.round(m.ms), reproId: m.reproId });
      if (!o.json && !tui) console.log(minimizeLine(job.crashId, m));
    });
    const runId = store.beginRun({ startedAt: Date.now(), options: { ...cfg, enabled: undefined }, profile: o.profile, seed, strategy: o.strategy, workers: o.workers });
    const session = new Session(cfg, {
      workers: o.workers,
      maxExecs: o.execs ?? Number.POSITIVE_INFINITY,
      durationMs: o.duration ?? Number.POSITIVE_INFINITY,
      stopOnFirst: o.stopOnFirst ?? false,
      seeds,
    }, {
      addCorpus(prog, signal) {
        const text = formatProgram(prog);
        store.addCorpus(createHash('sha256').update(text).digest('hex'), text, callCount(prog), signal, Date.now());
      },
      record(report, prog, traceHash) {
        const text = formatProgram(prog);
        const r = store.recordCrash({
          title: report.title, kind: report.kind, details: report.details, now: Date.now(),
          repro: { program: text, profile: prog.header.profile, seed: prog.header.seed, strategy: prog.header.strategy, schedule: prog.header.schedule ?? null, traceHash, calls: callCount(prog), faultlineVersion: pkg.version },
        });
        crashIds.set(report.title, r.crashId);
        if (r.isNew && !o.json && !tui) console.log(`new finding #${r.crashId}: [${report.kind}] ${report.title}`);
        if (r.isNew && r.reproId !== null) bg?.submit({ crashId: r.crashId, reproId: r.reproId, title: report.title, program: prog });
        return { isNew: r.isNew };
      },
    });
    let interrupts = 0;
    const onSigint = (): void => {
      if (++interrupts > 1) {
        // Quit at once: minimizations still running are dropped; the run is closed and the store stays consistent.
        const st = session.stats();
        store.endRun(runId, { endedAt: Date.now(), execs: st.execs, calls: st.calls, virtualNs: st.virtualNs, findings: st.findings.length });
        store.close();
        process.exit(130);
      }
      if (!o.json && !tui) console.log('\nstopping (Ctrl-C again to quit at once)...');
      session.stop();
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    if (!o.json && !tui) console.log(`faultline fuzz: profile ${o.profile}, seed ${seed}, strategy ${o.strategy}, ${o.workers} worker${o.workers > 1 ? 's' : ''}, database ${o.db}`);
    const progress = o.json || tui ? null : setInterval(() => console.log(progressLine(session.stats())), 2000);
    // The live view: q goes through onSigint (stop, then quit at once on a second press).
    const control = tui ? sessionControl(session, store, { crashIds, faultlineVersion: pkg.version, quit: onSigint }) : null;
    const ui = control && liveView ? liveView({ profile: o.profile, seed, strategy: o.strategy, workers: o.workers, db: o.db }, control) : null;
    const s = await session.run();
    if (progress) clearInterval(progress);
    // Minimizations still queued or running finish before the store closes (Ctrl-C again quits at once).
    if (bg) {
      // Fuzzing is over: the next Ctrl-C quits at once.
      interrupts = Math.max(interrupts, 1);
      if (bg.pending > 0 && !o.json && !tui) console.log(`finishing ${bg.pending} minimization${bg.pending > 1 ? 's' : ''} (Ctrl-C to quit at once)...`);
      await bg.drain();
      await bg.close();
    }
    const finalView = control?.sample(); // before close: it reads minimized? from the store
    store.addCoverage([], runId);
    store.endRun(runId, { endedAt: Date.now(), execs: s.execs, calls: s.calls, virtualNs: s.virtualNs, findings: s.findings.length });
    store.close();
    if (ui && finalView) await ui.finish(finalView);
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    if (o.json) console.log(JSON.stringify({ ...summaryJson(seed, o.profile, s), minimized }));
    else printSummary(seed, s);
    process.exitCode = s.findings.length > 0 ? 1 : 0;
  });

function progressLine(s: SessionStats): string {
  const sec = Math.max(0.001, s.wallMs / 1000);
  return `${(s.wallMs / 1000).toFixed(0).padStart(5)}s  execs ${s.execs} (${Math.round(s.execs / sec)}/s)  calls ${s.calls} (${Math.round(s.calls / sec)}/s)  virtual ${formatNs(s.virtualNs)}  corpus ${s.corpus}  signal ${s.signal}  findings ${s.findings.length}`;
}

function summaryJson(seed: string, profile: string, s: SessionStats): object {
  return {
    seed, profile, execs: s.execs, calls: s.calls, virtualNs: s.virtualNs, wallMs: s.wallMs, corpus: s.corpus, signal: s.signal,
    findings: s.findings,
    perSyscall: Object.fromEntries([...s.perSyscall].sort(([a], [b]) => a.localeCompare(b))),
  };
}

function printSummary(seed: string, s: SessionStats): void {
  console.log(`\nsummary: ${progressLine(s).trim()}`);
  console.log('syscall        count   errors');
  for (const [name, st] of [...s.perSyscall].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`  ${name.padEnd(12)} ${String(st.count).padStart(7)} ${String(st.errors).padStart(8)}`);
  }
  if (s.findings.length === 0) console.log('no findings');
  for (const f of s.findings) console.log(`finding: [${f.kind}] ${f.title} (x${f.count})${f.isNew ? ' new' : ''}`);
  console.log(`seed ${seed}: rerun with --seed ${seed}; see findings with \`faultline crashes\``);
}

// ------------------------------------------------------------------ run

addFuseOptions(program
  .command('run <file>')
  .description('run one program and print per-call results and reports')
  .option('--profile <name>', 'override the program header profile', checkProfile)
  .option('-s, --seed <seed>', 'override the header seed')
  .option('--strategy <name>', 'override the header strategy', strategyArg)
  .option('--trace', 'print the event trace')
  .option('--json', 'machine-readable output only'))
  .action((file: string, o: { profile?: string; seed?: string; strategy?: string; trace?: boolean; json?: boolean } & FuseFlags) => {
    const p0 = readProgram(file);
    const fuse = fuseOptionsOf(o);
    const p: Program = {
      ...p0,
      header: {
        ...p0.header, ...(o.profile ? { profile: o.profile } : {}), ...(o.seed ? { seed: o.seed } : {}), ...(o.strategy ? { strategy: o.strategy } : {}),
        options: { ...p0.header.options, ...fuse },
      },
    };
    // A recorded schedule replays only the environment it was recorded in.
    const r = execute(p, { traceLimit: o.trace ? 100_000 : 0, traceTail: true, replay: !o.seed && !o.strategy && !o.profile && Object.keys(fuse).length === 0 });
    if (o.json) console.log(JSON.stringify({ outcome: r.outcome, results: r.results, reports: r.reports.map(({ kind, title }) => ({ kind, title })), traceHash: r.traceHash, steps: r.steps, virtualNs: r.virtualNs, divergence: r.divergence, vmstat: r.vmstat }));
    else {
      printResults(p, r);
      if (o.trace) printTrace(r);
    }
    process.exitCode = r.reports.length > 0 || r.outcome === 'diverged' ? 1 : 0;
  });

// ------------------------------------------------------------------ replay

program
  .command('replay <id-or-file>')
  .description('rerun a stored finding (crash id) or a saved reproducer file; check the title and trace hash')
  .option('--db <file>', 'SQLite database', DEFAULT_DB_PATH)
  .option('--trace', 'print the failing interleaving: one column per task, in time order')
  .option('--timeline <file>', 'write the interleaving as a self-contained HTML page (swimlanes in SVG)')
  .option('--json', 'machine-readable output only')
  .action((what: string, o: { db: string; trace?: boolean; timeline?: string; json?: boolean }) => {
    let p: Program;
    let expectTitle: string | null = null;
    let expectHash: string | null = null;
    if (/^\d+$/.test(what) && !existsSync(what)) {
      const store = openDb(o.db);
      const crash = store.getCrash(Number(what));
      const repro = crash ? store.reproducers(crash.id)[0] : undefined;
      store.close();
      if (!crash || !repro) throw new UsageError(`no finding #${what} with a reproducer in ${o.db}`);
      p = parseProgram(repro.program, `finding #${what}`);
      expectTitle = crash.title;
      expectHash = repro.traceHash;
    } else p = readProgram(what);
    const r = o.trace || o.timeline ? traceRun(p) : execute(p, { replay: true });
    if (o.timeline) writeFileSync(o.timeline, timelineHtml(buildTimeline(p, r), p, r));
    const title = r.reports[0]?.title ?? null;
    const ok = r.divergence === null && (expectTitle === null || title === expectTitle) && (expectHash === null || r.traceHash === expectHash);
    if (o.json) console.log(JSON.stringify({ reproduced: ok, title, expectTitle, traceHash: r.traceHash, expectHash, divergence: r.divergence, ...(o.timeline ? { timeline: o.timeline } : {}) }));
    else {
      printResults(p, r);
      if (o.trace) {
        const tl = buildTimeline(p, r, { maxRows: 100_000 });
        const cols = process.stdout.columns;
        console.log(`\n${formatLanes(tl, { width: cols ? Math.max(24, Math.floor((cols - 23) / Math.max(1, tl.tasks.length)) - 3) : 44 })}`);
      }
      if (o.timeline) console.log(`\ntimeline written to ${o.timeline}`);
      if (r.divergence) console.log(`\nreplay diverged: ${r.divergence} (the recorded schedule no longer fits this faultline version)`);
      if (expectTitle !== null) console.log(ok ? `\nreproduced: same title and trace hash ${r.traceHash}` : `\nNOT reproduced: expected "${expectTitle}" / ${expectHash}, got "${title}" / ${r.traceHash}`);
    }
    process.exitCode = ok ? 0 : 1;
  });

// ------------------------------------------------------------------ minimize

/** Minimize a stored reproducer; store the result as a minimized reproducer of the same crash if it is smaller. */
function minimizeStored(store: Store, crashId: number, reproId: number, prog: Program, title: string, timeLimitMs?: number): MinimizeResult & { reproId: number | null } {
  return storeMinimized(store, crashId, reproId, minimize(prog, title, { timeLimitMs }));
}

/** Store a minimization of reproducer `reproId` as a minimized reproducer of the same crash, if it reproduced and is smaller. */
function storeMinimized(store: Store, crashId: number, reproId: number, m: MinimizeResult): MinimizeResult & { reproId: number | null } {
  if (!m.reproduced || m.after >= m.before) return { ...m, reproId: null };
  const h = m.program.header;
  const id = store.addMinimized(crashId, reproId, {
    program: formatProgram(m.program), profile: h.profile, seed: h.seed, strategy: h.strategy, schedule: h.schedule ?? null,
    traceHash: m.traceHash, calls: m.after, faultlineVersion: pkg.version,
  }, m.before, m.after, Date.now());
  if (m.verifiedReplays > 0) store.markVerified(id, m.verifiedReplays);
  return { ...m, reproId: id };
}

function minimizeLine(crashId: number | null, m: MinimizeResult & { reproId?: number | null }): string {
  const what = crashId === null ? `"${m.title}"` : `finding #${crashId}`;
  if (!m.reproduced) return `minimize ${what}: the reproducer does not reproduce "${m.title}"; nothing done`;
  const sched = m.preemptionsAfter >= 0 ? `, schedule ${m.preemptionsBefore >= 0 ? `${m.preemptionsBefore} -> ` : ''}${m.preemptionsAfter} preemptions` : '';
  const stored = m.reproId ? `; stored as reproducer #${m.reproId}` : '';
  return `minimized ${what}: ${m.before} -> ${m.after} calls${sched}, ${m.execs} runs in ${(m.ms / 1000).toFixed(1)} s, ${m.verifiedReplays} identical replays${m.timedOut ? ' (time limit reached)' : ''}${stored}`;
}

program
  .command('minimize <id-or-file>')
  .description('shrink a reproducer while the same title reproduces: processes, threads, calls, arguments, then the schedule')
  .option('--db <file>', 'SQLite database', DEFAULT_DB_PATH)
  .option('--out <file>', 'write the minimized program here (default: print it)')
  .option('--time-limit <time>', 'give up shrinking after this long (10s, 1m)', duration, 10_000)
  .option('--json', 'machine-readable output only')
  .action((what: string, o: { db: string; out?: string; timeLimit: number; json?: boolean }) => {
    let m: MinimizeResult & { reproId?: number | null };
    let crashId: number | null = null;
    if (/^\d+$/.test(what) && !existsSync(what)) {
      const store = openDb(o.db);
      try {
        const crash = store.getCrash(Number(what));
        const repro = crash ? store.reproducers(crash.id)[0] : undefined;
        if (!crash || !repro) throw new UsageError(`no finding #${what} with a reproducer in ${o.db}`);
        crashId = crash.id;
        m = minimizeStored(store, crash.id, repro.id, parseProgram(repro.program, `finding #${what}`), crash.title, o.timeLimit);
      } finally {
        store.close();
      }
    } else {
      const p = readProgram(what);
      const title = execute(p, { replay: true }).reports[0]?.title;
      if (title === undefined) throw new UsageError(`${what} reports nothing: no title to keep`);
      m = minimize(p, title, { timeLimitMs: o.timeLimit });
    }
    const text = formatProgram(m.program);
    if (o.out) writeFileSync(o.out, text);
    if (o.json) {
      console.log(JSON.stringify({
        crash: crashId, title: m.title, reproduced: m.reproduced, before: m.before, after: m.after, bytesBefore: m.bytesBefore, bytesAfter: m.bytesAfter,
        preemptionsBefore: m.preemptionsBefore, preemptionsAfter: m.preemptionsAfter, traceHash: m.traceHash, verifiedReplays: m.verifiedReplays,
        execs: m.execs, ms: Math.round(m.ms), timedOut: m.timedOut, reproId: m.reproId ?? null, out: o.out ?? null, program: text,
      }));
    } else {
      console.log(minimizeLine(crashId, m));
      console.log(o.out ? `written to ${o.out}` : `\n${text}`);
    }
    process.exitCode = m.reproduced ? 0 : 1;
  });

// ------------------------------------------------------------------ crashes, show

program
  .command('crashes')
  .description('list findings in the database (on a terminal: browse, replay and minimize them)')
  .option('--db <file>', 'SQLite database', DEFAULT_DB_PATH)
  .option('--no-tui', 'a plain list even on a terminal')
  .option('--json', 'machine-readable output only')
  .action(async (o: { db: string; json?: boolean; tui?: boolean }) => {
    const store = openDb(o.db);
    if (wantsTui(o)) {
      try {
        const { runCrashBrowser } = await import('../src/ui/run.js');
        await runCrashBrowser(storeCrashSource(store, { faultlineVersion: pkg.version }));
      } finally {
        store.close();
      }
      return;
    }
    const rows = store.listCrashes();
    store.close();
    if (o.json) console.log(JSON.stringify(rows.map(({ details: _d, ...r }) => r)));
    else if (rows.length === 0) console.log('no findings');
    else for (const c of rows) console.log(`#${String(c.id).padEnd(4)} ${c.kind.padEnd(15)} x${String(c.count).padEnd(5)} ${c.title}  (smallest reproducer: ${c.minCalls ?? '-'} calls)`);
  });

program
  .command('show <id>')
  .description('show a finding: title, detector details and its smallest reproducer')
  .option('--db <file>', 'SQLite database', DEFAULT_DB_PATH)
  .option('--json', 'machine-readable output only')
  .action((id: string, o: { db: string; json?: boolean }) => {
    const store = openDb(o.db);
    const crash = /^\d+$/.test(id) ? store.getCrash(Number(id)) : null;
    const repros = crash ? store.reproducers(crash.id) : [];
    store.close();
    if (!crash) throw new UsageError(`no finding #${id} in ${o.db}`);
    if (o.json) console.log(JSON.stringify({ crash, reproducers: repros }));
    else {
      console.log(`#${crash.id} [${crash.kind}] ${crash.title}  (seen ${crash.count} times)\n\n${crash.details}`);
      if (repros[0]) console.log(`\nreproducer #${repros[0].id} (${repros[0].calls} calls, trace ${repros[0].traceHash}):\n\n${repros[0].program}`);
    }
  });

// ------------------------------------------------------------------ profiles, corpus

program
  .command('profiles')
  .description('list kernel profiles with the seed thread or Linux commit each comes from')
  .option('--json', 'machine-readable output only')
  .action((o: { json?: boolean }) => {
    if (o.json) console.log(JSON.stringify(PROFILES));
    else for (const p of PROFILES) {
      const sw = Object.entries(p.switches).map(([k, v]) => `${k}=${v}`).join(' ') || '(all fixed)';
      console.log(`${p.name.padEnd(22)} ${sw}\n${''.padEnd(22)} ${p.description}\n${''.padEnd(22)} from: ${p.source}`);
    }
  });

const corpusCmd = program.command('corpus').description('import, export or minimize corpus programs');
corpusCmd
  .command('import <dir>')
  .description('add every *.prog file of a directory to the corpus')
  .option('--db <file>', 'SQLite database', DEFAULT_DB_PATH)
  .action((dir: string, o: { db: string }) => {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a directory`);
    const files = readdirSync(dir).filter((f) => f.endsWith('.prog')).sort();
    const progs = files.map((f) => ({ f, p: readProgram(join(dir, f)) }));
    const store = openDb(o.db);
    let added = 0;
    for (const { p } of progs) {
      const text = formatProgram(p);
      if (store.addCorpus(createHash('sha256').update(text).digest('hex'), text, callCount(p), [], Date.now())) added++;
    }
    store.close();
    console.log(`imported ${added} of ${files.length} programs from ${dir}`);
  });
corpusCmd
  .command('export <dir>')
  .description('write every corpus program to a directory as <hash>.prog')
  .option('--db <file>', 'SQLite database', DEFAULT_DB_PATH)
  .action((dir: string, o: { db: string }) => {
    const store = openDb(o.db);
    const rows = store.corpus();
    store.close();
    mkdirSync(dir, { recursive: true });
    for (const r of rows) writeFileSync(join(dir, `${r.hash.slice(0, 16)}.prog`), r.program);
    console.log(`exported ${rows.length} programs to ${dir}`);
  });
corpusCmd
  .command('minimize')
  .description('keep the smallest subset of the corpus with the same signal (coverage + interleavings), short programs first')
  .option('--db <file>', 'SQLite database', DEFAULT_DB_PATH)
  .option('--json', 'machine-readable output only')
  .action((o: { db: string; json?: boolean }) => {
    const store = openDb(o.db);
    try {
      const rows = store.corpus();
      const parsed = rows.map((r) => {
        try {
          return parseProgram(r.program, `corpus #${r.id}`);
        } catch {
          return null; // kept as it is: its signal cannot be recomputed
        }
      });
      const items = coverItems(rows.map((r, i) => ({ program: parsed[i]!, text: r.program, recorded: r.signal })));
      const res = minimizeCorpus(items);
      store.replaceCorpus(res.keep.map((i) => ({ hash: rows[i]!.hash, program: rows[i]!.program, calls: rows[i]!.calls, signal: [...(items[i]!.signal ?? rows[i]!.signal)] })), Date.now());
      if (o.json) console.log(JSON.stringify({ before: res.before, after: res.after }));
      else console.log(`corpus: ${res.before.programs} programs, ${res.before.signal} signal -> ${res.after.programs} programs, ${res.after.signal} signal`);
    } finally {
      store.close();
    }
  });

// ------------------------------------------------------------------ demo

program
  .command('demo')
  .description('run a built-in engine simulation (lock ring with lockdep and the deadlock detector)')
  .option('--seeds <n>', 'number of seeds to run', positiveInt('--seeds'), 200)
  .option('--tasks <n>', 'tasks in the ring', positiveInt('--tasks'), 5)
  .addOption(new Option('--strategy <name>', 'scheduler strategy').choices(['random', 'pct']).default('random'))
  .option('--buggy', 'let the last task take its locks in the inverted order')
  .option('--json', 'machine-readable output only')
  .action((o: { seeds: number; tasks: number; strategy: 'random' | 'pct'; buggy?: boolean; json?: boolean }) => {
    const t0 = performance.now();
    const s = runDemo({ seeds: o.seeds, tasks: o.tasks, strategy: o.strategy, buggy: o.buggy ?? false });
    const ms = performance.now() - t0;
    const findings = [...s.byTitle.entries()].map(([title, count]) => ({ title, count }));
    if (o.json) console.log(JSON.stringify({ runs: s.runs, steps: s.steps, virtualNs: s.virtualNs, wallMs: Math.round(ms), findings }));
    else {
      console.log(`faultline demo: ${s.runs} runs, ${o.tasks + 1} tasks each, strategy ${o.strategy}${o.buggy ? ', inverted lock order' : ''}`);
      console.log(`  ${s.steps.toLocaleString('en-US')} scheduling steps in ${ms.toFixed(0)} ms, ${formatNs(s.virtualNs)} of virtual time`);
      if (findings.length === 0) console.log('  no reports');
      for (const f of findings) console.log(`  ${String(f.count).padStart(5)} × ${f.title}`);
      if (s.firstReport) console.log(`\nfirst report (seed ${s.firstSeed}):\n\n${s.firstReport.details}`);
    }
    process.exitCode = findings.length > 0 ? 1 : 0;
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  if (e instanceof ParseError || e instanceof UsageError || e instanceof OptionError) {
    console.error(`faultline: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
