// Totals: corpus size, signal, executions, syscalls, virtual time.

import { Text } from 'ink';
import { compact, formatNs } from '../format.js';
import type { LiveStats } from '../types.js';
import { Panel } from './Panel.js';

export function CorpusPanel({ stats }: { stats: LiveStats }) {
  return (
    <Panel title="corpus" width={26}>
      <Text>corpus   <Text bold>{compact(stats.corpus)}</Text></Text>
      <Text>signal   <Text bold>{compact(stats.signal)}</Text></Text>
      <Text>execs    {compact(stats.execs)}</Text>
      <Text>syscalls {compact(stats.calls)}</Text>
      <Text>virtual  {formatNs(stats.virtualNs)}</Text>
    </Panel>
  );
}
