import type { SyscallDesc } from './types.js';

export const ftruncate: SyscallDesc = {
  name: 'ftruncate',
  args: [{ name: 'fd', type: { t: 'fd' } }, { name: 'length', type: { t: 'off' } }],
  creates: null,
  weight: 4,
};
