/** The test helper itself: a real server, reachable over TCP and the unix socket, that survives stop and crash. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { findPostgresBinaries, PASSWORD_ROLE, usePostgres } from '../support/postgres-server.ts';

describe('PostgreSQL test server', () => {
  const server = usePostgres({ before, after });

  it('is a real server on a TCP port and a unix socket', async () => {
    const s = server();
    const tcp = new pg.Client({ connectionString: s.url() });
    await tcp.connect();
    const { rows } = await tcp.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    await tcp.end();
    assert.match(rows[0].v, new RegExp(`^${s.version}\\.`));
    const local = await s.query<{ one: number }>('SELECT 1 AS one');
    assert.equal(local.rows[0].one, 1);
  });

  it('gives each caller a database of its own', async () => {
    const a = await server().createDatabase('iso');
    const b = await server().createDatabase('iso');
    assert.notEqual(a, b);
    const c = new pg.Client({ connectionString: a });
    await c.connect();
    await c.query('CREATE TABLE t (x int)');
    await c.end();
    const d = new pg.Client({ connectionString: b });
    await d.connect();
    await assert.rejects(d.query('SELECT * FROM t'), /does not exist/);
    await d.end();
  });

  it('asks the password role for its password over TCP', async () => {
    const s = server();
    await s.query(`DROP ROLE IF EXISTS ${PASSWORD_ROLE}`);
    await s.query(`CREATE ROLE ${PASSWORD_ROLE} LOGIN PASSWORD 'right horse'`);
    const as = (password: string) =>
      new pg.Client({ host: '127.0.0.1', port: s.port, user: PASSWORD_ROLE, database: 'postgres', password });
    await assert.rejects(as('battery').connect(), /password authentication failed/);
    const right = as('right horse');
    await right.connect();
    await right.end();
  });

  it('keeps its data across a stop and across a crash', async () => {
    const s = server();
    const url = await s.createDatabase('durable');
    const db = url.slice(url.lastIndexOf('/') + 1);
    await s.query('CREATE TABLE kept (x int); INSERT INTO kept VALUES (1)', [], db);
    await s.stop();
    assert.equal(s.running, false);
    await assert.rejects(new pg.Client({ connectionString: url }).connect(), /ECONNREFUSED/);
    await s.start();
    await s.query('INSERT INTO kept VALUES (2)', [], db);
    await s.crash();
    await s.start();
    const { rows } = await s.query<{ n: string }>('SELECT count(*) AS n FROM kept', [], db);
    assert.equal(rows[0].n, '2');
  });

  it('names the missing package when there is no server', () => {
    assert.throws(
      () => findPostgresBinaries('/nonexistent/postgresql'),
      /no PostgreSQL server found.*setup-test-deps\.sh.*postgresql/s,
    );
  });

  it('removes its directory when closed', async () => {
    // The shared server is closed by the after hook; this checks the directory exists until then.
    assert.ok(existsSync(server().socketDir));
  });
});
