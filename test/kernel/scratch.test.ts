// Process-wide caches of the hot path that must behave exactly as the
// allocations and parses they replace: the bounce-buffer pool of read and
// write, and the memory of FUSE option texts already validated.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PAGE_SIZE, scratchPageGet, scratchPagePut } from '../../src/kernel/page.js';
import { FuseOptionError, fuseOptionsFromHeader } from '../../src/kernel/fs/fuse/index.js';

test('a scratch page comes back zeroed, and two borrowers never share one', () => {
  const a = scratchPageGet();
  const b = scratchPageGet();
  assert.equal(a.length, PAGE_SIZE);
  assert.ok(!(a.buffer === b.buffer && a.byteOffset === b.byteOffset));
  a.fill(0xa5);
  b.fill(0x5a, 100, 200);
  scratchPagePut(a);
  scratchPagePut(b);
  for (let i = 0; i < 4; i++) {
    const c = scratchPageGet();
    assert.equal(c.length, PAGE_SIZE);
    assert.ok(c.every((x) => x === 0));
    scratchPagePut(c);
  }
});

test('FUSE options parse the same from memory as the first time, and bad texts still throw', () => {
  const opts = { fuseLatency: 'fixed:2ms', fuseStall: '30ms@once:1ms', fuseErrorRate: '0.01', fuseWritebackCache: '1', memoryPages: '64' };
  const first = fuseOptionsFromHeader(opts);
  const again = fuseOptionsFromHeader(opts);
  assert.deepEqual(again, first);
  assert.deepEqual(Object.keys(again), Object.keys(first));
  assert.deepEqual(first, { latency: 'fixed:2ms', stall: '30ms@once:1ms', errorRate: 0.01, writebackCache: true });
  assert.deepEqual(fuseOptionsFromHeader({ fuseErrorRate: '0.01' }), { errorRate: 0.01 });
  assert.deepEqual(fuseOptionsFromHeader({}), {});
  // A good text remembered does not let a bad one of another option through.
  assert.throws(() => fuseOptionsFromHeader({ fuseLatency: 'fixed:2ms', fuseErrorRate: '2' }), FuseOptionError);
  assert.throws(() => fuseOptionsFromHeader({ fuseLatency: 'fixed:2ms', fuseWritebackCache: 'maybe' }), FuseOptionError);
  assert.throws(() => fuseOptionsFromHeader({ fuseLatency: 'bogus' }), /option fuseLatency=bogus/);
});
