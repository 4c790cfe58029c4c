import type { SyscallDesc } from './types.js';

export const fsync: SyscallDesc = { name: 'fsync', args: [{ name: 'fd', type: { t: 'fd' } }], creates: null, weight: 1 };
