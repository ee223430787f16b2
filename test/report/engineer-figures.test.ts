// Issue #16 items 9 and 10: what an engineer asks after the yield — failure messages grouped by template with
// the details kept per board, time per phase, passes that needed a retry or a lower baud (per slot), and an
// HTML page whose numbers never wrap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerWriter } from '../../src/ledger/writer.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import { buildReport } from '../../src/report/build-report.ts';
import { formatHtml } from '../../src/report/format-html.ts';
import { formatText } from '../../src/report/format-text.ts';
import { mac, makeRecord } from '../ledger/record-builder.ts';
import { dumpDom } from './chromium.ts';

const T0 = Date.UTC(2026, 10, 23, 8, 0);
const region = (retries: number): LedgerRecord['regions'][number] => ({
  offset: 0x1000,
  label: 'bootloader',
  size: 26_000,
  md5Expected: '0'.repeat(32),
  md5Chip: '0'.repeat(32),
  seconds: 0.4,
  retries,
});
const md5Fail = (n: number, md5: string): Partial<LedgerRecord> => ({
  mac: mac(n),
  result: 'fail',
  code: 'verify-mismatch',
  message: `The flash content did not match the image after writing (MD5 differs). (bootloader @0x1000: flash MD5 ${md5} does not match the image's ${'e'.repeat(32)})`,
});

