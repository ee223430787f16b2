import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerWriter } from '../../src/ledger/writer.ts';
import { makeRecord, mac } from '../ledger/record-builder.ts';
import { countColour, decodePng, dumpDom, screenshot } from './chromium.ts';
import { MAC, writeKnownLedger } from './known-ledger.ts';
import { runReport } from './run-report.ts';

let dir: string;
let out: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'report-html-'));
  out = join(dir, 'out');
  await mkdir(out);
});
after(() => rm(dir, { recursive: true, force: true }));

/** A Totals card as "value label · detail", or the text of a simple element, from a dumped DOM. */
function byId(dom: string, id: string): string {
  const card = new RegExp(`id="${id}"><div class="v">([^<]*)</div><div class="k">([^<]*)</div>`).exec(dom);
  if (card) return `${card[1]} ${card[2]}`;
  const plain = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(dom);
  assert.ok(plain, `no element #${id}`);
  return plain[1];
}

function count(text: string, re: RegExp): number {
  return [...text.matchAll(re)].length;
}

test('html: self-contained, and the page Chromium renders shows every figure and chart', async (t) => {
  t.mock.method(console, 'error', () => {});
  const ledger = join(dir, 'known');
  await writeKnownLedger(ledger);
  const {
    code,
    output: html,
    path,
  } = await runReport(out, ['--ledger', ledger, '--format', 'html', '--tz', 'UTC']);
  assert.equal(code, 0);
  // Nothing to fetch, nothing to run.
  assert.doesNotMatch(html, /<script|<link|<iframe|<img|src=|href=|url\(|@import/i);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);

  const file = `${path}.html`;
  await writeFile(file, html);
  const dom = await dumpDom(file);
  assert.equal(byId(dom, 'fpy'), '50.0 % first-pass yield · 3 of 6 boards');
  assert.equal(byId(dom, 'final-yield'), '83.3 % final yield · 5 of 6 boards');
  assert.equal(byId(dom, 'boards'), '6 boards (unique MAC) · 5 passed, 1 failed');
  assert.equal(byId(dom, 'attempts'), '10 attempts · 5 passed, 5 failed');
  assert.equal(byId(dom, 'retests'), '3 retests · on 3 boards');
  assert.equal(byId(dom, 'bph'), '3.0 boards per hour');
  assert.equal(byId(dom, 'cycle'), '14.0 s / 30.0 s / 40.0 s cycle time p50 / p90 / max');
  assert.equal(byId(dom, 'no-mac'), '1');
  assert.equal(byId(dom, 'unreadable'), '2');
  assert.match(
    byId(dom, 'demo-warning'),
    /^DEMO FIRMWARE: 1 attempt\(s\) flashed demo firmware \(recipe bbbbbbbbbbbb\)/,
  );

  // Charts: one bar per 5-minute bin of the two-hour window (08:00 … 10:00), one Pareto bar per code and per
  // message, one cell per slot, none flagged.
  const chart = (id: string) => {
    const m = new RegExp(`<svg[^>]*id="${id}"[\\s\\S]*?</svg>`).exec(dom);
    assert.ok(m, `no chart ${id}`);
    return m[0];
  };
  assert.equal(count(chart('chart-yield'), /class="bar-attempts"/g), 25);
  assert.match(chart('chart-yield'), /attempts per 5 minutes \(UTC, left scale\)/);
  assert.equal(count(chart('chart-yield'), /<polyline class="line-yield"/g), 1);
  assert.equal(count(chart('chart-pareto-code'), /class="bar-pareto"/g), 4);
  assert.equal(count(chart('chart-pareto-message'), /class="bar-pareto"/g), 4);
  assert.equal(count(chart('chart-slots'), /class="slot-cell[ "]/g), 3);
  assert.match(chart('chart-pareto-code'), />verify-mismatch<\/text>.*?>2 \(40\.0 %, cumulative 40\.0 %\)</s);
  assert.match(chart('chart-slots'), /st2 \/ B1: 3 of 4 passed \(75\.0 %\)/);

  // Tables rendered with the figures.
  const text = dom.replace(/<[^>]+>/g, '|').replace(/\|+/g, '|');
  assert.match(text, /\|verify-mismatch\|2\|40\.0 %\|40\.0 %\|/);
  assert.match(text, /\|MD5 mismatch\|2\|40\.0 %\|40\.0 %\|/);
  assert.match(text, /\|st1\|A1\|3\|1\|2\|33\.3 %\|0\|0\|verify-mismatch\|too few to judge\|/);
  assert.match(text, /\|bbbbbbbbbbbb\|at-esp32c3\|4\|75\.0 %\|3\|66\.7 %\|[^|]+\|[^|]+\|DEMO FIRMWARE\|/);
  assert.match(text, /\|LOT-1\|6\|2\|4\|33\.3 %\|/);
  assert.match(text, /\|st2\|4\|3\|1\|75\.0 %\|/);
  assert.match(
    text,
    /\|operator\|attempts\|passed\|failed\|yield\|ann\|6\|2\|4\|33\.3 %\|bob\|4\|3\|1\|75\.0 %\|/,
  );
  assert.match(text, /\|2026-11-23 09:05\|1\|0\|1\|0\.0 %\|/);
  assert.match(text, /Times in UTC/);
  assert.match(
    text,
    new RegExp(
      `\\|${MAC.M3}\\|2\\|2026-11-23 09:05:30Z\\|LOT-1\\|st1\\|A1\\|verify-mismatch\\|MD5 mismatch\\|`,
    ),
  );
  assert.match(text, /torn line: incomplete record/);
  assert.match(text, /corrupt line: not JSON/);

  // The screenshot really shows the page: demo banner red, grey slot cells, Pareto and attempt bars.
  const png = `${path}.png`;
  await screenshot(file, png);
  const img = decodePng(await readFile(png));
  assert.deepEqual([img.width, img.height], [1280, 2000]);
  assert.ok(countColour(img, [0xb7, 0x1c, 0x1c]) > 2000, 'demo banner');
  assert.ok(countColour(img, [0xe5, 0x73, 0x73]) > 1000, 'Pareto bars');
  assert.ok(countColour(img, [0x90, 0xa4, 0xae]) > 1000, 'attempt bars');
  // A cell is ~6,600 pixels: no cell is the old grey (a few hundred such pixels are anti-aliased edges).
  assert.ok(countColour(img, [0xcf, 0xd8, 0xdc]) < 1000, 'no slot cell is grey: each has its yield colour');
});

