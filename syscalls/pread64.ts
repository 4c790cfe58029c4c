import type { SyscallDesc } from './types.js';

export const pread64: SyscallDesc = {
  name: 'pread64',
  args: [
    { name: 'fd', type: { t: 'fd' } }, { name: 'buf', type: { t: 'addr' } },
    { name: 'count', type: { t: 'len' } }, { name: 'pos', type: { t: 'off' } },
  ],
  creates: null,
  weight: 3,
};
