/**
 * `report --serial S` / `--mac M`: the board's history — which board, what it got, where, when, by whom,
 * every attempt (a serial finds the MAC, then every attempt on it, the ones before its identity included).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BoardIdentityRecord } from '../../src/ledger/record.ts';
import { LedgerWriter } from '../../src/ledger/writer.ts';
import { makeRecord, mac } from '../ledger/record-builder.ts';
import { runReport } from './run-report.ts';

const T0 = Date.UTC(2026, 11, 3, 9, 0, 0);

function identity(serial: string, credential: string, outcome: BoardIdentityRecord['outcome']) {
  return {
    serial,
    credential,
    values: [
      { namespace: 'factory_param', key: 'sn', type: 'string' as const, size: 15, sha256: 'c'.repeat(64) },
    ],
    reused: outcome === 'committed',
    outcome,
  };
}

test('report --serial and --mac give every attempt of that board with what it got, where and by whom', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'board-history-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const w = await LedgerWriter.open({ dir: join(dir, 'l'), station: 'st1' });
  const board = mac(7);
  // 1: no-sync before identify (no identity); 2: failed after its region (kept); 3: retest PASS (committed).
  await w.append(makeRecord({ mac: board, startMs: T0, result: 'fail', code: 'no-sync', attempt: 1 }));
  await w.append(
    makeRecord({
      mac: board,
      startMs: T0 + 60_000,
      result: 'fail',
      code: 'boot-check-failed',
      attempt: 2,
      slot: 'A3',
      identity: identity('ACME-L1-000004', 'dev-0004', 'kept'),
    }),
  );
  await w.append(
    makeRecord({
      mac: board,
      startMs: T0 + 120_000,
      attempt: 3,
      slot: 'B1',
      operator: 'bo',
      identity: identity('ACME-L1-000004', 'dev-0004', 'committed'),
    }),
  );
  // Another board with another serial: not in the answer.
  await w.append(
    makeRecord({ mac: mac(8), startMs: T0, identity: identity('ACME-L1-000005', 'dev-0005', 'committed') }),
  );
  await w.close();

  const bySerial = await runReport(dir, ['--ledger', join(dir, 'l'), '--serial', 'ACME-L1-000004']);
  assert.equal(bySerial.code, 0);
  const text = bySerial.output;
  assert.match(text, new RegExp(`board ${board}  serial ACME-L1-000004  credential dev-0004`));
  assert.match(text, /3 attempt\(s\), 1 PASS; last PASS/);
  const lines = text.split('\n').filter((l) => /^ {2}#\d/.test(l));
  assert.equal(lines.length, 3, text);
  assert.match(lines[0], /#1 .*FAIL no-sync .*slot A1 {2}operator ann/);
  assert.match(lines[1], /#2 .*FAIL boot-check-failed .*slot A3 .*identity ACME-L1-000004 dev-0004 \(kept\)/);
  assert.match(lines[2], /#3 .*PASS .*station st1 {2}slot B1 {2}operator bo .*\(committed, again\)/);
  assert.match(text, new RegExp(`value factory_param/sn string 15 B sha256 ${'c'.repeat(64)}`));
  assert.doesNotMatch(text, /ACME-L1-000005/);

  const byMac = await runReport(dir, [
    '--ledger',
    join(dir, 'l'),
    '--mac',
    board.replace(/:/g, '').toLowerCase(),
    '--format',
    'json',
  ]);
  const json = JSON.parse(byMac.output) as { boards: { mac: string; serial: string; attempts: unknown[] }[] };
  assert.equal(json.boards.length, 1);
  assert.equal(json.boards[0].mac, board);
  assert.equal(json.boards[0].serial, 'ACME-L1-000004');
  assert.equal(json.boards[0].attempts.length, 3);

  const none = await runReport(dir, ['--ledger', join(dir, 'l'), '--serial', 'NOPE']);
  assert.match(none.output, /no attempt in the ledger for NOPE/);
});
