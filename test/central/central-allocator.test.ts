/**
 * The central identity allocator on a real server: two stations drawing from one pool (files from the
 * database), the journal first and the database after, MAC idempotence across stations, and a database that
 * goes away (a TCP proxy refusing and cutting) while a station goes on from its leased block and catches up.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPool } from '../../src/central/identity-pool-admin.ts';
import type { IdentityToLoad } from '../../src/central/identity-pool-admin.ts';
import { returnLeased } from '../../src/central/identity-pool.ts';
import { IdentityIssuer } from '../../src/identity/index.ts';
import type { CentralIdentitySettings } from '../../src/identity/index.ts';
import { CentralAllocator } from '../../src/station/central-allocator.ts';
import { usePostgres } from '../support/postgres-server.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { certText, mac, releaseRegion } from '../identity/identity-fixture.ts';
import { sql, targetOf, tempDir } from './central-fixtures.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function identities(n: number): IdentityToLoad[] {
  return Array.from({ length: n }, (_, i) => {
    const id = `dev-${String(i + 1).padStart(4, '0')}`;
    return {
      id,
      serial: `ACME-${String(i + 1).padStart(6, '0')}`,
      credential: id,
      files: [
        { member: 'client.crt', bytes: Buffer.from(certText(id)) },
        { member: 'client.key', bytes: Buffer.from(`key of ${id}\n`) },
      ],
    };
  });
}

function settings(dir: string, o: Partial<CentralIdentitySettings> = {}): CentralIdentitySettings {
  return {
    partition: 'mfg_nvs',
    serial: { namespace: 'factory_param', key: 'sn' },
    credentials: {
      files: {
        'client.crt': { namespace: 'client_cert', key: 'client_cert.0', type: 'blob' },
        'client.key': { namespace: 'client_key', key: 'client_key.0', type: 'blob' },
      },
    },
    set: [],
    pool: 'line',
    block: 5,
    leaseBelow: 2,
    journal: join(dir, 'identity.jsonl'),
    lot: 'L1',
    lowWater: 1,
    ...o,
  };
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Station {
  allocator: CentralAllocator;
  issuer: IdentityIssuer;
  notices: string[];
}

async function station(
  name: string,
  dir: string,
  url: string,
  o: Partial<CentralIdentitySettings> = {},
): Promise<Station> {
  const notices: string[] = [];
  const s = settings(dir, o);
  const allocator = await CentralAllocator.open({
    settings: s,
    station: name,
    target: targetOf(url),
    onNotice: (level, m) => notices.push(`${level}: ${m}`),
    retryMs: { min: 50, max: 400 },
    lookupTimeoutMs: 1_000,
  });
  return { allocator, issuer: IdentityIssuer.withAllocator(allocator, s, await releaseRegion()), notices };
}

/** One board through the calls the pipeline makes: pass, fail after writing, or fail before. */
async function flash(st: Station, board: string, end: 'pass' | 'burn' | 'release', attempt = 1) {
  const id = await st.issuer.reserve(board, 'slot-1', attempt);
  if (end === 'release') {
    assert.equal(await st.issuer.release(id.reservation, 'no sync'), 'released');
    return id;
  }
  await st.issuer.markWriting(id.reservation);
  if (end === 'pass') await st.issuer.commit(id.reservation);
  else assert.equal(await st.issuer.release(id.reservation, 'verify failed'), 'kept');
  return id;
}

