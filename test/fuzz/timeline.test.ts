// Replay you can see: the text lanes put every event in its task's column in
// time order and end at the detector; the HTML timeline is a well-formed,
// self-contained page with one SVG lane per task of the reproducer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execute } from '../../src/fuzz/execute.js';
import { formatCall, parseProgram } from '../../src/fuzz/format.js';
import { buildTimeline, formatLanes, timelineHtml } from '../../src/fuzz/timeline.js';
import type { Program } from '../../src/fuzz/program.js';

const E1 = fileURLToPath(new URL('../../../corpus/e1-lockless-map-pages.prog', import.meta.url));
const BIN = fileURLToPath(new URL('../../../bin/faultline', import.meta.url));

function e1(): { p: Program; r: ReturnType<typeof execute> } {
  const p = parseProgram(readFileSync(E1, 'utf8'), E1);
  return { p, r: execute(p, { replay: true, traceLimit: 100_000 }) };
}

const VOID = new Set(['meta', 'br', 'hr', 'img', 'link', 'input', 'col', 'area', 'base', 'wbr', 'source']);

interface Elem {
  name: string;
  attrs: Map<string, string>;
}

/**
 * A strict little HTML tokenizer: a doctype, tags with quoted attributes,
 * every non-void element closed in order, no raw '<' in text. Returns the
 * elements in document order; throws on anything malformed.
 */
function parseHtml(html: string): Elem[] {
  const out: Elem[] = [];
  const stack: string[] = [];
  let i = 0;
  const doctype = /^<!DOCTYPE html>/i.exec(html);
  if (!doctype) throw new Error('no doctype');
  i = doctype[0].length;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt < 0) break;
    const gt = html.indexOf('>', lt);
    if (gt < 0) throw new Error(`unclosed tag at ${lt}`);
    const tag = html.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim().toLowerCase();
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}> at ${lt}`);
      continue;
    }
    const m = /^([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)$/.exec(tag);
    if (!m) throw new Error(`malformed tag <${tag.slice(0, 60)}> at ${lt}`);
    const name = m[1]!.toLowerCase();
    const attrs = new Map<string, string>();
    for (const a of m[2]!.matchAll(/([\w:-]+)="([^"]*)"/g)) {
      if (attrs.has(a[1]!)) throw new Error(`duplicate attribute ${a[1]} at ${lt}`);
      attrs.set(a[1]!, a[2]!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#39;/g, "'").replace(/&amp;/g, '&'));
    }
    out.push({ name, attrs });
    if (m[3] !== '/' && !VOID.has(name)) stack.push(name);
  }
  if (stack.length > 0) throw new Error(`unclosed elements: ${stack.join(' ')}`);
  return out;
}

test('the HTML timeline is a well-formed, self-contained page with one lane per task of the reproducer', () => {
  const { p, r } = e1();
  const html = timelineHtml(buildTimeline(p, r), p, r);
  const elems = parseHtml(html);
  const names = elems.map((e) => e.name);
  for (const n of ['html', 'head', 'style', 'body']) assert.equal(names.filter((x) => x === n).length, 1, n);
  assert.ok(names.indexOf('title') > names.indexOf('head') && names.indexOf('title') < names.indexOf('body'), 'a page title in <head>');
  assert.equal(names.filter((x) => x === 'svg').length, 1, 'one SVG');
  const lanes = elems.filter((e) => e.name === 'g' && e.attrs.get('class') === 'lane').map((e) => e.attrs.get('data-task'));
  assert.deepEqual(lanes, r.taskNames, 'one lane per task, in task order');
  // Every thread of the program is a task with a lane.
  p.procs.forEach((pr, pi) => pr.threads.forEach((_, ti) => assert.ok(lanes.includes(`p${pi}.t${ti}`), `p${pi}.t${ti}`)));
  // Nothing to fetch: no scripts, no external stylesheets, images or fonts.
  assert.equal(names.includes('script') || names.includes('link') || names.includes('img') || names.includes('iframe'), false);
  assert.doesNotMatch(html, /\b(?:src|href)=|url\(|https?:\/\/|@import/i);
  // The detector's moment and the reproducer's calls are on the page, escaped.
  assert.ok(elems.some((e) => e.name === 'g' && e.attrs.get('class') === 'report'));
  assert.ok(html.includes(r.reports[0]!.title));
  assert.ok(html.includes('open(&quot;/tmp/e1&quot;, O_RDWR|O_CREAT)'));
  assert.ok(html.includes('ftruncate(r2, 0x1000)'));
});

test('the text lanes put each call in its task\'s column, in time order, ending at the detector', () => {
  const { p, r } = e1();
  const tl = buildTimeline(p, r);
  const text = formatLanes(tl, { width: 40 });
  const lines = text.split('\n');
  const header = lines[0]!;
  for (const t of tl.tasks) assert.ok(header.includes(t), t);
  // The column each task's text starts in.
  const col = new Map(tl.tasks.map((t) => [t, header.indexOf(t)]));
  p.procs.forEach((pr, pi) => pr.threads.forEach((th, ti) => {
    for (const c of th.calls) {
      const call = formatCall(c).slice(0, 30);
      const line = lines.find((l) => l.includes(`→ ${call}`));
      assert.ok(line !== undefined, `${call} is shown`);
      assert.equal(line.indexOf(`→ ${call}`), col.get(`p${pi}.t${ti}`), `${call} in the column of p${pi}.t${ti}`);
    }
  }));
  // Time order: steps never go back.
  const steps = lines.slice(2).map((l) => Number(l.slice(0, 8))).filter((n) => !Number.isNaN(n));
  assert.deepEqual(steps, [...steps].sort((a, b) => a - b));
  // The truncate runs while process 0 is inside its fault, and the story ends where the detector fired.
  assert.ok(lines.findIndex((l) => l.includes('ftruncate(')) > lines.findIndex((l) => l.includes('page fault in mem_read')));
  assert.match(lines[lines.length - 1]!, />>> DETECTOR FIRED: BUG: stale page mapped after truncate in filemap_map_pages/);
});

test('faultline replay FILE --trace prints lanes and --timeline writes the page', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-timeline-'));
  try {
    const out = join(dir, 'e1.html');
    const r = spawnSync(process.execPath, [BIN, 'replay', E1, '--trace', '--timeline', out], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /│ p0\.t0 +│ p1\.t0/);
    assert.match(r.stdout, />>> DETECTOR FIRED: BUG: stale page mapped after truncate in filemap_map_pages/);
    assert.match(r.stdout, /timeline written to /);
    const lanes = parseHtml(readFileSync(out, 'utf8')).filter((e) => e.name === 'g' && e.attrs.get('class') === 'lane');
    assert.deepEqual(lanes.map((e) => e.attrs.get('data-task')), ['p0.t0', 'p1.t0']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
