import { MAP_FLAGS, PROT } from './flags.js';
import type { SyscallDesc } from './types.js';

export const mmap: SyscallDesc = {
  name: 'mmap',
  args: [
    { name: 'addr', type: { t: 'addr' } }, { name: 'len', type: { t: 'len' } },
    { name: 'prot', type: { t: 'flags', set: PROT } }, { name: 'flags', type: { t: 'flags', set: MAP_FLAGS } },
    { name: 'fd', type: { t: 'fd' } }, { name: 'offset', type: { t: 'off' } },
  ],
  creates: 'mapping',
  weight: 8,
  sanitise(v, chance) {
    // Mostly a valid mapping type, readable (often writable), and placed by the kernel (MAP_FIXED only sometimes).
    if (chance(0.9)) v[3] = (v[3]! & ~0xf) | (chance(0.7) ? 1 : 2);
    if (chance(0.8)) v[3] = v[3]! & ~0x100010;
    if (chance(0.9)) v[2] = v[2]! | 1;
    // Writable more often than a random bit would be (trinity maps read-write
    // mostly): stores are what dirty pages, COW and refill a punched hole.
    if (chance(0.5)) v[2] = v[2]! | 2;
    if (chance(0.9)) v[3] = v[3]! & ~0x20;
    if (chance(0.8)) v[5] = v[5]! - (v[5]! % 4096);
  },
};
