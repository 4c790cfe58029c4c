import type { SyscallDesc } from './types.js';

export const writev: SyscallDesc = {
  name: 'writev',
  args: [{ name: 'fd', type: { t: 'fd' } }, { name: 'iov', type: { t: 'iov' } }],
  creates: null,
  weight: 2,
};
