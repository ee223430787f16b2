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
