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
    // MREMAP_FIXED: as trinity's sanitise_mremap, mostly a destination far
    // away at a 1 MiB..1 GiB alignment, not next to a mapping (where the
    // move lands in other page tables than its source's).
    if (v[3]! & 2 && chance(0.8)) {
      const align = chance(0.2) ? 1 << 30 : chance(0.5) ? 2 << 20 : 1 << 20;
      v[4] = align * (1 + (chance(0.5) ? 1 : 0) + (chance(0.5) ? 2 : 0) + (chance(0.5) ? 4 : 0));
    }
  },
};
