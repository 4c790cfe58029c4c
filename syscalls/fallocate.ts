import { FALLOC_FLAGS } from './flags.js';
import type { SyscallDesc } from './types.js';

export const fallocate: SyscallDesc = {
  name: 'fallocate',
  args: [
    { name: 'fd', type: { t: 'fd' } }, { name: 'mode', type: { t: 'flags', set: FALLOC_FLAGS } },
    { name: 'offset', type: { t: 'off' } }, { name: 'len', type: { t: 'len' } },
  ],
  creates: null,
  weight: 5,
  sanitise(v, chance) {
    // Keep PUNCH_HOLE with KEEP_SIZE most of the time (the only valid form), and favour punches.
    if (chance(0.5)) v[1] = 2;
    if (v[1]! & 2 && chance(0.9)) v[1] = v[1]! | 1;
    if (chance(0.7)) v[1] = v[1]! & 3;
  },
};
