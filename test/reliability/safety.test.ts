/**
 * Safety rules: strings from boards or files never reach a shell, the HTML report or the terminal unescaped;
 * boards with secure boot or flash encryption are refused unless the profile allows them (through the real
 * Station); the ledger is opened append-only and what was there before a station run survives it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { LedgerWriter } from '../../src/ledger/writer.ts';
import { SimBoard } from '../../src/sim/board.ts';
import { makeRecord } from '../ledger/record-builder.ts';
import { renderApp } from '../ui/app-render.tsx';
import { runCli } from './child-processes.ts';
import { flashDifference, REPO, rigPortPath, startRig } from './station-rig.ts';

/** Hostile strings as a board, a file or an operator could supply them. */
const HOSTILE = {
  html: '<script>alert(1)</script>',
  attr: '"><img src=x onerror=alert(2)>',
  svg: '</text></svg><svg onload=alert(3)>',
  shell: '$(touch /tmp/pwned); `id`; | rm -rf ~ &',
  /** Sets the terminal title (OSC 0) and clears the screen. */
  terminal: '\u001b]0;owned\u0007\u001b[2J\u001b[H',
  fakePass: '\u001b[32;1mPASS\u001b[0m',
};

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|tsx|mjs|js)$/.test(name)) out.push(p);
  }
  return out;
}

