// Findings as they arrive, printed once above the live panels with ink's
// <Static>: they stay in the terminal's scrollback after the run.

import { Static, Text } from 'ink';
import { elapsed } from '../format.js';
import type { FindingLogEntry } from '../sampler.js';

export function FindingLog({ entries }: { entries: readonly FindingLogEntry[] }) {
  return (
    <Static items={[...entries]}>
      {(e) => (
        <Text key={e.key}>
          <Text dimColor>{`[${elapsed(e.atMs)}] `}</Text>
          <Text color={e.isNew ? 'red' : 'yellow'} bold>{e.isNew ? 'new finding' : 'finding'}</Text>
          {` [${e.kind}] ${e.title}`}
        </Text>
      )}
    </Static>
  );
}
