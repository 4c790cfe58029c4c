// The text helpers behind every panel: sparklines, compact counts, clocks,
// fixed-width cells, gauges that are not reported yet.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cell, compact, elapsed, gauge, sparkline } from '../../src/ui/format.js';

test('a sparkline scales bars to the largest value and pads to its width', () => {
  assert.equal(sparkline([0, 50, 100], 3), '▁▅█');
  assert.equal(sparkline([1, 2], 4), '  ▅█');
  assert.equal(sparkline([0, 0], 2), '▁▁');
  assert.equal(sparkline([1, 2, 3, 4, 5, 6], 3), '▆▇█', 'keeps the newest values');
});

test('counts are exact when small and compact when large', () => {
  assert.equal(compact(9999), '9999');
  assert.equal(compact(15_800), '15.8k');
  assert.equal(compact(2_345_678), '2.35M');
});

test('elapsed time reads as m:ss, then h:mm:ss', () => {
  assert.equal(elapsed(0), '0:00');
  assert.equal(elapsed(75_400), '1:15');
  assert.equal(elapsed(3_723_000), '1:02:03');
});

test('cells pad or cut text to an exact width', () => {
  assert.equal(cell('abc', 5), 'abc  ');
  assert.equal(cell('abc', 5, 'right'), '  abc');
  assert.equal(cell('abcdef', 4), 'abc…');
});

test('a gauge the kernel does not report reads n/a', () => {
  assert.equal(gauge(undefined), 'n/a');
  assert.equal(gauge(12), '12');
});
