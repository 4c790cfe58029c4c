// Kernel gauges. A gauge the kernel does not report yet shows "n/a".

import { Text } from 'ink';
import { formatNs, gauge } from '../format.js';
import type { KernelGauges } from '../types.js';
import { Panel } from './Panel.js';

export function KernelPanel({ kernel }: { kernel: KernelGauges | undefined }) {
  const k = kernel ?? {};
  return (
    <Panel title="kernel" flexGrow={1}>
      <Text wrap="truncate">pages in cache  <Text bold>{gauge(k.pagesInCache)}</Text></Text>
      <Text wrap="truncate">pages reclaimed <Text bold>{gauge(k.reclaimEvents)}</Text></Text>
      <Text wrap="truncate">FUSE queue      <Text bold>{gauge(k.fuseQueueDepth)}</Text></Text>
      <Text wrap="truncate">FUSE latency    <Text bold>{gauge(k.fuseLatencyNs, formatNs)}</Text></Text>
    </Panel>
  );
}
