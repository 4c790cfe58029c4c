import { MADV } from './flags.js';
import type { SyscallDesc } from './types.js';

export const madvise: SyscallDesc = {
  name: 'madvise',
  args: [{ name: 'addr', type: { t: 'addr' } }, { name: 'len', type: { t: 'len' } }, { name: 'advice', type: { t: 'enum', set: MADV } }],
  creates: null,
  weight: 3,
};
