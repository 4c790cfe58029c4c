import type { SyscallDesc } from './types.js';

export const dup: SyscallDesc = { name: 'dup', args: [{ name: 'fd', type: { t: 'fd' } }], creates: 'fd', weight: 1 };
