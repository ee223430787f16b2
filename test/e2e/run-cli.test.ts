/** `esp-station run` as an operator's script would call it: headless, simulated boards, --once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LedgerRecordSchema } from '../../src/ledger/record.ts';
import type { StationEvent } from '../../src/station/events.ts';

const REPO = resolve(import.meta.dirname, '../..');

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [join(REPO, 'bin/esp-station.mjs'), 'run', ...args], { cwd: REPO });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const kill = setTimeout(() => p.kill('SIGKILL'), 100_000);
    p.on('close', (code) => {
      clearTimeout(kill);
      done({ code, stdout, stderr });
    });
  });
}

test('run --headless --simulate 8 --once prints JSON events, records 8 attempts and exits 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'run-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ledgerFile = join(dir, 'ledger.jsonl');
  const r = await runCli([
    '--headless',
    '--simulate',
    '8',
    '--faults',
    'secure-boot:0.3,wrong-chip:0.2',
    '--timing',
    'fast',
    '--seed',
    '7',
    '--once',
    '--ledger',
    ledgerFile,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as StationEvent);
  assert.deepEqual(events[0], { ...events[0], type: 'station', state: 'running', detection: 'simulated' });
  assert.equal(events.at(-1)?.type === 'station' && events.at(-1)?.type, 'station');
  assert.equal((events.at(-1) as { state: string }).state, 'stopped');
  const results = events.filter((e) => e.type === 'result');
  assert.equal(results.length, 8);
  const lines = readFileSync(ledgerFile, 'utf8').trim().split('\n');
  const records = lines.map((l) => LedgerRecordSchema.parse(JSON.parse(l)));
  assert.equal(records.length, 8);
  const codes = records.map((x) => x.code ?? 'pass');
  assert.ok(codes.includes('pass'), codes.join());
  assert.ok(
    codes.some((c) => c === 'security-enabled' || c === 'wrong-chip'),
    `the fault mix shows: ${codes.join()}`,
  );
  assert.ok(records.every((x) => x.station === 'demo-station' && x.demoFirmware === true));
  // Durability before display: each result line comes after its record exists (same count, same order).
  assert.deepEqual(
    results.map((e) => (e as { result: string }).result),
    records.map((x) => x.result),
  );
});

test('run --simulate --revision: the simulated boards have that revision, and the ledger records it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'run-cli-rev-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ledgerFile = join(dir, 'ledger.jsonl');
  const r = await runCli(
    [
      '--headless',
      '--simulate',
      '2',
      '--revision',
      'v1.0',
      '--timing',
      'fast',
      '--seed',
      '5',
      '--once',
    ].concat(['--ledger', ledgerFile]),
  );
  assert.equal(r.code, 0, r.stderr);
  const records = readFileSync(ledgerFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => LedgerRecordSchema.parse(JSON.parse(l)));
  assert.deepEqual(
    records.map((x) => x.revision),
    [100, 100],
  );
});

test('run rejects bad options with exit 2 and says what to change', async () => {
  const [a, b, c, d, e] = await Promise.all([
    runCli(['--simulate', 'many']),
    runCli(['--once']),
    runCli(['--simulate', '2', '--faults', 'gremlins:0.5']),
    runCli(['--simulate', '2', '--revision', 'v9.0']),
    runCli(['--revision', 'v1.0']),
  ]);
  assert.equal(d.code, 2);
  assert.match(d.stderr, /--revision: ESP32 cannot be revision v9\.0/);
  assert.equal(e.code, 2);
  assert.match(e.stderr, /--revision only applies with --simulate/);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /--simulate: 'many' is not a number of boards/);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--once only applies with --simulate/);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /unknown fault 'gremlins'/);
});

test('Ctrl+C twice: the boards in flight are failed at once and recorded, and the station exits 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'run-cli-int-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ledgerFile = join(dir, 'ledger.jsonl');
  // Realistic timing: a board takes ~15 s to write, so the first Ctrl+C alone would wait for them.
  const p = spawn(
    process.execPath,
    [
      join(REPO, 'bin/esp-station.mjs'),
      'run',
      '--headless',
      '--simulate',
      '4',
      '--seed',
      '3',
      '--ledger',
      ledgerFile,
    ],
    { cwd: REPO },
  );
  let stdout = '';
  p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const exited = new Promise<number | null>((r) => p.on('close', r));
  const kill = setTimeout(() => p.kill('SIGKILL'), 100_000);
  t.after(() => clearTimeout(kill));
  const flashing = () => (stdout.match(/"state":"flashing"/g) ?? []).length;
  for (let i = 0; i < 1500 && flashing() < 2; i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(flashing() >= 2, 'boards are writing');
  p.kill('SIGINT');
  // A loaded machine may take seconds to run the child's signal handler: wait for its event, not a count of ticks.
  for (const end = Date.now() + 60_000; Date.now() < end && !stdout.includes('"state":"stopping"');)
    await new Promise((r) => setTimeout(r, 20));
  assert.ok(stdout.includes('"state":"stopping"'));
  const forcedAt = Date.now();
  p.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 0);
  const events = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as StationEvent);
  const results = events.filter((e) => e.type === 'result');
  assert.ok(results.length >= 2);
  assert.ok(results.every((e) => e.type === 'result' && e.recorded));
  const records = readFileSync(ledgerFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => LedgerRecordSchema.parse(JSON.parse(l)));
  assert.equal(records.length, results.length, 'every announced result is in the ledger');
  const stopped = records.filter((r) => /stopped before this board was done/.test(r.message ?? ''));
  assert.ok(stopped.length >= 2, records.map((r) => r.message).join(' | '));
  // Failed by the second Ctrl+C (not finished, not failed earlier); how long that took is no matter for a test.
  assert.ok(
    stopped.every((r) => r.code === 'internal' && Date.parse(r.end) >= forcedAt),
    records.map((r) => `${r.end} ${r.code}`).join(' | '),
  );
  assert.equal((events.at(-1) as { state?: string }).state, 'stopped');
});

test('a simulated run without --once says when every board is done, once, and keeps running until stopped', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'run-cli-done-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = spawn(
    process.execPath,
    [
      join(REPO, 'bin/esp-station.mjs'),
      'run',
      '--headless',
      '--simulate',
      '2',
      '--timing',
      'fast',
      '--seed',
      '4',
      '--ledger',
      join(dir, 'ledger.jsonl'),
    ],
    { cwd: REPO },
  );
  let stdout = '';
  p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const exited = new Promise<number | null>((r) => p.on('close', r));
  const kill = setTimeout(() => p.kill('SIGKILL'), 100_000);
  t.after(() => clearTimeout(kill));
  for (let i = 0; i < 1800 && !stdout.includes('simulation done'); i++)
    await new Promise((r) => setTimeout(r, 50));
  // Still running a moment later: the operator stops it, as the message says.
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(p.exitCode, null, 'the station keeps running after the simulated boards are done');
  p.kill('SIGINT');
  assert.equal(await exited, 0);
  const events = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as StationEvent);
  const done = events.findIndex((e) => e.type === 'station' && /simulation done/.test(e.message ?? ''));
  assert.ok(done > 0, 'the station says the simulation is done');
  assert.match(
    (events[done] as { message: string }).message,
    /^simulation done: all 2 boards have a recorded result; stop the station with q or Ctrl\+C$/,
  );
  const results = events.map((e, i) => (e.type === 'result' && e.recorded ? i : -1)).filter((i) => i >= 0);
  assert.equal(results.length, 2);
  assert.ok(
    results.every((i) => i < done),
    'said after both results are recorded',
  );
  assert.equal(
    events.filter((e) => e.type === 'station' && /simulation done/.test(e.message ?? '')).length,
    1,
  );
});
