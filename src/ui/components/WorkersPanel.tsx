// One line per worker: state, executions and their rate, corpus, signal,
// findings.

import { Box, Text } from 'ink';
import { cell, compact } from '../format.js';
import type { WorkerView } from '../types.js';
import type { RunState } from './Header.js';
import { Panel } from './Panel.js';

export interface WorkersPanelProps {
  workers: readonly WorkerView[];
  execsPerSec: readonly number[];
  state: RunState;
  maxRows: number;
}

function workerState(run: RunState, rate: number): string {
  if (run !== 'running') return run;
  return rate > 0 ? 'running' : 'idle';
}

export function WorkersPanel({ workers, execsPerSec, state, maxRows }: WorkersPanelProps) {
  const shown = workers.slice(0, Math.max(1, maxRows));
  return (
    <Panel title={`workers (${workers.length})`}>
      <Box flexDirection="column">
        {workers.length === 0 ? <Text dimColor>starting…</Text> : null}
        {shown.map((w, i) => {
          const rate = execsPerSec[i] ?? 0;
          const st = workerState(state, rate);
          return (
            <Text key={i} wrap="truncate">
              {cell(`w${i}`, 4)}
              <Text color={st === 'running' ? 'green' : 'yellow'}>{cell(st, 9)}</Text>
              {`execs ${cell(compact(w.execs), 6, 'right')} ${cell(`(${compact(rate)}/s)`, 8)} corpus ${cell(compact(w.corpus), 5, 'right')}  signal ${cell(compact(w.signal), 5, 'right')}  findings ${w.findings}`}
            </Text>
          );
        })}
        {workers.length > shown.length ? <Text dimColor>{`${workers.length - shown.length} more workers`}</Text> : null}
      </Box>
    </Panel>
  );
}
