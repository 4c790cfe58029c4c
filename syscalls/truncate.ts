import type { SyscallDesc } from './types.js';

export const truncate: SyscallDesc = {
  name: 'truncate',
  args: [{ name: 'path', type: { t: 'path' } }, { name: 'length', type: { t: 'off' } }],
  creates: null,
  weight: 2,
};
