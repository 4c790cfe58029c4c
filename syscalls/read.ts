import type { SyscallDesc } from './types.js';

export const read: SyscallDesc = {
  name: 'read',
  args: [{ name: 'fd', type: { t: 'fd' } }, { name: 'buf', type: { t: 'addr' } }, { name: 'count', type: { t: 'len' } }],
  creates: null,
  weight: 3,
};
