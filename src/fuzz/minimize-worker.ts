// The background minimizer's thread (see bgminimize.ts): one job at a
// time, the result or the error posted back to the main thread.

import { parentPort } from 'node:worker_threads';
import { minimize } from './minimize.js';
import type { MinimizeReply, MinimizeRequest } from './bgminimize.js';

const port = parentPort!;
port.on('message', ({ id, job }: MinimizeRequest) => {
  let reply: MinimizeReply;
  try {
    reply = { id, result: minimize(job.program, job.title, { timeLimitMs: job.timeLimitMs }) };
  } catch (e) {
    reply = { id, error: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(reply);
});
