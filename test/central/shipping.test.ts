/**
 * Shipping a station's ledger through the outbox to a real PostgreSQL: every line arrives once, in order, the
 * position is durable, and nothing the ledger does (late appends to an older file, torn lines, replaced files,
 * a lost position file) loses or duplicates a row.
 */
import assert from 'node:assert/strict';
import { appendFile, readFile, rename, rm, copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { positionPathFor } from '../../src/central/outbox-position.ts';
import { LedgerWriter } from '../../src/ledger/writer.ts';
import { makeRecord } from '../ledger/record-builder.ts';
import { usePostgres } from '../support/postgres-server.ts';
import {
  databaseIds,
  eventually,
  ledgerIds,
  makeShipper,
  sql,
  stationRecords,
  tempDir,
  writeLedger,
} from './central-fixtures.ts';

describe('shipping the ledger', () => {
  const server = usePostgres({ before, after });

  it('ships every record once, with typed columns, and keeps a durable position', async () => {
    const url = await server().createDatabase('ship');
    const dir = await tempDir();
    // 300 records a minute apart span two UTC days: two day files.
    const records = stationRecords('st1', 300, Date.UTC(2026, 10, 23, 20));
    await writeLedger(dir, 'st1', records);
    const t = await makeShipper(url, { dir, station: 'st1' });
    t.shipper.start();
    assert.equal(await t.shipper.drain(20_000), true);
    await t.shipper.stop();
    assert.deepEqual(await databaseIds(url), [...records.map((r) => r.id)].sort());
    assert.equal(t.shipper.status.shipped, 300);
    const [row] = await sql<Record<string, unknown>>(
      url,
      `SELECT station, mac, result, code, duration_ms, end_at, ledger_file, ledger_line, record->>'id' AS rid
         FROM esp_station.records WHERE id = $1`,
      [records[4].id],
    );
    assert.deepEqual(
      { ...row, end_at: (row.end_at as Date).toISOString() },
      {
        station: 'st1',
        mac: records[4].mac,
        result: 'fail',
        code: 'write-error',
        duration_ms: records[4].durationMs,
        end_at: records[4].end,
        ledger_file: 'st1-2026-11-23.jsonl',
        ledger_line: 5,
        rid: records[4].id,
      },
    );
    const position = JSON.parse(await readFile(positionPathFor({ dir, station: 'st1' }), 'utf8'));
    assert.equal(Object.keys(position.files).length, 2);
    const stationRow = await sql<{ link: string; lag_records: string; version: string }>(
      url,
      'SELECT link, lag_records, version FROM esp_station.stations WHERE station = $1',
      ['st1'],
    );
    assert.deepEqual(stationRow, [{ link: 'stopped', lag_records: '0', version: '0.0.0-test' }]);

    // A second shipper on the same ledger finds nothing to do: the position held.
    const again = await makeShipper(url, { dir, station: 'st1' });
    again.shipper.start();
    assert.equal(await again.shipper.drain(20_000), true);
    await again.shipper.stop();
    assert.equal(again.shipper.status.shipped, 0);
    assert.equal((await databaseIds(url)).length, 300);
  });

  it('ships records appended while it runs, including late ones in an older day file', async () => {
    const url = await server().createDatabase('live');
    const dir = await tempDir();
    const t = await makeShipper(url, { dir, station: 'st1' });
    t.shipper.start();
    const writer = await LedgerWriter.open({ dir, station: 'st1', rotate: { by: 'day' } });
    const day1 = Date.UTC(2026, 10, 23, 23, 58);
    const day2 = Date.UTC(2026, 10, 24, 0, 5);
    const written: string[] = [];
    for (let i = 0; i < 40; i++) {
      // Alternate between yesterday's and today's file, as boards ending around midnight do.
      const r = makeRecord({
        id: `live-${i}`,
        station: 'st1',
        startMs: (i % 2 ? day1 : day2) + i,
        durationMs: 1000,
      });
      await writer.append(r);
      written.push(r.id);
      t.shipper.nudge();
    }
    await writer.close();
    assert.equal(await t.shipper.drain(20_000), true);
    await t.shipper.stop();
    assert.deepEqual(await databaseIds(url), written.sort());
  });

  it('skips torn and corrupt lines with file:line, and ships the records after them', async () => {
    const url = await server().createDatabase('torn');
    const dir = await tempDir();
    const records = stationRecords('st1', 10);
    await writeLedger(dir, 'st1', records.slice(0, 5));
    const file = join(dir, 'st1-2026-11-23.jsonl');
    await appendFile(file, 'this is not json\n{"v":1,"id":"cut-off-by-a-crash"');
    const t = await makeShipper(url, { dir, station: 'st1' });
    t.shipper.start();
    assert.equal(await t.shipper.drain(20_000), true);
    // The torn tail has no newline yet: it waits, and counts as nothing shipped.
    assert.equal((await databaseIds(url)).length, 5);
    // The writer terminates the torn line before its next record, as after a restart.
    await writeLedger(dir, 'st1', records.slice(5));
    t.shipper.nudge();
    assert.equal(await t.shipper.drain(20_000), true);
    await t.shipper.stop();
    assert.deepEqual(await databaseIds(url), records.map((r) => r.id).sort());
    assert.ok(
      t.notices.some((n) => /st1-2026-11-23\.jsonl:6: corrupt line not shipped/.test(n)),
      t.notices.join('\n'),
    );
    assert.ok(
      t.notices.some((n) => /st1-2026-11-23\.jsonl:7: (torn|corrupt) line not shipped/.test(n)),
      t.notices.join('\n'),
    );
  });

  it('ships only its own station files from a shared directory', async () => {
    const url = await server().createDatabase('shared');
    const dir = await tempDir();
    await writeLedger(dir, 'st1', stationRecords('st1', 5));
    await writeLedger(dir, 'st1-b', stationRecords('st1-b', 7));
    const t = await makeShipper(url, { dir, station: 'st1' });
    t.shipper.start();
    assert.equal(await t.shipper.drain(20_000), true);
    await t.shipper.stop();
    assert.deepEqual(
      await databaseIds(url),
      stationRecords('st1', 5)
        .map((r) => r.id)
        .sort(),
    );
  });

  it('reships without duplicates after the position file is lost or corrupt', async () => {
    const url = await server().createDatabase('lost');
    const dir = await tempDir();
    await writeLedger(dir, 'st1', stationRecords('st1', 50));
    const first = await makeShipper(url, { dir, station: 'st1' });
    first.shipper.start();
    assert.equal(await first.shipper.drain(20_000), true);
    await first.shipper.stop();
    await writeFile(positionPathFor({ dir, station: 'st1' }), '{"v":1,"station":"st1","files":{');
    const second = await makeShipper(url, { dir, station: 'st1' });
    assert.ok(second.notices.some((n) => /not JSON; shipping the ledger from its start/.test(n)));
    second.shipper.start();
    assert.equal(await second.shipper.drain(20_000), true);
    await second.shipper.stop();
    assert.equal(second.shipper.status.shipped, 0);
    assert.equal((await databaseIds(url)).length, 50);
  });

  it('reships a file replaced under the same name, and the ledger again when the database lost rows', async () => {
    const url = await server().createDatabase('replaced');
    const dir = await tempDir();
    const records = stationRecords('st1', 30);
    await writeLedger(dir, 'st1', records);
    const t = await makeShipper(url, { dir, station: 'st1' });
    t.shipper.start();
    assert.equal(await t.shipper.drain(20_000), true);
    await t.shipper.stop();

    // Restored from a backup copy: same name, new inode.
    const file = join(dir, 'st1-2026-11-23.jsonl');
    await copyFile(file, `${file}.copy`);
    await rename(`${file}.copy`, file);
    // And the database lost some rows (restored from an older backup).
    await sql(url, `DELETE FROM esp_station.records WHERE id = ANY($1)`, [
      records.slice(10).map((r) => r.id),
    ]);
    const again = await makeShipper(url, { dir, station: 'st1' });
    again.shipper.start();
    assert.equal(await again.shipper.drain(20_000), true);
    await again.shipper.stop();
    assert.deepEqual(await databaseIds(url), records.map((r) => r.id).sort());
    assert.equal(again.shipper.status.shipped, 20);
    assert.ok(
      again.notices.some((n) => /replaced|holds 10 of the 30/.test(n)),
      again.notices.join('\n'),
    );
  });

  it('stores a record holding U+0000 with U+FFFD instead of stalling the backlog', async () => {
    const url = await server().createDatabase('nul');
    const dir = await tempDir();
    const bad = makeRecord({
      id: 'nul-1',
      result: 'fail',
      code: 'no-sync',
      message: 'garbage \u0000 from the board',
    });
    await writeLedger(dir, 'st1', [bad, ...stationRecords('st1', 3)]);
    const t = await makeShipper(url, { dir, station: 'st1' });
    t.shipper.start();
    assert.equal(await t.shipper.drain(20_000), true);
    await t.shipper.stop();
    const rows = await sql<{ message: string; m: string }>(
      url,
      `SELECT message, record->>'message' AS m FROM esp_station.records WHERE id = 'nul-1'`,
    );
    assert.deepEqual(rows, [
      { message: 'garbage \uFFFD from the board', m: 'garbage \uFFFD from the board' },
    ]);
    assert.equal((await databaseIds(url)).length, 4);
  });

  it('counts the backlog and keeps it while the database is unreachable, then catches up', async () => {
    const url = await server().createDatabase('later');
    const dir = await tempDir();
    const records = stationRecords('st1', 25);
    await writeLedger(dir, 'st1', records);
    // Nothing listens on this port: the link is offline and the backlog is counted.
    const unreachable = url.replace(/:\d+\//, ':1/');
    const t = await makeShipper(unreachable, { dir, station: 'st1' });
    t.shipper.start();
    assert.ok(
      await eventually(() => t.shipper.status.link === 'offline' && t.shipper.status.lagRecords === 25),
    );
    assert.match(t.shipper.status.message ?? '', /connection refused/);
    assert.ok(t.shipper.status.lagSeconds > 0);
    assert.equal(await t.shipper.drain(500), false);
    await t.shipper.stop();
    const live = await makeShipper(url, { dir, station: 'st1' });
    live.shipper.start();
    assert.equal(await live.shipper.drain(20_000), true);
    assert.equal(live.shipper.status.lagRecords, 0);
    assert.equal(live.shipper.status.link, 'online');
    await live.shipper.stop();
    assert.equal((await databaseIds(url)).length, 25);
    assert.deepEqual(
      await ledgerIds(dir),
      records.map((r) => r.id),
    );
    await rm(dir, { recursive: true });
  });
});
