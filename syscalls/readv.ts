import type { SyscallDesc } from './types.js';

export const readv: SyscallDesc = {
  name: 'readv',
  args: [{ name: 'fd', type: { t: 'fd' } }, { name: 'iov', type: { t: 'iov' } }],
  creates: null,
  weight: 2,
};