test('html heat map: a slot with too few attempts keeps its yield colour (0 % of 7 red, 7 of 7 green), hatched', async (t) => {
  t.mock.method(console, 'error', () => {});
  const ledgerDir = join(dir, 'few');
  await mkdir(ledgerDir);
  const w = await LedgerWriter.open({ dir: ledgerDir, rotate: { by: 'day' }, station: 'st1' });
  for (let i = 0; i < 7; i++) {
    const startMs = Date.UTC(2026, 10, 23, 8, i);
    await w.append(makeRecord({ slot: 'BAD', mac: mac(100 + i), result: 'fail', code: 'no-sync', startMs }));
    await w.append(makeRecord({ slot: 'GOOD', mac: mac(200 + i), startMs }));
  }
  await w.close();
  const { code, path } = await runReport(out, ['--ledger', ledgerDir, '--format', 'html']);
  assert.equal(code, 0);
  const file = `${path}.html`;
  await writeFile(file, await readFile(path, 'utf8'));
  const dom = await dumpDom(file);
  const cells = [
    ...dom.matchAll(
      /<g class="slot-cell slot-few"><title>st1 \/ (\w+):[^<]*<\/title><rect [^>]*fill="([^"]+)"/g,
    ),
  ];
  assert.deepEqual(
    cells.map((m) => [m[1], m[2]]),
    [
      ['BAD', 'hsl(0, 62%, 44%)'],
      ['GOOD', 'hsl(120, 62%, 44%)'],
    ],
  );
  assert.equal(count(dom, /<g class="too-few"/g), 2, 'both hatched: too few to judge');
  const png = `${path}.png`;
  await screenshot(file, png);
  const img = decodePng(await readFile(png));
  assert.ok(countColour(img, [182, 43, 43]) > 1500, 'the 0 % slot is red');
  assert.ok(countColour(img, [43, 182, 43]) > 1500, 'the 100 % slot is green');
});

const HOSTILE = {
  slot: `<script>document.title='pwned-slot'</script>`,
  operator: `"><img src=x onerror="document.title='pwned-operator'">`,
  message: `"><img src=x onerror="document.title='pwned-message'"><b id="bold">x</b>`,
  lot: `</table><h1 id="injected">lot</h1>`,
  station: `<svg onload="document.title='pwned-station'">`,
  profile: `'><style>body{display:none}</style>`,
  mac: `<i id="mac-injected">AA</i>`,
};

test('html: hostile ledger values are shown as text and never run, even without the CSP', async (t) => {
  t.mock.method(console, 'error', () => {});
  const ledger = join(dir, 'hostile.jsonl');
  const w = await LedgerWriter.open({ file: ledger, station: 'x' });
  for (let i = 0; i < 25; i++) {
    await w.append(
      makeRecord({
        ...HOSTILE,
        mac: i === 0 ? HOSTILE.mac : mac(i),
        result: 'fail',
        code: 'timeout',
        recipe: `<u>r</u>`,
      }),
    );
  }
  for (let i = 0; i < 25; i++)
    await w.append(makeRecord({ mac: mac(100 + i), slot: 'ok-slot', station: HOSTILE.station }));
  await w.close();
  const { output: html, path } = await runReport(out, ['--ledger', ledger, '--format', 'html']);
  for (const bad of [
    /<script/i,
    /<img/i,
    /<h1 id="injected"/,
    /<svg onload/i,
    /<style>body/,
    /<b id="bold"/,
    /<i id=/,
    /<u>/,
  ]) {
    assert.doesNotMatch(html, bad);
  }
  assert.ok(html.includes('&lt;script&gt;document.title=&#39;pwned-slot&#39;&lt;/script&gt;'));

  // Render without the Content-Security-Policy, so only escaping stands between the values and the page.
  const file = `${path}.nocsp.html`;
  await writeFile(file, html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, ''));
  const dom = await dumpDom(file);
  assert.match(dom, /<title>esp-station yield report<\/title>/);
  assert.doesNotMatch(dom, /pwned-[a-z]+<\/title>/);
  assert.doesNotMatch(dom, /<img|<script|<h1 id="injected"|<b id="bold"|<i id="mac-injected"/);
  // The values are there, as text: the slot that failed everything is flagged LOW against the good one.
  assert.ok(dom.includes("&lt;script&gt;document.title='pwned-slot'&lt;/script&gt;"), 'slot shown as text');
  assert.ok(
    dom.includes('"&gt;&lt;img src=x onerror="document.title=\'pwned-message\'"&gt;'),
    'message shown as text',
  );
  assert.ok(dom.includes('&lt;/table&gt;&lt;h1 id="injected"&gt;lot&lt;/h1&gt;'), 'lot shown as text');
  assert.ok(
    dom.includes('"&gt;&lt;img src=x onerror="document.title=\'pwned-operator\'"&gt;'),
    'operator shown as text',
  );
  assert.match(dom, /class="slot-cell slot-low"/);
});
