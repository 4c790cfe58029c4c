import { MREMAP_FLAGS } from './flags.js';
import type { SyscallDesc } from './types.js';

export const mremap: SyscallDesc = {
  name: 'mremap',
  args: [
    { name: 'old_addr', type: { t: 'addr' } }, { name: 'old_len', type: { t: 'len' } }, { name: 'new_len', type: { t: 'len' } },
    { name: 'flags', type: { t: 'flags', set: MREMAP_FLAGS } }, { name: 'new_addr', type: { t: 'addr' } },
  ],
  creates: 'mapping',
  weight: 4,
  sanitise(v, chance) {
    if (chance(0.8)) v[3] = v[3]! & 1 ? v[3]! : v[3]! | 1;
    if (chance(0.7)) v[3] = v[3]! & ~6;
  },
};
