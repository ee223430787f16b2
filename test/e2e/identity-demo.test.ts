/**
 * `esp-station run --simulate` with the demo profile plus an identity section: every board gets its own
 * serial and bundle, and the post-flash AT test reads them back with AT+SYSMFG (the ledger says 'match').
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerReader } from '../../src/ledger/reader.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import { makeBundleFolder } from '../identity/identity-fixture.ts';
import { runCli } from '../reliability/child-processes.ts';
import { REPO } from '../reliability/station-rig.ts';

test('demo with identities: each board its own serial and bundle, read back over AT+SYSMFG', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'identity-demo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await makeBundleFolder(join(dir, 'pool'), 5);
  const demo = readFileSync(join(REPO, 'stations/demo-esp32-at.yaml'), 'utf8');
  writeFileSync(
    join(dir, 'profile.yaml'),
    `${demo}\n${[
      'identity:',
      '  lot: L1',
      '  journal: identity.jsonl',
      '  serial:',
      "    pattern: '{prefix}-{lot}-{seq:06}'",
      '    prefix: ACME',
      '    namespace: factory_param',
      '    key: sn',
      '  credentials:',
      '    folder: pool',
      '    files:',
      '      client.crt: { namespace: client_cert, key: client_cert.0 }',
      '      client.key: { namespace: client_key, key: client_key.0 }',
      '',
    ].join('\n')}`,
  );
  writeFileSync(
    join(dir, 'config.yaml'),
    'station: demo-id\nprofile: profile.yaml\nledger:\n  dir: ledger\n',
  );
  const ledger = join(dir, 'ledger.jsonl');
  const run = await runCli(
    ['run', '--config', join(dir, 'config.yaml'), '--ledger', ledger, '--simulate', '3'].concat([
      '--timing',
      'fast',
      '--once',
      '--headless',
      '--seed',
      '5',
    ]),
    { limitMs: 120_000 },
  );
  assert.equal(run.code, 0, run.stderr);
  const records: LedgerRecord[] = [];
  for await (const r of new LedgerReader(ledger)) records.push(r);
  assert.equal(records.length, 3);
  assert.deepEqual(records.map((r) => r.identity?.serial).sort(), [
    'ACME-L1-000001',
    'ACME-L1-000002',
    'ACME-L1-000003',
  ]);
  for (const r of records) {
    assert.equal(r.result, 'pass', r.message);
    assert.equal(r.identity?.outcome, 'committed');
    assert.equal(r.identity?.readBack, 'match');
    const reads = r.test!.transcript.filter((s) => s.step === 'mfg-read').map((s) => [s.command, s.result]);
    for (const key of [
      '"factory_param","sn"',
      '"client_cert","client_cert.0"',
      '"client_key","client_key.0"',
    ])
      assert.deepEqual(
        reads.find(([c]) => c === `AT+SYSMFG=1,${key}`),
        [`AT+SYSMFG=1,${key}`, 'ok'],
      );
    // The line the board printed for its serial is its own.
    const sn = r.test!.transcript.find((s) => s.command === 'AT+SYSMFG=1,"factory_param","sn"')!;
    assert.ok(
      sn.lines.some((l) => l.includes(r.identity!.serial!)),
      sn.lines.join(' | '),
    );
  }
});
