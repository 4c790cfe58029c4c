// The rates, corpus and kernel panels folded into two unframed lines, for
// terminals too short for the panels.

import { Box, Text } from 'ink';
import { compact, formatNs, gauge, sparkline } from '../format.js';
import type { Rates } from '../sampler.js';
import type { LiveStats } from '../types.js';

const SPARK_WIDTH = 12;

export function StatsLine({ stats, rates, history }: { stats: LiveStats; rates: Rates; history: readonly number[] }) {
  const k = stats.kernel ?? {};
  return (
    <Box flexDirection="column" paddingX={1}>
      <Text wrap="truncate">
        execs/s <Text bold>{compact(rates.execsPerSec)}</Text> <Text color="green">{sparkline(history, SPARK_WIDTH)}</Text>
        {'  '}syscalls/s <Text bold>{compact(rates.callsPerSec)}</Text>
        {'  '}virtual/s <Text bold>{formatNs(Math.round(rates.virtualNsPerSec))}</Text>
        {'  '}corpus <Text bold>{compact(stats.corpus)}</Text>
        {'  '}signal <Text bold>{compact(stats.signal)}</Text>
      </Text>
      <Text wrap="truncate" dimColor>
        {`kernel: pages in cache ${gauge(k.pagesInCache)} · reclaimed ${gauge(k.reclaimEvents)} · FUSE queue ${gauge(k.fuseQueueDepth)} · FUSE latency ${gauge(k.fuseLatencyNs, formatNs)}`}
      </Text>
    </Box>
  );
}
