import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { LedgerWriter } from '../../src/ledger/writer.ts';
import { makeRecord, mac } from '../ledger/record-builder.ts';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'report-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function ledgerWith(dir: string, n: number): Promise<void> {
  const w = await LedgerWriter.open({ dir, station: 'st1' });
  for (let i = 0; i < n; i++) await w.append(makeRecord({ mac: mac(i) }));
  await w.close();
}

test('bad input exits 2 with a sentence saying what to change', async (t) => {
  const dir = await tempDir(t);
  await ledgerWith(join(dir, 'l'), 1);
  const errors = t.mock.method(console, 'error', () => {});
  const cases: Array<[string[], RegExp]> = [
    [['--format', 'pdf'], /--format: unknown format 'pdf'; use one of text, csv, json, html/],
    [['--since', 'yesterday'], /--since: 'yesterday' is not a time/],
    [['--since', '2026-11-24', '--until', '2026-11-23'], /--until .* must be after --since/],
    [['--table', 'slots'], /--table only applies with --format csv/],
    [['--format', 'csv', '--table', 'nope'], /unknown table 'nope'/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--workers', '0'], /--workers: '0' is not a thread count; use 1 to 64/],
  ];
  for (const [args, re] of cases) {
    errors.mock.resetCalls();
    assert.equal(await main(['report', '--ledger', join(dir, 'l'), ...args]), 2, args.join(' '));
    assert.match(String(errors.mock.calls[0].arguments[0]), re);
  }
  errors.mock.resetCalls();
  assert.equal(await main(['report', '--ledger', join(dir, 'missing')]), 2);
  assert.match(String(errors.mock.calls[0].arguments[0]), /no such file or directory: .*missing/);
});

test('without --ledger the report reads ledger.dir of --config, or of ./config.yaml, else var/ledger', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'stations'));
  // The config loader checks that the profile exists; the report only needs ledger.dir.
  await writeFile(join(dir, 'stations', 'p.yaml'), '');
  await writeFile(
    join(dir, 'config.yaml'),
    'station: s1\nprofile: stations/p.yaml\nledger:\n  dir: records\n',
  );
  await ledgerWith(join(dir, 'records'), 3);
  const out = join(dir, 'out.json');
  const errors = t.mock.method(console, 'error', () => {});
  assert.equal(
    await main(['report', '--config', join(dir, 'config.yaml'), '--format', 'json', '--out', out]),
    0,
  );
  assert.equal(JSON.parse(await readFile(out, 'utf8')).totals.boards, 3);

  const cwd = process.cwd();
  t.after(() => process.chdir(cwd));
  process.chdir(dir);
  assert.equal(await main(['report', '--format', 'json', '--out', out]), 0);
  const r = JSON.parse(await readFile(out, 'utf8'));
  assert.equal(r.totals.attempts, 3);
  assert.equal(r.ledger.path, join(dir, 'records'));

  const empty = await tempDir(t);
  process.chdir(empty);
  errors.mock.resetCalls();
  assert.equal(await main(['report']), 2);
  assert.match(
    String(errors.mock.calls[0].arguments[0]),
    /no ledger at var\/ledger \(the default location\)/,
  );
  await ledgerWith(join(empty, 'var', 'ledger'), 2);
  assert.equal(await main(['report', '--format', 'csv', '--out', out]), 0);
  assert.equal((await readFile(out, 'utf8')).trim().split('\n').length, 3);
});

test('--help prints the usage and exits 0', async (t) => {
  const logs = t.mock.method(console, 'log', () => {});
  assert.equal(await main(['report', '--help']), 0);
  assert.match(String(logs.mock.calls[0].arguments[0]), /usage: esp-station report \[--ledger FILE\|DIR\]/);
});

test('a reader that goes away (report | head) ends the report quietly with exit 0', async (t) => {
  const dir = await tempDir(t);
  await ledgerWith(join(dir, 'l'), 3000);
  const bin = fileURLToPath(new URL('../../bin/esp-station.mjs', import.meta.url));
  const child = spawn(process.execPath, [bin, 'report', '--ledger', join(dir, 'l'), '--format', 'csv'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.once('data', (d: Buffer) => {
    assert.match(d.toString(), /^mac,result,attempts/);
    child.stdout.destroy();
  });
  const [code] = (await once(child, 'close')) as [number | null];
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /internal error/);
});
