/**
 * `esp-station run` with a central database, as a factory runs it: simulated boards, headless, --once. The
 * records reach PostgreSQL (logged in with a password from the environment that appears nowhere), link state
 * and lag are events, and a station whose database is away flashes on and ships its backlog later.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StationEvent } from '../../src/station/events.ts';
import { PASSWORD_ROLE, usePostgres } from '../support/postgres-server.ts';
import type { PostgresServer } from '../support/postgres-server.ts';
import { databaseIds, ledgerIds, sql, tempDir } from './central-fixtures.ts';

const REPO = resolve(import.meta.dirname, '../..');
const SECRET = 'correct-horse-7f3a91';

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const p = spawn(process.execPath, [join(REPO, 'bin/esp-station.mjs'), ...args], {
      cwd: REPO,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const kill = setTimeout(() => p.kill('SIGKILL'), 100_000);
    p.on('close', (code) => {
      clearTimeout(kill);
      done({ code, stdout, stderr });
    });
  });
}

async function stationConfig(dir: string, url: string, extra = ''): Promise<string> {
  const file = join(dir, 'config.yaml');
  await writeFile(
    file,
    [
      'station: line-1',
      `profile: ${join(REPO, 'stations/demo-esp32-at.yaml')}`,
      `ledger: { dir: ${join(dir, 'ledger')} }`,
      'central:',
      `  url: ${url}`,
      '  passwordEnv: ESP_TEST_DB_PASSWORD',
      '  drainSeconds: 20',
      extra,
    ].join('\n'),
  );
  return file;
}

const simulate = (config: string, boards: number, seed: number) => [
  'run',
  '--config',
  config,
  '--headless',
  '--simulate',
  String(boards),
  '--timing',
  'fast',
  '--faults',
  'no-sync:0.2',
  '--seed',
  String(seed),
  '--once',
];

function events(stdout: string): StationEvent[] {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as StationEvent);
}

async function everyFileText(dir: string): Promise<string> {
  let text = '';
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) text += await readFile(join(e.parentPath, e.name), 'utf8');
  }
  return text;
}

async function passwordRole(s: PostgresServer): Promise<void> {
  const { rows } = await s.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [PASSWORD_ROLE]);
  if (rows.length === 0) await s.query(`CREATE ROLE ${PASSWORD_ROLE} LOGIN`);
  await s.query(`ALTER ROLE ${PASSWORD_ROLE} PASSWORD '${SECRET}'`);
}

describe('esp-station run with a central database', () => {
  const server = usePostgres({ before, after });

  it('ships every record with --once, shows the link in the events, and never reveals the password', async () => {
    const s = server();
    const url = await s.createDatabase('run');
    const db = url.slice(url.lastIndexOf('/') + 1);
    await passwordRole(s);
    await s.query(`GRANT ALL ON DATABASE ${db} TO ${PASSWORD_ROLE}`);
    await s.query(`ALTER DATABASE ${db} OWNER TO ${PASSWORD_ROLE}`);
    const dir = await tempDir('central-run-');
    const config = await stationConfig(dir, s.url(db, PASSWORD_ROLE));

    const r = await run(simulate(config, 12, 11), { ESP_TEST_DB_PASSWORD: SECRET });
    assert.equal(r.code, 0, r.stderr);
    const central = events(r.stdout).filter((e) => e.type === 'central');
    assert.ok(
      central.some((e) => e.link === 'online'),
      JSON.stringify(central),
    );
    assert.equal(central.at(-1)?.link, 'stopped');
    assert.equal(central.at(-1)?.lagRecords, 0);
    const ids = await ledgerIds(join(dir, 'ledger'));
    assert.equal(ids.length, 12);
    assert.deepEqual(await databaseIds(url), [...ids].sort());
    const [station] = await sql<{ version: string; link: string }>(
      url,
      `SELECT version, link FROM esp_station.stations WHERE station = 'line-1'`,
    );
    assert.deepEqual(station, {
      version: JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')).version,
      link: 'stopped',
    });

    // The secret is nowhere: output, events, ledger, outbox position, database rows.
    const rows = await sql<{ t: string }>(
      url,
      `SELECT string_agg(record::text, '') AS t FROM esp_station.records`,
    );
    for (const [where, text] of [
      ['stdout', r.stdout],
      ['stderr', r.stderr],
      ['ledger dir', await everyFileText(join(dir, 'ledger'))],
      ['config dir', await everyFileText(dir)],
      ['records', rows[0].t],
    ]) {
      assert.ok(!text.includes(SECRET), `the password appears in ${where}`);
    }
  });

  it('a wrong password is an offline link with a clear reason; flashing goes on', async () => {
    const s = server();
    const url = await s.createDatabase('wrongpw');
    const db = url.slice(url.lastIndexOf('/') + 1);
    await passwordRole(s);
    const dir = await tempDir('central-wrongpw-');
    const config = await stationConfig(dir, s.url(db, PASSWORD_ROLE), '');
    const r = await run(simulate(config, 4, 12), { ESP_TEST_DB_PASSWORD: 'not-the-password-123' });
    assert.equal(r.code, 0, r.stderr);
    const offline = events(r.stdout).find((e) => e.type === 'central' && e.link === 'offline');
    assert.match(
      (offline as { message?: string } | undefined)?.message ?? '',
      /password authentication failed.*passwordEnv/,
    );
    assert.equal((await ledgerIds(join(dir, 'ledger'))).length, 4);
    assert.match(r.stderr, /4 record\(s\) not yet in the central database; they stay in the ledger/);
    assert.ok(!r.stdout.includes('not-the-password-123') && !r.stderr.includes('not-the-password-123'));
  });

  it('flashes on while the database is down at start, and ships the backlog on the next run', async () => {
    const s = server();
    const url = await s.createDatabase('down');
    const dir = await tempDir('central-down-');
    const down = await stationConfig(dir, url.replace(/:\d+\//, ':1/'));
    // The config names a password variable; the trust rule lets the superuser in whatever it holds.
    const env = { ESP_TEST_DB_PASSWORD: 'unused' };
    const first = await run(simulate(down, 6, 13), env);
    assert.equal(first.code, 0, first.stderr);
    const offline = events(first.stdout).filter((e) => e.type === 'central' && e.link === 'offline');
    assert.ok(offline.length > 0);
    assert.match((offline[0] as { message?: string }).message ?? '', /connection refused/);
    assert.ok(
      offline.some((e) => e.type === 'central' && e.lagRecords > 0),
      'the backlog is counted',
    );
    assert.equal((await ledgerIds(join(dir, 'ledger'))).length, 6);
    assert.deepEqual(await sql(url, `SELECT to_regclass('esp_station.records') AS t`), [{ t: null }]);

    // Same station, database back: a run with no boards ships the backlog before it exits.
    const up = await stationConfig(dir, url);
    const second = await run(simulate(up, 0, 14), env);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(await databaseIds(url), (await ledgerIds(join(dir, 'ledger'))).sort());
  });
});