describe('central identity allocator', () => {
  const server = usePostgres({ before, after });

  it('two stations draw distinct identities with their files; the database ends as the journals say', async () => {
    const url = await server().createDatabase('alloc');
    const [dirA, dirB] = [await tempDir('alloc-a-'), await tempDir('alloc-b-')];
    const a = await station('line-a', dirA, url);
    const b = await station('line-b', dirB, url, { block: 4 });
    const loaded = identities(40);
    // Loaded after the stations started: the pool is read when leasing, not at start.
    const { rows } = await import('pg').then(async ({ default: pg }) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return { rows: await loadPool(c, 'line', loaded) };
      } finally {
        await c.end();
      }
    });
    assert.deepEqual(rows, { added: 40, already: 0 });

    const ends = ['pass', 'pass', 'burn', 'pass', 'release', 'pass'] as const;
    const issued = await Promise.all(
      [a, b].flatMap((st, s) =>
        Array.from({ length: 12 }, (_, i) => flash(st, mac(100 * (s + 1) + i), ends[i % ends.length])),
      ),
    );
    // Every board's region carries the database's files for its bundle, and its serial.
    for (const id of issued) {
      const want = loaded.find((l) => l.credential === id.values.credential)!;
      assert.equal(id.values.serial, want.serial);
      const crt = id.values.values.find((v) => v.key === 'client_cert.0')!;
      assert.equal(crt.sha256, sha256(want.files![0].bytes));
    }
    const kept = issued.filter((_, k) => ends[(k % 12) % ends.length] !== 'release');
    assert.equal(new Set(kept.map((i) => i.values.serial)).size, kept.length, 'no serial to two boards');

    await until('both stations caught up', () => a.allocator.unreported() + b.allocator.unreported() === 0);
    const db = await sql<{ mac: string; serial: string; state: string; station: string; written: boolean }>(
      url,
      `SELECT mac, serial, state, station, written_at IS NOT NULL AS written FROM esp_station.identities
        WHERE state IN ('committed', 'burned') ORDER BY mac`,
    );
    const expected = [a, b]
      .flatMap((st, s) =>
        Array.from({ length: 12 }, (_, i) => ({ i, s, st, end: ends[i % ends.length] })).filter(
          (x) => x.end !== 'release',
        ),
      )
      .map((x) => ({
        mac: mac(100 * (x.s + 1) + x.i),
        serial: issued[x.s * 12 + x.i].values.serial as string,
        state: x.end === 'pass' ? 'committed' : 'burned',
        station: x.s === 0 ? 'line-a' : 'line-b',
        written: true,
      }))
      .sort((p, q) => (p.mac < q.mac ? -1 : 1));
    assert.deepEqual(db, expected);

    // A board that passed at line-a and comes to line-b gets the identity the database says it holds.
    const again = await flash(b, mac(100), 'pass');
    assert.equal(again.reused, true);
    assert.equal(again.values.serial, issued[0].values.serial);

    // A burned identity is never issued again, and no operator return gives it back.
    const burned = issued[2].values.serial;
    for (let i = 0; i < 6; i++) {
      const id = await flash(a, mac(300 + i), 'release');
      assert.notEqual(id.values.serial, burned);
    }
    await a.allocator.close();
    await b.allocator.close();
    const journalText = await readFile(join(dirA, 'identity.jsonl'), 'utf8');
    assert.ok(!journalText.includes('key of dev-'), 'the journal keeps hashes, never the files');
    const c = new (await import('pg')).default.Client({ connectionString: url });
    await c.connect();
    try {
      const returned = await returnLeased(c, 'line', 'line-a');
      const left = await c.query(
        `SELECT count(*)::int AS n FROM esp_station.identities WHERE station = 'line-a' AND state = 'leased'`,
      );
      assert.equal(left.rows[0].n, 0, 'unused ones went back');
      assert.ok(returned > 0);
      const burnedRow = await c.query(`SELECT state FROM esp_station.identities WHERE serial = $1`, [burned]);
      assert.equal(burnedRow.rows[0].state, 'burned');
    } finally {
      await c.end();
    }
  });

  it('goes on from its leased block while the database is away, and catches up after', async () => {
    const s = server();
    const url = await s.createDatabase('offline');
    const pg = (await import('pg')).default;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: s.port });
    try {
      const db = url.slice(url.lastIndexOf('/') + 1);
      const viaProxy = `postgres://postgres@127.0.0.1:${proxy.port}/${db}`;
      const dir = await tempDir('alloc-off-');
      let st = await station('line-c', dir, viaProxy, { block: 8, leaseBelow: 3 });
      await loadPool(admin, 'line', identities(30));
      await flash(st, mac(1), 'pass'); // leases a block on demand
      await until('a block', () => st.allocator.status().free === 7);

      proxy.setMode('refuse');
      proxy.cut();
      const offline = [];
      for (let i = 2; i <= 6; i++) offline.push(await flash(st, mac(i), i === 4 ? 'burn' : 'pass'));
      assert.ok(st.allocator.unreported() > 0, 'steps wait for the database');
      await until('the link reported lost', () => st.notices.some((n) => /not reachable/.test(n)));

      // A restart while offline keeps the block (the journal has it) and what is still to report.
      await st.allocator.close();
      st = await station('line-c', dir, viaProxy, { block: 8, leaseBelow: 3 });
      assert.equal(st.allocator.status().free, 2);
      offline.push(await flash(st, mac(7), 'pass'));

      proxy.setMode('pass');
      await until('caught up', () => st.allocator.unreported() === 0);
      const rows = await sql<{ mac: string; state: string }>(
        url,
        `SELECT mac, state FROM esp_station.identities WHERE mac IS NOT NULL ORDER BY mac`,
      );
      assert.deepEqual(
        rows,
        [1, 2, 3, 4, 5, 6, 7].map((i) => ({ mac: mac(i), state: i === 4 ? 'burned' : 'committed' })),
      );
      const serials = offline.map((o) => o.values.serial);
      assert.equal(new Set(serials).size, serials.length);
      await until('a new block', () => (st.allocator.status().free ?? 0) >= 3);
      await st.allocator.close();
      const states = await sql<{ state: string; n: number }>(
        url,
        `SELECT state, count(*)::int AS n FROM esp_station.identities GROUP BY state ORDER BY state`,
      );
      const total = states.reduce((n, r) => n + r.n, 0);
      assert.equal(total, 30, 'none lost');
    } finally {
      await proxy.close();
      await admin.end();
    }
  });
});
