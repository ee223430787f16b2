/**
 * Faults between the station and its database, all against the real server: the database down at start,
 * the database killed mid-batch, the shipper killed mid-batch (SIGKILL, again and again), a proxy that cuts
 * and stalls the connection, a slow database, two stations and a backfill shipping at once. Every time the
 * database ends with exactly the ledger's records: 0 lost, 0 duplicated.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { backfillLedger } from '../../src/central/backfill.ts';
import { LedgerWriter } from '../../src/ledger/writer.ts';
import { makeRecord, mac } from '../ledger/record-builder.ts';
import { usePostgres } from '../support/postgres-server.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
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

const HERE = import.meta.dirname;
const REPO = resolve(HERE, '../..');

/** Asserts the database holds exactly the ledger's records: none missing, none twice, nothing else. */
async function assertExactly(url: string, dir: string): Promise<void> {
  const ledger = await ledgerIds(dir);
  const rows = await sql<{ id: string; n: string }>(
    url,
    'SELECT id, count(*) OVER () AS n FROM esp_station.records ORDER BY id',
  );
  assert.equal(new Set(ledger).size, ledger.length, 'the ledger itself has no duplicate ids');
  assert.deepEqual(
    rows.map((r) => r.id),
    [...ledger].sort(),
  );
}

/** A station writing `count` records to its ledger, one every `everyMs`, nudging the shipper. */
async function station(
  dir: string,
  name: string,
  count: number,
  everyMs: number,
  nudge: () => void = () => undefined,
): Promise<void> {
  const w = await LedgerWriter.open({ dir, station: name, rotate: { by: 'day' } });
  const t0 = Date.UTC(2026, 10, 23, 8);
  for (let i = 0; i < count; i++) {
    await w.append(
      makeRecord({
        id: `${name}/${i}`,
        station: name,
        mac: mac(i + 1),
        startMs: t0 + i * 1_000,
        ...(i % 9 === 8 && { result: 'fail' as const }),
      }),
    );
    nudge();
    if (everyMs > 0) await new Promise((r) => setTimeout(r, everyMs));
  }
  await w.close();
}

