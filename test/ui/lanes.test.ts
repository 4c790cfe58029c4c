// Replay traces as task lanes: each event in its task's column, reports
// across the row, too many tasks sharing the last lane.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { laneLayout } from '../../src/ui/lanes.js';
import type { TraceView } from '../../src/ui/types.js';

const TRACE: TraceView = {
  taskNames: ['p0.t0', 'p0.t1', 'kswapd'],
  truncated: false,
  rows: [
    { step: 1, timeNs: 100, task: 0, label: 'acquire &mm->mmap_lock', isReport: false },
    { step: 2, timeNs: 200, task: 1, label: 'contend &mm->mmap_lock', isReport: false },
    { step: 3, timeNs: 300, task: -1, label: 'report possible deadlock', isReport: true },
  ],
};

test('each event sits in the column of its task', () => {
  const l = laneLayout(TRACE, 80);
  const col = (s: string, needle: string): number => s.indexOf(needle);
  assert.ok(col(l.header, '│p0.t0') < col(l.header, '│p0.t1'));
  assert.equal(col(l.lines[0]!.text, 'acquire'), col(l.header, 'p0.t0'));
  assert.equal(col(l.lines[1]!.text, 'contend'), col(l.header, 'p0.t1'));
  assert.ok(l.lines.every((x) => x.text.length <= 80));
});

test('a report spans the row and is marked', () => {
  const l = laneLayout(TRACE, 80);
  assert.equal(l.lines[2]!.isReport, true);
  assert.match(l.lines[2]!.text, /▶ report possible deadlock/);
});

test('tasks that do not fit share the last lane, named in their cell', () => {
  const many: TraceView = {
    taskNames: ['a', 'b', 'c', 'd'],
    truncated: false,
    rows: [0, 1, 2, 3].map((t) => ({ step: t, timeNs: t, task: t, label: `op${t}`, isReport: false })),
  };
  const l = laneLayout(many, 19 + 12 * 2);
  assert.match(l.header, /│others/);
  assert.match(l.lines[3]!.text, /│d: op3/);
});

test('a long run\'s middle that was not kept is marked where it was', () => {
  const gapped: TraceView = { ...TRACE, truncated: true, gap: { at: 1, count: 5000 } };
  const l = laneLayout(gapped, 80);
  assert.equal(l.lines.length, 4);
  assert.match(l.lines[1]!.text, /… 5000 events not kept …/);
  assert.match(l.lines[2]!.text, /contend/);
  assert.equal(l.lines[3]!.isReport, true);
});
