import { MSYNC_FLAGS } from './flags.js';
import type { SyscallDesc } from './types.js';

export const msync: SyscallDesc = {
  name: 'msync',
  args: [{ name: 'addr', type: { t: 'addr' } }, { name: 'len', type: { t: 'len' } }, { name: 'flags', type: { t: 'flags', set: MSYNC_FLAGS } }],
  creates: null,
  weight: 1,
  sanitise(v, chance) {
    if (chance(0.9)) v[2] = v[2]! & 1 && v[2]! & 4 ? v[2]! & ~1 : v[2]!;
  },
};
