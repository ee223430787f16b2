/**
 * Central identity pools on a real server: stations racing for one pool never get the same identity, a board
 * never holds two, an identity never reaches two boards, and a station keeps its block through an outage.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  addIdentities,
  identityOfBoard,
  leaseBlock,
  leasedTo,
  poolCounts,
  reportOutcome,
  returnLeased,
} from '../../src/central/identity-pool.ts';
import type { LeasedIdentity, PoolIdentity } from '../../src/central/identity-pool.ts';
import { migrate } from '../../src/central/migrations.ts';
import { mac } from '../ledger/record-builder.ts';
import { usePostgres } from '../support/postgres-server.ts';

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

function serials(n: number, from = 1): PoolIdentity[] {
  return Array.from({ length: n }, (_, i) => {
    const seq = from + i;
    return { id: `SN-${String(seq).padStart(6, '0')}`, seq, serial: `SN-${String(seq).padStart(6, '0')}` };
  });
}

describe('central identity pools', () => {
  const server = usePostgres({ before, after });

  async function database(name: string): Promise<{ url: string; admin: pg.Client }> {
    const url = await server().createDatabase(name);
    const admin = await connect(url);
    await migrate(admin);
    return { url, admin };
  }

  it('loads a pool once and leases lowest first', async () => {
    const { admin } = await database('load');
    try {
      assert.equal(await addIdentities(admin, 'serials', serials(20)), 20);
      assert.equal(await addIdentities(admin, 'serials', serials(25)), 5);
      const block = await leaseBlock(admin, 'serials', 'line-1', 8);
      assert.deepEqual(
        block.map((i) => i.seq),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
      assert.deepEqual(await poolCounts(admin, 'serials'), {
        total: 25,
        free: 17,
        leased: 8,
        committed: 0,
        burned: 0,
      });
      const rest = await leaseBlock(admin, 'serials', 'line-2', 100);
      assert.equal(rest.length, 17);
      assert.deepEqual(await leaseBlock(admin, 'serials', 'line-3', 5), [], 'an empty pool leases nothing');
    } finally {
      await admin.end();
    }
  });

  it('two stations racing for one pool never lease the same identity', async () => {
    const { url, admin } = await database('race');
    const a = await connect(url);
    const b = await connect(url);
    try {
      await addIdentities(admin, 'serials', serials(1_000));
      const got = new Map<string, LeasedIdentity[]>([
        ['line-1', []],
        ['line-2', []],
      ]);
      const run = async (client: pg.Client, station: string) => {
        for (;;) {
          const block = await leaseBlock(client, 'serials', station, 7);
          if (block.length === 0) return;
          got.get(station)?.push(...block);
        }
      };
      await Promise.all([run(a, 'line-1'), run(b, 'line-2'), run(a, 'line-1').catch(() => undefined)]);
      const all = [...got.values()].flat().map((i) => i.id);
      assert.equal(all.length, 1_000, 'every identity leased');
      assert.equal(new Set(all).size, 1_000, 'none leased twice');
      assert.ok(got.get('line-1')!.length > 0 && got.get('line-2')!.length > 0, 'both stations got some');
      const { rows } = await admin.query<{ station: string; n: string }>(
        `SELECT station, count(*) AS n FROM esp_station.identities GROUP BY station ORDER BY station`,
      );
      assert.deepEqual(
        rows.map((r) => [r.station, Number(r.n)]),
        [...got].map(([s, l]) => [s, l.length]).sort(),
      );
    } finally {
      await Promise.all([a.end(), b.end(), admin.end()]);
    }
  });

  it('no identity to two boards, no board with two identities, even when stations race to commit', async () => {
    const { url, admin } = await database('commit');
    const a = await connect(url);
    const b = await connect(url);
    try {
      await addIdentities(admin, 'serials', serials(100));
      const blockA = await leaseBlock(a, 'serials', 'line-1', 40);
      const blockB = await leaseBlock(b, 'serials', 'line-2', 40);
      // The same 40 boards reach both stations at once (a board moved while a station was offline).
      // Each station reports its boards one after the other; the two stations run at the same time.
      const commitAll = async (client: pg.Client, station: string, block: LeasedIdentity[]) => {
        const out = [];
        for (const [k, id] of block.entries()) {
          out.push(
            await reportOutcome(client, {
              pool: 'serials',
              id: id.id,
              station,
              mac: mac(k + 1),
              outcome: 'committed',
            }),
          );
        }
        return out;
      };
      const [resultsA, resultsB] = await Promise.all([
        commitAll(a, 'line-1', blockA),
        commitAll(b, 'line-2', blockB),
      ]);
      const results = resultsA.flatMap((r, k) => [r, resultsB[k]]);
      for (let k = 0; k < 40; k++) {
        const pair = [results[2 * k], results[2 * k + 1]];
        assert.equal(pair.filter((r) => r.ok).length, 1, `board ${k + 1}: exactly one identity`);
        const refused = pair.find((r) => !r.ok);
        assert.equal(refused && !refused.ok && refused.reason, 'board-has-another');
      }
      const { rows } = await admin.query<{ macs: string; boards: string }>(
        `SELECT count(mac) AS macs, count(DISTINCT mac) AS boards FROM esp_station.identities`,
      );
      assert.deepEqual(rows[0], { macs: '40', boards: '40' });

      // An identity committed to one board cannot be reported for another, by any station.
      const [first] = blockA;
      const holder = await identityOfBoard(admin, 'serials', mac(1));
      const taken = holder!.id;
      for (const [client, station] of [
        [a, 'line-1'],
        [b, 'line-2'],
      ] as const) {
        const r = await reportOutcome(client, {
          pool: 'serials',
          id: taken,
          station,
          mac: mac(99),
          outcome: 'burned',
        });
        assert.equal(r.ok, false);
        assert.equal(!r.ok && r.reason, 'given-to-another-board');
      }
      // Idempotent: the same report again changes nothing.
      const again = await reportOutcome(a, {
        pool: 'serials',
        id: first.id,
        station: 'line-1',
        mac: mac(1),
        outcome: 'committed',
      });
      assert.deepEqual(again, holder!.id === first.id ? { ok: true, already: true } : again);
    } finally {
      await Promise.all([a.end(), b.end(), admin.end()]);
    }
  });

  it('a burned identity stays with its board: a retest at another station commits the same one', async () => {
    const { admin } = await database('burn');
    try {
      await addIdentities(admin, 'serials', serials(10));
      const [x] = await leaseBlock(admin, 'serials', 'line-1', 1);
      assert.deepEqual(
        await reportOutcome(admin, {
          pool: 'serials',
          id: x.id,
          station: 'line-1',
          mac: mac(5),
          outcome: 'burned',
        }),
        { ok: true, already: false },
      );
      const found = await identityOfBoard(admin, 'serials', mac(5).toLowerCase());
      assert.equal(found?.id, x.id);
      assert.equal(found?.state, 'burned');
      assert.deepEqual(
        await reportOutcome(admin, {
          pool: 'serials',
          id: x.id,
          station: 'rework',
          mac: mac(5),
          outcome: 'committed',
        }),
        { ok: true, already: false },
      );
      assert.deepEqual(await poolCounts(admin, 'serials'), {
        total: 10,
        free: 9,
        leased: 0,
        committed: 1,
        burned: 0,
      });
      // Burned or committed is never returned to the pool.
      assert.equal(await returnLeased(admin, 'serials', 'line-1'), 0);
    } finally {
      await admin.end();
    }
  });

  it('a station keeps its leased block through a database outage and reports it afterwards', async () => {
    const s = server();
    const { url, admin } = await database('outage');
    await addIdentities(admin, 'serials', serials(30));
    await admin.end();
    const station = await connect(url);
    const block = await leaseBlock(station, 'serials', 'line-1', 10);
    await s.crash();
    // Offline: the station flashes boards from its block (its local journal holds the outcomes).
    await assert.rejects(leaseBlock(station, 'serials', 'line-1', 1));
    await s.start();
    const back = await connect(url);
    try {
      assert.deepEqual(
        (await leasedTo(back, 'serials', 'line-1')).map((i) => i.id),
        block.map((i) => i.id),
        'the block is still the station’s',
      );
      const other = await leaseBlock(back, 'serials', 'line-2', 100);
      assert.equal(other.length, 20, 'nobody else got it meanwhile');
      for (const [k, id] of block.slice(0, 6).entries()) {
        const r = await reportOutcome(back, {
          pool: 'serials',
          id: id.id,
          station: 'line-1',
          mac: mac(k + 1),
          outcome: k === 5 ? 'burned' : 'committed',
        });
        assert.ok(r.ok);
      }
      // The station is retired: an operator gives its unused identities back.
      assert.equal(await returnLeased(back, 'serials', 'line-1'), 4);
      assert.deepEqual(await poolCounts(back, 'serials'), {
        total: 30,
        free: 4,
        leased: 20,
        committed: 5,
        burned: 1,
      });
    } finally {
      await back.end();
      await station.end().catch(() => undefined);
    }
  });
});
