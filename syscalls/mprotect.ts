import { PROT } from './flags.js';
import type { SyscallDesc } from './types.js';

export const mprotect: SyscallDesc = {
  name: 'mprotect',
  args: [{ name: 'addr', type: { t: 'addr' } }, { name: 'len', type: { t: 'len' } }, { name: 'prot', type: { t: 'flags', set: PROT } }],
  creates: null,
  weight: 2,
};
