// A fuzzing worker thread: runs its own Fuzzer and posts findings at once
// and stats every STATS_EVERY_MS. Stops after the current execution when
// told to.

import { parentPort, workerData } from 'node:worker_threads';
import { Fuzzer, type FuzzConfig } from './fuzzer.js';
import { heapUsedMb, type WorkerMsg, type MainMsg } from './pool.js';
import type { Program } from './program.js';

const STATS_EVERY_MS = 250;
/** How often a paused worker looks for 'resume' or 'stop'. */
const PAUSE_POLL_MS = 50;

const { cfg, index, maxExecs, seeds } = workerData as { cfg: FuzzConfig; index: number; maxExecs: number; seeds: Program[] };
const port = parentPort!;
let stop = false;
let paused = false;
port.on('message', (m: MainMsg) => {
  if (m.type === 'stop') stop = true;
  else paused = m.type === 'pause';
});

const fuzzer = new Fuzzer(cfg, (f) => {
  const msg: WorkerMsg = { type: 'finding', worker: index, report: f.report, program: f.program, traceHash: f.result.traceHash, isNew: f.isNew };
  port.postMessage(msg);
}, (program, signal) => {
  const msg: WorkerMsg = { type: 'corpus', worker: index, program, signal };
  port.postMessage(msg);
});
fuzzer.addSeeds(seeds);

function post(done: boolean): void {
  const s = fuzzer.stats;
  const msg: WorkerMsg = {
    type: done ? 'done' : 'stats',
    worker: index,
    stats: {
      execs: s.execs, calls: s.calls, virtualNs: s.virtualNs, corpus: s.corpus, signal: s.signal, findings: s.findings,
      perSyscall: [...s.perSyscall], pagesInCache: s.pagesInCache, heapUsedMb: heapUsedMb(),
      pgsteal: s.pgsteal, fuseReplies: s.fuseReplies, fuseLatencyNs: s.fuseLatencyNs, fuseQueued: s.fuseQueued, hammerCalls: s.hammerCalls,
    },
  };
  port.postMessage(msg);
}

// Run in slices so 'stop', 'pause' and 'resume' messages are seen between them.
function slice(): void {
  if (paused && !stop) {
    setTimeout(slice, PAUSE_POLL_MS);
    return;
  }
  const until = Date.now() + STATS_EVERY_MS;
  while (!stop && Date.now() < until && fuzzer.stats.execs < maxExecs) fuzzer.step();
  post(false);
  if (stop || fuzzer.stats.execs >= maxExecs) {
    post(true);
    return;
  }
  setImmediate(slice);
}
slice();
