import type { SyscallDesc } from './types.js';

export const close: SyscallDesc = { name: 'close', args: [{ name: 'fd', type: { t: 'fd' } }], creates: null, weight: 1 };
