/**
 * `esp-station identity read --port P` against `esp-station sim` over socket://: the board's own partition
 * table (ESP-AT: mfg_nvs listed in at_customize) locates the partition, READ_FLASH through the stub reads it,
 * and what it decodes to is exactly what the station's ledger says the board got.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerReader } from '../../src/ledger/reader.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import { runCli, startCli, stopChild } from '../reliability/child-processes.ts';
import type { LiveChild } from '../reliability/child-processes.ts';
import { writeIdentityStation } from '../identity/identity-station-files.ts';

async function simBoards(n: number, mac: string, children: LiveChild[]): Promise<string[]> {
  const sim = startCli([
    'sim',
    '--listen',
    'tcp://127.0.0.1:0',
    '--boards',
    String(n),
    '--timing',
    'fast',
    '--mac',
    mac,
  ]);
  children.push(sim);
  const urls: string[] = [];
  for (let i = 0; i < n; i++) {
    const line = await sim.waitForLine((l) => l.includes('listening on') && !urls.some((u) => l.includes(u)));
    urls.push(/\((socket:\/\/[^)]+)\)/.exec(line)![1]);
  }
  return urls;
}

test('identity read gives back, from the board, the serial and credential the ledger says it got', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'identity-read-'));
  const children: LiveChild[] = [];
  t.after(async () => {
    for (const c of children) await stopChild(c, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const files = await writeIdentityStation(dir, { bundles: 4 });
  const [flashed, fresh] = await simBoards(2, '24:0A:C4:D0:00:01', children);
  const ledger = join(dir, 'ledger.jsonl');
  const run = await runCli([
    'run',
    '--headless',
    '--once',
    '--port-follows-baud',
    '--config',
    files.config,
    '--ledger',
    ledger,
    '--port',
    flashed,
  ]);
  assert.equal(run.code, 0, run.stderr);
  const records: LedgerRecord[] = [];
  for await (const r of new LedgerReader(ledger)) records.push(r);
  assert.equal(records.length, 1);
  const rec = records[0];
  assert.equal(rec.result, 'pass', rec.message);
  assert.equal(rec.identity?.serial, 'ACME-L9-000001');

  const out = join(dir, 'read.bin');
  const read = await runCli(['identity', 'read', '--port', flashed, '--json', '--out', out]);
  assert.equal(read.code, 0, read.stderr);
  const json = JSON.parse(read.stdout) as {
    mac: string;
    partition: { label: string; offset: number; size: number; md5: string };
    items: { namespace?: string; key?: string; type?: string; value?: unknown; kind?: string }[];
  };
  assert.equal(json.mac, rec.mac);
  const mfg = rec.regions.find((r) => r.label === 'mfg_nvs')!;
  assert.deepEqual(
    [json.partition.offset, json.partition.size, json.partition.md5],
    [mfg.offset, mfg.size, mfg.md5Chip],
    'the partition read back is the region the station wrote and verified',
  );
  const bytes = readFileSync(out);
  assert.equal(createHash('md5').update(bytes).digest('hex'), mfg.md5Chip);
  const text = JSON.stringify(json.items);
  assert.ok(text.includes('ACME-L9-000001'), 'the serial is on the board');

  // The CSV form (as nvs decode prints it) names the board and carries the serial.
  const csv = await runCli(['identity', '--port', flashed]);
  assert.equal(csv.code, 0, csv.stderr);
  assert.match(csv.stdout, new RegExp(`^# ESP32.* ${rec.mac}: mfg_nvs at 0x${mfg.offset.toString(16)}`));
  assert.match(csv.stdout, /^sn,data,string,ACME-L9-000001$/m);

  // A board never flashed has no partition table to find the partition in: exit 1 with the reason.
  const blank = await runCli(['identity', 'read', '--port', fresh]);
  assert.equal(blank.code, 1);
  assert.match(blank.stderr, /no readable partition table at 0x8000/);
  // A label the board's tables do not have.
  const wrong = await runCli(['identity', 'read', '--port', flashed, '--partition', 'nope']);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /has no partition 'nope'/);
});