test('no code path hands a string to a shell: child processes only as argument arrays, never exec or shell: true', () => {
  const files = ['src', 'bin', 'scripts', 'bench']
    .flatMap((d) => sourceFiles(join(REPO, d)))
    .filter((f) => !f.endsWith('.d.ts'));
  assert.ok(files.length > 50, 'the scan sees the sources');
  const users: string[] = [];
  const wrong: string[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const rel = relative(REPO, f);
    if (!/['"](node:)?child_process['"]/.test(text)) {
      // Without child_process there is no shell; but no dynamic code either.
      if (/\beval\s*\(|new Function\s*\(/.test(text)) wrong.push(`${rel}: eval / new Function`);
      continue;
    }
    users.push(rel);
    // child_process.exec/execSync run a shell (RegExp.prototype.exec, written `.exec(`, is not meant).
    if (/import\s*\{[^}]*\bexec(Sync)?\b[^}]*\}\s*from\s*['"](node:)?child_process/.test(text))
      wrong.push(`${rel}: imports exec()/execSync(), which run a shell`);
    if (/(?<![.\w])exec(Sync)?\s*\(|child_process\w*\.exec(Sync)?\s*\(/.test(text))
      wrong.push(`${rel}: exec()/execSync() run a shell`);
    if (/shell\s*:\s*(true|['"`])/.test(text)) wrong.push(`${rel}: spawn with a shell`);
    // Every spawn/execFile names a program and passes its arguments as an array literal or a variable.
    for (const m of text.matchAll(
      /\b(spawn|spawnSync|execFile|execFileSync|fork)\s*\(\s*([^,)]+),\s*(\S)/g,
    )) {
      if (m[3] !== '[' && !/^[A-Za-z_]/.test(m[3])) wrong.push(`${rel}: ${m[0]} — arguments not an array`);
      if (/`/.test(m[2])) wrong.push(`${rel}: ${m[0]} — the program name is built from a template string`);
    }
  }
  assert.deepEqual(wrong, []);
  // The only child processes are the test runner's and the benchmark's (node itself, fixed arguments).
  for (const u of users) assert.match(u, /^(scripts|bench)\//, `${u} starts processes`);
});

test('hostile ledger strings render escaped in the HTML and text reports', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'safety-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'ledger.jsonl');
  const writer = await LedgerWriter.open({ file, station: 'st1' });
  await writer.append(
    makeRecord({
      slot: HOSTILE.html,
      operator: HOSTILE.attr,
      lot: HOSTILE.svg,
      port: HOSTILE.shell,
      mac: `AA:BB:${HOSTILE.html}`,
      station: HOSTILE.terminal,
    }),
  );
  await writer.append(
    makeRecord({
      result: 'fail',
      code: 'boot-check-failed',
      message: `After the reset the firmware did not print 'ready' (last output: ${HOSTILE.svg} ${HOSTILE.terminal})`,
      slot: HOSTILE.fakePass,
      mac: 'AA:BB:CC:00:00:02',
    }),
  );
  await writer.close();

  const html = await runCli(['report', '--ledger', file, '--format', 'html']);
  assert.equal(html.code, 0, html.stderr);
  for (const bad of ['<script>alert', '<img src=x', '<svg onload', 'onerror=alert(2)>']) {
    assert.ok(!html.stdout.includes(bad), `HTML carries ${bad} raw`);
  }
  assert.ok(!html.stdout.includes('\u001b'), 'HTML carries a raw escape character');
  assert.match(html.stdout, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, 'the slot name is there, escaped');

  const text = await runCli(['report', '--ledger', file, '--format', 'text']);
  assert.equal(text.code, 0, text.stderr);
  assert.ok(!text.stdout.includes('\u001b'), 'the text report carries a raw escape character');
  assert.ok(!text.stdout.includes('\u0007'), 'the text report carries a raw BEL');
});

test('hostile board and file strings reach the terminal UI without their escape sequences', async (t) => {
  // --verbose: board chatter (boot logs, stub output) reaches the screen, which is where it must be made safe.
  const ui = renderApp(t, {
    header: { operator: `op${HOSTILE.terminal}`, lot: `LOT${HOSTILE.fakePass}` },
    verbose: true,
  });
  const now = Date.now();
  const slot = '1-1.1';
  ui.store.handle({
    type: 'slot-attached',
    time: now,
    slot,
    slotInfo: {
      portPath: slot,
      name: `A1${HOSTILE.terminal}`,
      tty: `/dev/ttyUSB0${HOSTILE.terminal}`,
      vid: '10c4',
      pid: 'ea60',
    },
  });
  ui.store.handle({
    type: 'state',
    time: now,
    slot,
    state: 'boot-check',
    attempt: 1,
    message: `boot ${HOSTILE.terminal}`,
  });
  ui.store.handle({ type: 'log', time: now, slot, level: 'info', message: `board says ${HOSTILE.fakePass}` });
  ui.store.handle({
    type: 'result',
    time: now,
    slot,
    result: 'fail',
    code: 'boot-check-failed',
    message: `last output: ${HOSTILE.terminal}${HOSTILE.fakePass}`,
    durationMs: 5,
    attempt: 1,
    recorded: true,
  });
  ui.store.setOperator(`eve${HOSTILE.terminal}`);
  const deadline = Date.now() + 5000;
  while (!ui.text().includes('board says') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  const frame = ui.lastFrame() ?? '';
  assert.match(ui.text(), /board says/, 'the log line is on screen');
  assert.match(ui.text(), /A1/, 'the slot is on screen');
  assert.ok(!frame.includes('\u001b]'), 'an OSC sequence (terminal title) reached the screen');
  assert.ok(!frame.includes('\u0007'), 'a BEL reached the screen');
  assert.ok(!frame.includes('\u001b[2J'), 'a clear-screen reached the screen');
  assert.ok(!frame.includes('\u001b[32;1mPASS'), 'a board painted its own green PASS');
});

test('secure boot and flash encryption: refused unless the profile allows them (real Station)', async (t) => {
  const strict = await startRig({ concurrency: 4, policy: { regionRetries: 0, boardRetriesPerBaud: 0 } });
  t.after(() => strict.close());
  const kinds = [['secure-boot'], ['flash-encryption'], ['secure-boot', 'flash-encryption']];
  const refused = kinds.map((faults, i) => {
    const board = new SimBoard({ timing: 'fast', faults, mac: `24:0A:C4:5E:00:0${i + 1}` });
    return { board, faults, result: strict.plug(rigPortPath(i), board) };
  });
  for (const r of refused) {
    const res = await r.result;
    assert.equal(res.result, 'fail', r.faults.join('+'));
    assert.equal(res.code, 'security-enabled', r.faults.join('+'));
    assert.equal(r.board.flash.allocatedBytes, 0, 'refused before the first write');
  }

  // A profile that allows them: the boards are flashed, secure boot with the bootloader left as built.
  const lenient = await startRig({
    concurrency: 4,
    policy: { allowSecureBoot: true, allowFlashEncryption: true, regionRetries: 0, boardRetriesPerBaud: 0 },
  });
  t.after(() => lenient.close());
  const sb = new SimBoard({ timing: 'fast', faults: ['secure-boot'], mac: '24:0A:C4:5E:01:01' });
  const res = await lenient.plug(rigPortPath(0), sb);
  assert.equal(res.result, 'pass', res.message);
  const regions = lenient.firmware.regionsFor(sb.flash.size, { secureBoot: true });
  assert.equal(flashDifference(sb, regions), undefined, 'the secure-boot board holds the unpatched set');
  const fe = new SimBoard({ timing: 'fast', faults: ['flash-encryption'], mac: '24:0A:C4:5E:01:02' });
  const feRes = await lenient.plug(rigPortPath(1), fe);
  if (feRes.result === 'pass') {
    assert.equal(flashDifference(fe, lenient.firmware.regions), undefined, 'a PASS holds the image set');
  } else {
    assert.notEqual(feRes.code, 'security-enabled', 'allowed means not refused');
  }
});

test('the ledger is append-only: what was in the file before a station run survives it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'safety-ledger-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The rig writes <dir>/rel.jsonl; yesterday's records and a line torn by a power cut are already there.
  const file = join(dir, 'rel.jsonl');
  const before =
    `${JSON.stringify(makeRecord({ station: 'rel', mac: '24:0A:C4:AB:00:01' }))}\n` +
    `${JSON.stringify(makeRecord({ station: 'rel', mac: '24:0A:C4:AB:00:02', result: 'fail', code: 'no-sync' }))}\n` +
    '{"v":1,"id":"torn-by-a-power-cut';
  writeFileSync(file, before);
  const rig = await startRig({ concurrency: 2, ledgerDir: dir });
  t.after(() => rig.close());
  // The second board is one the old ledger knows: its attempt number counts on from there.
  const boards = ['24:0A:C4:AB:00:03', '24:0A:C4:AB:00:01'].map(
    (mac) => new SimBoard({ timing: 'fast', mac }),
  );
  const results = await Promise.all(boards.map((b, i) => rig.plug(rigPortPath(i), b)));
  assert.deepEqual(
    results.map((r) => r.result),
    ['pass', 'pass'],
  );
  await rig.close();
  const after = readFileSync(file, 'utf8');
  assert.ok(after.startsWith(before), 'the old content is untouched');
  const added = after.slice(before.length).split('\n').filter(Boolean);
  assert.equal(added.length, 2);
  const attempts = added.map((l) => JSON.parse(l) as { mac: string; attempt: number });
  assert.equal(attempts.find((a) => a.mac === '24:0A:C4:AB:00:01')?.attempt, 2);

  // And in the source: the writer opens ledger files for appending only ('a', or 'a+' to read its own tail
  // through the same open file; both are O_APPEND) and reads with 'r': it never truncates.
  const writer = readFileSync(join(REPO, 'src/ledger/writer.ts'), 'utf8');
  const opens = [...writer.matchAll(/\bopen\(\s*[^,]+,\s*'([a-z+]+)'/g)].map((m) => m[1]);
  assert.ok(opens.includes('a+'));
  assert.deepEqual(
    opens.filter((f) => f !== 'a' && f !== 'a+' && f !== 'r'),
    [],
  );
  for (const f of sourceFiles(join(REPO, 'src/ledger'))) {
    const text = readFileSync(f, 'utf8');
    assert.ok(!/\b(truncate|ftruncate|writeFile|createWriteStream)\b/.test(text), `${f} can overwrite`);
  }
});
