/**
 * The neighbourhood, part 4: text from a board or a file reaches a terminal or a spreadsheet. A board whose
 * boot line carries escape sequences (retitle the window, clear the screen), an image file whose name holds
 * an escape and a newline (a forged row of the flash map), a ledger message that a `;`-list spreadsheet would
 * split into a formula: all arrive as plain text. The real CLI, a fake board over TCP, real files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRecord } from '../ledger/record-builder.ts';
import { runCli } from './child-processes.ts';
import { demoFirmware, DEMO_PROFILE, REPO } from './station-rig.ts';

/** ESC and BEL: the bytes an escape sequence needs. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u001b\u0007\u009b]/;

/** A "board" running its app: whatever it is sent, it answers with a boot line carrying escape sequences. */
async function hostileBoard(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('data', () =>
      s.write('rst:0x1 (POWERON_RESET),boot:0x13 (SPI\u001b]0;owned\u0007\u001b[2J\u001b[1FPASS)\r\n'),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  const a = server.address();
  return `socket://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
}

test("a board's boot line reaches info and flash messages without its escape sequences", async (t) => {
  await demoFirmware();
  const port = await hostileBoard(t);
  const [info, flash] = await Promise.all([
    runCli(['info', '--port', port]),
    runCli(['flash', '--port', port, '--profile', DEMO_PROFILE]),
  ]);
  for (const [name, r] of [
    ['info', info],
    ['flash', flash],
  ] as const) {
    assert.equal(r.code, 1, `${name}: ${r.stderr}`);
    assert.match(r.stderr, /^FAIL: .*boot:0x13 \(SPI/m, `${name} still says FAIL`);
    assert.doesNotMatch(`${r.stdout}${r.stderr}`, RAW_CONTROL, `${name} printed a raw escape sequence`);
  }
});

test('an image file name with an escape and a newline cannot forge a row of the flash map', async (t) => {
  await demoFirmware();
  const dir = mkdtempSync(join(tmpdir(), 'neighbourhood-names-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(REPO, 'var/demo-firmware/esp-at'), dir, { recursive: true });
  const hostile = 'at_customize\u001b]0;owned\u0007\n0x0f0000    0x0f1000  4096      otadata  forged.bin.bin';
  renameSync(join(dir, 'at_customize.bin'), join(dir, hostile));
  const args = readFileSync(join(dir, 'flasher_args.json'), 'utf8');
  writeFileSync(
    join(dir, 'flasher_args.json'),
    args.split('"at_customize.bin"').join(JSON.stringify(hostile)),
  );
  const r = await runCli(['check', '--firmware', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, RAW_CONTROL);
  const rows = r.stdout.split('\n').filter((l) => /^0x[0-9a-f]+ /.test(l));
  assert.equal(rows.length, 6, `one row per region, none forged:\n${r.stdout}`);
  assert.ok(!rows.some((l) => l.startsWith('0x0f0000')), r.stdout);
});

test('CSV: a message a spreadsheet would split on ; or run as a formula stays one text cell', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'neighbourhood-csv-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ledger = join(dir, 'ledger.jsonl');
  const split = 'board said x;=HYPERLINK("http://evil.example","click")';
  const padded = ' =1+2';
  writeFileSync(
    ledger,
    [
      makeRecord({ mac: '24:0A:C4:00:00:01', result: 'fail', code: 'no-sync', message: split }),
      makeRecord({ mac: '24:0A:C4:00:00:02', result: 'fail', code: 'no-sync', message: padded }),
    ]
      .map((r) => `${JSON.stringify(r)}\n`)
      .join(''),
  );
  const r = await runCli(['report', '--ledger', ledger, '--format', 'csv', '--table', 'messages']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.ok(
    lines.some((l) => l.startsWith('"board said x;=HYPERLINK(""http://evil.example"",""click"")",')),
    r.stdout,
  );
  // The messages table groups by template (numbers become ‹n›); the formula start is guarded all the same.
  assert.ok(
    lines.some((l) => l.startsWith(`' =‹n›+‹n›,`)),
    r.stdout,
  );
  // The board list keeps each board's full message, guarded too.
  const boards = await runCli(['report', '--ledger', ledger, '--format', 'csv', '--table', 'boards']);
  assert.equal(boards.code, 0, boards.stderr);
  assert.match(boards.stdout, /,' =1\+2(,|\n|$)/m, boards.stdout);
});
