import type { SyscallDesc } from './types.js';

export const munmap: SyscallDesc = {
  name: 'munmap',
  args: [{ name: 'addr', type: { t: 'addr' } }, { name: 'len', type: { t: 'len' } }],
  creates: null,
  weight: 3,
};
