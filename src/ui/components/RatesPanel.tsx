// Throughput: executions, simulated syscalls and virtual time per wall
// second, with a sparkline of execs/s.

import { Text } from 'ink';
import { compact, formatNs, sparkline } from '../format.js';
import type { Rates } from '../sampler.js';
import { Panel } from './Panel.js';

export function RatesPanel({ rates, history, sparkWidth }: { rates: Rates; history: readonly number[]; sparkWidth: number }) {
  return (
    <Panel title="rates" width={Math.max(sparkWidth, 18) + 4}>
      <Text>execs/s    <Text bold>{compact(rates.execsPerSec)}</Text></Text>
      <Text>syscalls/s <Text bold>{compact(rates.callsPerSec)}</Text></Text>
      <Text>virtual/s  <Text bold>{formatNs(Math.round(rates.virtualNsPerSec))}</Text></Text>
      <Text color="green">{sparkline(history, sparkWidth)}</Text>
    </Panel>
  );
}