describe('central shipping under faults', () => {
  const server = usePostgres({ before, after });

  it('database down at start: the station writes on, the backlog ships once the server is up', async () => {
    const s = server();
    const url = await s.createDatabase('downstart');
    const dir = await tempDir();
    await s.stop();
    try {
      const t = await makeShipper(url, { dir, station: 'st1' });
      t.shipper.start();
      await station(dir, 'st1', 60, 0, () => t.shipper.nudge());
      assert.ok(
        await eventually(() => t.shipper.status.link === 'offline' && t.shipper.status.lagRecords === 60),
      );
      await s.start();
      assert.equal(await t.shipper.drain(30_000), true);
      await t.shipper.stop();
      assert.equal(t.shipper.status.shipped, 60);
    } finally {
      await s.start();
    }
    await assertExactly(url, dir);
  });

  it('database killed mid-batch, again and again, while the station writes: 0 lost, 0 duplicated', async () => {
    const s = server();
    const url = await s.createDatabase('dbcrash');
    const dir = await tempDir();
    const t = await makeShipper(url, { dir, station: 'st1' }, { queryTimeoutMs: 2_000 });
    t.shipper.start();
    const writing = station(dir, 'st1', 400, 2, () => t.shipper.nudge());
    let crashes = 0;
    while (crashes < 4) {
      await eventually(() => t.shipper.status.shipped > crashes * 60, 20_000);
      await s.crash(); // SIGQUIT: the server stops at once, as in a crash; no checkpoint
      crashes++;
      await new Promise((r) => setTimeout(r, 150));
      await s.start();
    }
    await writing;
    assert.equal(await t.shipper.drain(30_000), true);
    await t.shipper.stop();
    assert.ok(
      t.statuses.some((st) => st.link === 'offline'),
      'the crashes were seen',
    );
    await assertExactly(url, dir);
  });

  it('shipper SIGKILLed at random moments mid-batch, restarted each time: 0 lost, 0 duplicated', async () => {
    const url = await server().createDatabase('shipkill');
    const dir = await tempDir();
    await writeLedger(dir, 'st1', stationRecords('st1', 1_500));
    let kills = 0;
    for (let round = 0; ; round++) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(HERE, 'ship-child.ts'), url, dir, 'st1'],
        { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      // Kill once rows are arriving (mid-batch), at a different moment each round; the last round runs out.
      if (round < 6) {
        const before = (
          await sql<{ n: string }>(url, 'SELECT count(*) AS n FROM esp_station.records').catch(() => [
            { n: '0' },
          ])
        )[0].n;
        await eventually(async () => {
          const [{ n }] = await sql<{ n: string }>(
            url,
            'SELECT count(*) AS n FROM esp_station.records',
          ).catch(() => [{ n: before }]);
          return Number(n) > Number(before);
        }, 60_000);
        await new Promise((r) => setTimeout(r, 20 + round * 37));
        if (child.kill('SIGKILL')) kills++;
        await exited;
        continue;
      }
      assert.equal(await exited, 0);
      assert.match(out, /drained/);
      break;
    }
    assert.ok(kills >= 5, `${kills} kills`);
    await assertExactly(url, dir);
  });

  it('a proxy that cuts and stalls the connection, and a slow link: 0 lost, 0 duplicated', async () => {
    const s = server();
    const url = await s.createDatabase('proxy');
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: s.port });
    const viaProxy = url.replace(`:${s.port}/`, `:${proxy.port}/`);
    const dir = await tempDir();
    const t = await makeShipper(
      viaProxy,
      { dir, station: 'st1' },
      { queryTimeoutMs: 1_500, connectTimeoutMs: 1_500 },
    );
    t.shipper.start();
    const writing = station(dir, 'st1', 500, 3, () => t.shipper.nudge());
    try {
      for (let round = 0; round < 3; round++) {
        await eventually(
          () => t.shipper.status.link === 'online' && t.shipper.status.shipped > round * 80,
          20_000,
        );
        proxy.cut(); // the cable is pulled mid-conversation
        await eventually(() => t.shipper.status.link === 'online', 20_000);
        proxy.setMode('stall'); // the route dies: bytes vanish, nobody says so
        await eventually(() => t.shipper.status.link === 'offline', 20_000);
        assert.match(t.shipper.status.message ?? '', /no reply|timeout|connection/i);
        proxy.setMode('refuse');
        proxy.cut();
        await new Promise((r) => setTimeout(r, 300));
        proxy.setMode('pass');
      }
      proxy.setLatency(40); // a slow link to the end
      await writing;
      assert.equal(await t.shipper.drain(60_000), true);
    } finally {
      await t.shipper.stop();
      await proxy.close();
    }
    assert.ok(proxy.accepted > 6, `${proxy.accepted} connections: it reconnected after each fault`);
    await assertExactly(url, dir);
  });

  it('a slow database never holds up the ledger, and catches up after', async () => {
    const s = server();
    const url = await s.createDatabase('slow');
    const dir = await tempDir();
    const t = await makeShipper(url, { dir, station: 'st1' }, { queryTimeoutMs: 60_000 });
    t.shipper.start();
    await station(dir, 'st1', 5, 0, () => t.shipper.nudge());
    assert.equal(await t.shipper.drain(20_000), true);
    // A DBA's long transaction holds the records table: every insert waits.
    const dba = new pg.Client({ connectionString: url });
    await dba.connect();
    await dba.query('BEGIN');
    await dba.query('LOCK TABLE esp_station.records IN ACCESS EXCLUSIVE MODE');
    try {
      // The station appends 200 records (each durable before it resolves) while the shipper is stuck.
      const w = await LedgerWriter.open({ dir, station: 'st1', rotate: { by: 'day' } });
      for (let i = 0; i < 200; i++) {
        await w.append(
          makeRecord({
            id: `st1/late-${i}`,
            station: 'st1',
            mac: mac(1_000 + i),
            startMs: Date.UTC(2026, 10, 23, 12) + i,
          }),
        );
        t.shipper.nudge();
      }
      await w.close();
      assert.ok(t.shipper.status.shipped <= 5, 'nothing got past the lock: the appends did not wait for it');
    } finally {
      await dba.query('COMMIT');
      await dba.end();
    }
    assert.equal(await t.shipper.drain(30_000), true);
    await t.shipper.stop();
    await assertExactly(url, dir);
  });

  it('two stations and a backfill of the same directory, all at once: every record exactly once', async () => {
    const url = await server().createDatabase('race');
    const dir = await tempDir();
    const a = await makeShipper(url, { dir, station: 'line-1' });
    const b = await makeShipper(url, { dir, station: 'line-2' });
    a.shipper.start();
    b.shipper.start();
    const backfill = new pg.Client({ connectionString: url });
    await backfill.connect();
    const writing = Promise.all([
      station(dir, 'line-1', 300, 1, () => a.shipper.nudge()),
      station(dir, 'line-2', 300, 1, () => b.shipper.nudge()),
    ]);
    // The backfill walks the directory while both stations write and ship it.
    let passes = 0;
    const backfilling = (async () => {
      for (; passes < 3; passes++) {
        await backfillLedger(backfill, dir);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await Promise.all([writing, backfilling]);
    await backfillLedger(backfill, dir);
    await backfill.end();
    assert.equal(await a.shipper.drain(30_000), true);
    assert.equal(await b.shipper.drain(30_000), true);
    await Promise.all([a.shipper.stop(), b.shipper.stop()]);
    assert.equal((await databaseIds(url)).length, 600);
    await assertExactly(url, dir);
  });
});
