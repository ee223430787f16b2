/** Versioned migrations on a real server: once each, all-or-nothing, safe when stations start together. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  LATEST_SCHEMA_VERSION,
  migrate,
  MIGRATIONS,
  schemaStatus,
  SchemaTooNewError,
} from '../../src/central/migrations.ts';
import { usePostgres } from '../support/postgres-server.ts';

const REPO = resolve(import.meta.dirname, '../..');
const cli = (args: string[]) =>
  spawnSync(process.execPath, [join(REPO, 'bin/esp-station.mjs'), ...args], { cwd: REPO, encoding: 'utf8' });

async function client(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

describe('schema migrations', () => {
  const server = usePostgres({ before, after });

  it('applies every migration once and reports the status', async () => {
    const c = await client(await server().createDatabase('mig'));
    try {
      assert.deepEqual(await schemaStatus(c), { version: 0, applied: [], pending: [...MIGRATIONS] });
      const applied = await migrate(c, 'test');
      assert.deepEqual(
        applied.map((m) => m.version),
        MIGRATIONS.map((m) => m.version),
      );
      const status = await schemaStatus(c);
      assert.equal(status.version, LATEST_SCHEMA_VERSION);
      assert.deepEqual(status.pending, []);
      assert.equal(status.applied[0].appliedBy, 'test');
      assert.deepEqual(await migrate(c), []);
      const tables = await c.query<{ t: string }>(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'esp_station' ORDER BY 1`,
      );
      for (const t of ['records', 'schema_migrations', 'stations', 'board_status', 'station_status']) {
        assert.ok(
          tables.rows.some((r) => r.t === t),
          `${t} exists`,
        );
      }
    } finally {
      await c.end();
    }
  });

  it('lets stations that start together migrate once', async () => {
    const url = await server().createDatabase('race');
    const clients = await Promise.all(Array.from({ length: 4 }, () => client(url)));
    try {
      const results = await Promise.all(clients.map((c, i) => migrate(c, `station-${i}`)));
      assert.equal(results.filter((r) => r.length > 0).length, 1);
      const { rows } = await clients[0].query('SELECT version FROM esp_station.schema_migrations');
      assert.equal(rows.length, MIGRATIONS.length);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('refuses a schema newer than it knows, and leaves it alone', async () => {
    const c = await client(await server().createDatabase('newer'));
    try {
      await migrate(c);
      await c.query(
        `INSERT INTO esp_station.schema_migrations (version, name, applied_by) VALUES ($1, 'from the future', 'x')`,
        [LATEST_SCHEMA_VERSION + 1],
      );
      await assert.rejects(migrate(c), (err: unknown) => {
        assert.ok(err instanceof SchemaTooNewError);
        assert.match(err.message, /newer than this esp-station knows.*update esp-station/);
        return true;
      });
    } finally {
      await c.end();
    }
  });

  it('rolls a failed migration back completely', async () => {
    const c = await client(await server().createDatabase('fail'));
    try {
      // A table in the way makes version 1 fail half-way: nothing of it may remain.
      await c.query('CREATE SCHEMA esp_station; CREATE TABLE esp_station.stations (x int)');
      await assert.rejects(migrate(c), /already exists/);
      const { rows } = await c.query<{ t: string | null }>(
        `SELECT to_regclass('esp_station.records')::text AS t, to_regclass('esp_station.schema_migrations')::text AS m`,
      );
      assert.deepEqual(rows[0], { t: null, m: null });
    } finally {
      await c.end();
    }
  });

  it('esp-station db status and db migrate', async () => {
    const url = await server().createDatabase('cli');
    let r = cli(['db', 'status', '--db', url]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stdout,
      /schema {4}version 0 of \d+ \(\d+ migration\(s\) pending: run esp-station db migrate\)/,
    );
    r = cli(['db', 'migrate', '--db', url]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /applied migration 1 \(records and stations\)\n.*applied migration 2 \(identity pools\)/,
    );
    r = cli(['db', 'migrate', '--db', url]);
    assert.match(r.stdout, /schema already at version/);
    r = cli(['db', 'status', '--db', url]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /\(up to date\)\n\s+1 {2}records and stations .* esp-station db migrate\n(.*\n)*stations {2}0/,
    );
    r = cli(['db', 'frobnicate', '--db', url]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown action 'frobnicate'; use migrate or status/);
    r = cli(['db', 'status', '--db', url.replace(/:\d+\//, ':1/')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /connection refused/);
  });
});
