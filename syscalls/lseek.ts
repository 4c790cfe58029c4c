import { SEEK_WHENCE } from './flags.js';
import type { SyscallDesc } from './types.js';

export const lseek: SyscallDesc = {
  name: 'lseek',
  args: [{ name: 'fd', type: { t: 'fd' } }, { name: 'offset', type: { t: 'off' } }, { name: 'whence', type: { t: 'enum', set: SEEK_WHENCE } }],
  creates: null,
  weight: 1,
};
