import { OPEN_FLAGS } from './flags.js';
import type { SyscallDesc } from './types.js';

export const open: SyscallDesc = {
  name: 'open',
  args: [{ name: 'path', type: { t: 'path' } }, { name: 'flags', type: { t: 'flags', set: OPEN_FLAGS } }],
  creates: 'fd',
  weight: 6,
  sanitise(v, chance) {
    // Mostly open for read/write and create (no O_EXCL, no O_DIRECTORY, rarely O_TRUNC), so
    // later calls have a usable fd; the rest keeps its random bits.
    if (chance(0.85)) v[1] = ((v[1]! & ~3 & ~0o200 & ~0o200000) | 2 | 0o100) >>> 0;
    // O_TRUNC rarely: every process opens the shared victims, and a file
    // emptied on each open leaves only SIGBUS to its mappings.
    if (chance(0.8)) v[1] = (v[1]! & ~0o1000) >>> 0;
  },
};
