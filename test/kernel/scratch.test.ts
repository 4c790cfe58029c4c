// Process-wide caches and helpers of the hot path that must behave exactly
// as the allocations, copies and parses they replace: the shared page of
// zeroes reads copy from, buffers carved from slabs, the page copy without a view, the remainder without a
// floating-point modulus, the shared comparator, and the memory of FUSE
// option texts already validated.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PAGE_SIZE, Page, ZERO_BYTES, copyBytes, isPageAligned, pageBuffer, pageOffset, rem, slabBytes } from '../../src/kernel/page.js';
import { ascending } from '../../src/sim/index.js';
import { FuseOptionError, fuseOptionsFromHeader } from '../../src/kernel/fs/fuse/index.js';

test('ZERO_BYTES is a page of zeroes, and a page without storage reads from it', () => {
  assert.equal(ZERO_BYTES.length, PAGE_SIZE);
  assert.ok(ZERO_BYTES.every((x) => x === 0));
  const p = new Page(1, null, 0, true);
  assert.equal(p.bytesToRead(), ZERO_BYTES);
  p.bytes()[7] = 9;
  assert.equal(p.bytesToRead()[7], 9);
  assert.ok(ZERO_BYTES.every((x) => x === 0), 'writing the page left the zeroes alone');
});

test('slabBytes gives what new Uint8Array(n) gives: n zeroed bytes no other buffer shares', () => {
  const got: Uint8Array[] = [];
  for (const n of [0, 1, 12, PAGE_SIZE - 1, PAGE_SIZE, PAGE_SIZE + 1, 3 * PAGE_SIZE, 16 * PAGE_SIZE, 17 * PAGE_SIZE, 100 * PAGE_SIZE, 5]) {
    const b = slabBytes(n);
    assert.equal(b.length, n);
    assert.ok(b.every((x) => x === 0), `${n} bytes zeroed`);
    b.fill(0xa5);
    got.push(b);
  }
  // Each filled buffer is still all 0xa5: none overlaps another.
  for (const b of got) assert.ok(b.every((x) => x === 0xa5));
  assert.equal(pageBuffer().length, PAGE_SIZE);
});

test('copyBytes copies what set(subarray) copies, whole or in part', () => {
  const src = new Uint8Array(PAGE_SIZE).map((_, i) => (i * 7 + 3) & 0xff);
  for (const [dstOff, srcOff, n] of [[0, 0, PAGE_SIZE], [0, 0, 0], [5, 0, 100], [0, 17, PAGE_SIZE - 17], [100, 4000, 96], [0, 0, PAGE_SIZE - 1]] as const) {
    const want = new Uint8Array(PAGE_SIZE + 200).fill(0xee);
    want.set(src.subarray(srcOff, srcOff + n), dstOff);
    const got = new Uint8Array(PAGE_SIZE + 200).fill(0xee);
    copyBytes(got, dstOff, src, srcOff, n);
    assert.deepEqual(got, want, `dstOff ${dstOff}, srcOff ${srcOff}, n ${n}`);
  }
  // A copy that does not fit throws as set() does.
  assert.throws(() => copyBytes(new Uint8Array(10), 1, new Uint8Array(10), 0, 10), RangeError);
});

test('rem and pageOffset give what % gives, past 2^31, past 2^53 and below zero', () => {
  const vs = [0, 1, 11, 4095, 4096, 4097, 2 ** 31 - 1, 2 ** 31, 0x20000000 + 12, 0x7f0000000000 - 16 * 4096 + 5, 0x7ffffffff000, 2 ** 53 - 1, 2 ** 53 + 2, 2 ** 64, 2 ** 64 - 2048, -1, -4096, -4097, -(2 ** 40) - 3, 1.5, NaN, Infinity];
  for (const v of vs) {
    for (const m of [1, 3, 7, 16, 512, 4096, 1 << 20]) {
      // A non-power of two only where rem claims it: integers with |v| + m < 2^53.
      if ((m & (m - 1)) !== 0 && !(Number.isInteger(v) && Math.abs(v) + m < 2 ** 53)) continue;
      const want = v % m;
      const got = rem(v, m);
      // Up to the sign of a zero.
      assert.ok(Number.isNaN(want) ? Number.isNaN(got) : got === want, `${v} % ${m}: ${got}, want ${want}`);
    }
    assert.ok(Number.isNaN(v % PAGE_SIZE) ? Number.isNaN(pageOffset(v)) : pageOffset(v) === v % PAGE_SIZE, `pageOffset(${v})`);
    assert.equal(isPageAligned(v), v % PAGE_SIZE === 0, `isPageAligned(${v})`);
  }
});

test('ascending sorts numbers as (a, b) => a - b does', () => {
  const xs = [10, -3, 2.5, 100, 0, 7, 7, -1e9];
  assert.deepEqual([...xs].sort(ascending), [...xs].sort((a, b) => a - b));
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