async function ledger(t: { after(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'engineer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'l.jsonl');
  const w = await LedgerWriter.open({ file, station: 'st1' });
  const records = [
    makeRecord({ slot: 'A1', mac: mac(1), startMs: T0, durationMs: 10_000 }),
    makeRecord({ slot: 'A1', mac: mac(2), startMs: T0 + 60_000, durationMs: 12_000 }),
    // A2's boards pass, but one only at 460800: the station's ladder starts at 921600.
    makeRecord({ slot: 'A2', mac: mac(3), startMs: T0 + 120_000, durationMs: 20_000, baud: 460800 }),
    // A3's board passes after its bootloader was written twice.
    makeRecord({ slot: 'A3', mac: mac(4), startMs: T0 + 180_000, durationMs: 14_000, regions: [region(1)] }),
    // Two boards fail the same way with their own MD5s: one cause, one Pareto row.
    makeRecord({ slot: 'A3', startMs: T0 + 240_000, durationMs: 30_000, ...md5Fail(5, 'a'.repeat(32)) }),
    makeRecord({ slot: 'A1', startMs: T0 + 300_000, durationMs: 30_000, ...md5Fail(6, 'b'.repeat(32)) }),
  ];
  for (const r of records) await w.append(r);
  await w.close();
  return file;
}

test('passes after a retry and at a lower baud, per slot and in total; time per phase', async (t) => {
  const { report: r } = await buildReport({ ledger: await ledger(t), timeZone: 'UTC' });
  assert.equal(r.totals.passedAfterRetry, 1);
  assert.equal(r.totals.passedAtLowerBaud, 1);
  assert.deepEqual(
    r.slots.map((s) => [s.slot, s.passed, s.passedAfterRetry, s.passedAtLowerBaud]),
    [
      ['A1', 2, 0, 0],
      ['A2', 1, 0, 1],
      ['A3', 1, 1, 0],
    ],
  );
  // makeRecord's phases: connect 300, identify 40, write (duration − 500), verify 160; in the order they happen.
  assert.deepEqual(
    r.phases.map((p) => [p.phase, p.attempts, p.p50Ms, p.maxMs]),
    [
      ['connect', 6, 300, 300],
      ['identify', 6, 40, 40],
      ['write', 6, 13_500, 29_500],
      ['verify', 6, 160, 160],
    ],
  );
  const text = formatText(r);
  assert.match(text, /passed after a retry +1\n +passed at lower baud +1\n/);
  assert.match(text, /Time per phase\n +phase +attempts +p50 +p90 +max\n +connect +6 +0\.3 s/);
  assert.match(text, /st1 +A2 +1 +1 +0 +100\.0 % +0 +1 /);
});

test('the Pareto groups messages by template; the board list keeps each board its own message', async (t) => {
  const { report: r } = await buildReport({ ledger: await ledger(t), timeZone: 'UTC' });
  assert.deepEqual(
    r.failures.byMessage.map((p) => [p.key, p.count]),
    [
      [
        "The flash content did not match the image after writing (MD5 differs). (bootloader @‹hex›: flash MD5 ‹md5› does not match the image's ‹md5›)",
        2,
      ],
    ],
  );
  assert.deepEqual(
    r.failedBoards.map((b) => [b.mac, /flash MD5 (\w+)/.exec(b.message)?.[1]]),
    [
      [mac(6), 'b'.repeat(32)],
      [mac(5), 'a'.repeat(32)],
    ],
  );
});

test('html: numbers and times never wrap, even in a narrow window next to long messages', async (t) => {
  t.mock.method(console, 'error', () => {});
  const { report: r } = await buildReport({ ledger: await ledger(t), timeZone: 'UTC' });
  // The CSP forbids scripts; this copy drops it and adds one that measures how many lines each cell takes.
  const probe = `<script>
    const lines = (el) => { const tops = new Set(); const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode()) { const range = document.createRange();
        range.selectNodeContents(n); for (const rect of range.getClientRects()) tops.add(Math.round(rect.top)); }
      return tops.size; };
    const wrapped = [...document.querySelectorAll('td.n, span.t')].filter((el) => lines(el) > 1);
    document.body.insertAdjacentHTML('beforeend', '<p id="wrapped">' + wrapped.length + ' of ' +
      document.querySelectorAll('td.n, span.t').length + '</p>');
  </script>`;
  const html = formatHtml(r)
    .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '')
    .replace('<body>', '<body style="max-width:420px">')
    .replace('</body>', `${probe}</body>`);
  const dir = await mkdtemp(join(tmpdir(), 'nowrap-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'r.html');
  await writeFile(file, html);
  const dom = await dumpDom(file);
  const m = /<p id="wrapped">(\d+) of (\d+)<\/p>/.exec(dom);
  assert.ok(m, 'the probe ran');
  assert.ok(Number(m[2]) > 40, `measured ${m[2]} cells`);
  assert.equal(m[1], '0', 'a number or a time wrapped onto two lines');
});

test('html: station, slot, lot, failure code and test step never break at their hyphens', async (t) => {
  t.mock.method(console, 'error', () => {});
  const dir = await mkdtemp(join(tmpdir(), 'names-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'l.jsonl');
  const station = 'line-7-north-station';
  const lot = 'LOT-2026-1123-A';
  const slots = ['1-1.4.2', '1-2.3.1', '2-1.1.4'];
  const w = await LedgerWriter.open({ file, station });
  for (let i = 0; i < 9; i++) {
    const fail = i % 3 === 1;
    await w.append(
      makeRecord({
        station,
        lot,
        slot: slots[i % 3],
        mac: mac(i + 1),
        startMs: T0 + i * 60_000,
        ...(fail && {
          result: 'fail',
          code: 'at-version-mismatch',
          message: `The board runs firmware v3.3.0.0, the recipe is v3.4.0.0, although the flash verified: it boots another app (${'x'.repeat(i)}). Set it aside for engineering; do not ship.`,
          test: { result: 'fail', failedStep: 'wifi-scan', transcript: [] },
        }),
      }),
    );
  }
  await w.close();
  const { report: r } = await buildReport({ ledger: file, timeZone: 'UTC' });
  const names = [station, lot, ...slots, 'at-version-mismatch', 'wifi-scan'];
  // As in the test above: a probe counts the lines of every table cell that holds just one of these names.
  const probe = `<script>
    const names = new Set(${JSON.stringify(names)});
    const lines = (el) => { const tops = new Set(); const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode()) { const range = document.createRange();
        range.selectNodeContents(n); for (const rect of range.getClientRects()) tops.add(Math.round(rect.top)); }
      return tops.size; };
    const cells = [...document.querySelectorAll('td')].filter((td) => names.has(td.textContent.trim()));
    const wrapped = cells.filter((el) => lines(el) > 1).map((el) => el.textContent.trim());
    document.body.insertAdjacentHTML('beforeend', '<p id="wrapped">' + cells.length + ' cells: ' +
      JSON.stringify(wrapped) + '</p>');
  </script>`;
  const html = formatHtml(r)
    .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '')
    .replace('<body>', '<body style="max-width:420px">')
    .replace('</body>', `${probe}</body>`);
  const page = join(dir, 'r.html');
  await writeFile(page, html);
  const m = /<p id="wrapped">(\d+) cells: (.*)<\/p>/.exec(await dumpDom(page));
  assert.ok(m, 'the probe ran');
  assert.ok(Number(m[1]) >= 10, `measured ${m[1]} cells`);
  assert.deepEqual(JSON.parse(m[2].replace(/&quot;/g, '"')), [], 'these names broke onto two lines');
});
