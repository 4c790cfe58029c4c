import type { SyscallDesc } from './types.js';

export const write: SyscallDesc = {
  name: 'write',
  args: [{ name: 'fd', type: { t: 'fd' } }, { name: 'buf', type: { t: 'addr' } }, { name: 'count', type: { t: 'len' } }],
  creates: null,
  weight: 3,
};
