/**
 * A central identity pool through the real CLI: `identity pool load` (a bad row loads nothing), `status`,
 * `return`; and two `esp-station run` processes with simulated boards drawing from one pool at the same time,
 * one of them through a TCP proxy that cuts the database away mid-run: every PASS board has its own serial
 * and bundle, the database says committed for each, and the ledgers agree with it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import { usePostgres } from '../support/postgres-server.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { REAL_AT_DIR } from '../firmware/fixture-paths.ts';
import { makeBundleFolder } from '../identity/identity-fixture.ts';
import { sql, tempDir } from './central-fixtures.ts';

const REPO = resolve(import.meta.dirname, '../..');

function cli(args: string[], opts: { onStdout?: (chunk: string) => void; cwd?: string } = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const p = spawn(process.execPath, [join(REPO, 'bin/esp-station.mjs'), ...args], {
      cwd: opts.cwd ?? REPO,
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      opts.onStdout?.(c.toString());
    });
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const kill = setTimeout(() => p.kill('SIGKILL'), 150_000);
    p.on('close', (code) => {
      clearTimeout(kill);
      done({ code, stdout, stderr });
    });
  });
}

/** n bundles with a serial each, as a CSV beside them. */
async function poolCsv(dir: string, n: number): Promise<string> {
  await makeBundleFolder(join(dir, 'bundles'), n);
  const lines = ['id,serial,client.crt,client.key'];
  for (let i = 1; i <= n; i++) {
    const id = `dev-${String(i).padStart(4, '0')}`;
    lines.push(`${id},ACME-${String(i).padStart(6, '0')},bundles/${id}/client.crt,bundles/${id}/client.key`);
  }
  const file = join(dir, 'pool.csv');
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

async function profile(dir: string, block: number): Promise<string> {
  const file = join(dir, 'profile.yaml');
  await writeFile(
    file,
    [
      'name: central-at',
      'chip: esp32',
      'imageSet:',
      `  folder: ${REAL_AT_DIR}`,
      'flash: { size: 4MB }',
      'identity:',
      `  central: { pool: line, block: ${block}, leaseBelow: ${block - 2} }`,
      '  lowWater: 0',
      '  serial: { namespace: factory_param, key: sn }',
      '  credentials:',
      '    files:',
      '      client.crt: { namespace: client_cert, key: client_cert.0 }',
      '      client.key: { namespace: client_key, key: client_key.0 }',
      '',
    ].join('\n'),
  );
  return file;
}

async function stationConfig(dir: string, name: string, profileFile: string, url?: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'config.yaml');
  await writeFile(
    file,
    [
      `station: ${name}`,
      `profile: ${profileFile}`,
      `ledger: { dir: ${join(dir, 'ledger')} }`,
      ...(url ? ['central:', `  url: ${url}`, '  drainSeconds: 20'] : []),
      '',
    ].join('\n'),
  );
  return file;
}

async function ledger(dir: string): Promise<LedgerRecord[]> {
  const out: LedgerRecord[] = [];
  for (const name of (await readdir(join(dir, 'ledger'))).filter((n) => n.endsWith('.jsonl'))) {
    for (const line of (await readFile(join(dir, 'ledger', name), 'utf8')).split('\n'))
      if (line.trim()) out.push(JSON.parse(line) as LedgerRecord);
  }
  return out;
}

const runArgs = (config: string, boards: number, seed: number) => [
  'run',
  '--config',
  config,
  '--headless',
  '--simulate',
  String(boards),
  '--timing',
  'fast',
  '--seed',
  String(seed),
  '--once',
];

describe('a central identity pool through the CLI and two running stations', () => {
  const server = usePostgres({ before, after });

  it('identity pool load / status / return', async () => {
    const url = await server().createDatabase('poolcli');
    const dir = await tempDir('poolcli-');
    const csv = await poolCsv(dir, 6);

    // A bad row: nothing of the file is loaded.
    const bad = join(dir, 'bad.csv');
    await writeFile(
      bad,
      (await readFile(csv, 'utf8')) + 'dev-0001,ACME-000099,bundles/dev-0001/client.crt,nowhere.key\n',
    );
    const refused = await cli(['identity', 'pool', 'load', '--db', url, '--pool', 'line', '--csv', bad]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, new RegExp(`${bad}:8: id dev-0001 is also on line 2`));
    assert.match(
      refused.stderr,
      new RegExp(`${bad}:8: client.key: .*nowhere.key cannot be read \\(ENOENT\\)`),
    );
    const none = await cli(['identity', 'pool', 'status', '--db', url]);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /no identity pools/);

    const load = await cli(['identity', 'pool', 'load', '--db', url, '--pool', 'line', '--csv', csv]);
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /pool line: 6 identities added/);
    const again = await cli(['identity', 'pool', 'load', '--db', url, '--pool', 'line', '--csv', csv]);
    assert.match(again.stdout, /0 identities added, 6 already there/);
    const files = await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM esp_station.identity_files`);
    assert.equal(files[0].n, 12);

    // A folder of bundles into a second pool; an id the pool holds with other content is refused.
    await makeBundleFolder(join(dir, 'more'), 3, 7);
    const folder = await cli([
      'identity',
      'pool',
      'load',
      '--db',
      url,
      '--pool',
      'certs',
      '--folder',
      join(dir, 'more'),
    ]);
    assert.equal(folder.code, 0, folder.stderr);
    await writeFile(join(dir, 'more', 'dev-0007', 'client.key'), 'another key\n');
    const changed = await cli([
      'identity',
      'pool',
      'load',
      '--db',
      url,
      '--pool',
      'certs',
      '--folder',
      join(dir, 'more'),
    ]);
    assert.equal(changed.code, 2);
    assert.match(changed.stderr, /already holds identity dev-0007 with another .*nothing was loaded/);

    // A station leases 4, writes one to a board and dies; return gives back the 3 unused, never the written one.
    await sql(
      url,
      `INSERT INTO esp_station.identity_leases (pool, station, size) VALUES ('line', 'line-9', 4)`,
    );
    await sql(
      url,
      `UPDATE esp_station.identities SET state = 'leased', station = 'line-9', lease_id = 1 WHERE pool = 'line' AND seq <= 4`,
    );
    await sql(url, `UPDATE esp_station.identities SET written_at = now() WHERE pool = 'line' AND seq = 2`);
    const status = await cli(['identity', 'pool', 'status', '--db', url, '--pool', 'line']);
    assert.match(status.stdout, /pool line: 6 in all, 2 free, 4 leased, 0 committed, 0 burned/);
    assert.match(status.stdout, /line-9\s+3 unused\s+1 written, not reported/);
    const ret = await cli(['identity', 'pool', 'return', '--db', url, '--station', 'line-9']);
    assert.equal(ret.code, 0, ret.stderr);
    assert.match(ret.stdout, /pool line: 3 unused identities of station line-9 back in the pool; 1 written/);
    const rows = await sql<{ seq: string; state: string }>(
      url,
      `SELECT seq, state FROM esp_station.identities WHERE pool = 'line' AND seq <= 4 ORDER BY seq`,
    );
    assert.deepEqual(
      rows.map((r) => r.state),
      ['free', 'leased', 'free', 'free'],
    );
  });

  it('refuses to start a central pool without a database; two stations share one pool, one through an outage', async () => {
    const s = server();
    const url = await s.createDatabase('poolrun');
    const dir = await tempDir('poolrun-');
    const profileFile = await profile(dir, 8);

    const noDb = await stationConfig(join(dir, 'nodb'), 'line-x', profileFile);
    const refused = await cli(runArgs(noDb, 1, 1), { cwd: join(dir, 'nodb') });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(`${profileFile}:7:\\d+: identity.central: .*no central: database`),
    );

    const csv = await poolCsv(dir, 40);
    assert.equal(
      (await cli(['identity', 'pool', 'load', '--db', url, '--pool', 'line', '--csv', csv])).code,
      0,
    );

    const proxy = await startTcpProxy({ host: '127.0.0.1', port: s.port });
    try {
      const db = url.slice(url.lastIndexOf('/') + 1);
      const a = await stationConfig(join(dir, 'a'), 'line-a', profileFile, url);
      const b = await stationConfig(
        join(dir, 'b'),
        'line-b',
        profileFile,
        `postgres://postgres@127.0.0.1:${proxy.port}/${db}`,
      );
      // line-b loses its database after its third result and gets it back after its fourth.
      let results = 0;
      const onB = (chunk: string) => {
        for (const line of chunk.split('\n')) {
          if (!line.includes('"type":"result"')) continue;
          results++;
          if (results === 3) {
            proxy.setMode('refuse');
            proxy.cut();
          }
          if (results === 4) proxy.setMode('pass');
        }
      };
      const [ra, rb] = await Promise.all([
        // Each in its own folder: its identity journal is var/identity/ there, as on its own machine.
        cli(runArgs(a, 10, 21), { cwd: join(dir, 'a') }),
        cli(runArgs(b, 10, 22), { onStdout: onB, cwd: join(dir, 'b') }),
      ]);
      assert.equal(ra.code, 0, ra.stderr);
      assert.equal(rb.code, 0, rb.stderr + rb.stdout.slice(-3000));
      assert.match(rb.stderr, /identity pool line: database not reachable/);

      const records = [...(await ledger(join(dir, 'a'))), ...(await ledger(join(dir, 'b')))];
      const passed = records.filter((r) => r.result === 'pass');
      assert.ok(passed.length >= 16, `most boards pass (${passed.length} of 20)`);
      const serials = passed.map((r) => r.identity?.serial);
      const bundles = passed.map((r) => r.identity?.credential);
      assert.ok(serials.every((x) => x !== undefined) && bundles.every((x) => x !== undefined));
      assert.equal(new Set(serials).size, passed.length, 'a serial on one board only');
      assert.equal(new Set(bundles).size, passed.length, 'a bundle on one board only');

      // Caught up: the database says committed for every PASS board, with its MAC and serial; nothing else is.
      const rows = await sql<{ mac: string; serial: string; station: string }>(
        url,
        `SELECT mac, serial, station FROM esp_station.identities WHERE pool = 'line' AND state = 'committed' ORDER BY mac`,
      );
      assert.deepEqual(
        rows,
        passed
          .map((r) => ({ mac: r.mac!, serial: r.identity!.serial!, station: r.station }))
          .sort((p, q) => (p.mac < q.mac ? -1 : 1)),
      );
      const states = await sql<{ state: string; n: number }>(
        url,
        `SELECT state, count(*)::int AS n FROM esp_station.identities WHERE pool = 'line' GROUP BY state`,
      );
      assert.equal(
        states.reduce((n, r) => n + r.n, 0),
        40,
        'none lost',
      );
      // The ledgers reached the database too: rows equal ledger lines.
      const shipped = await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM esp_station.records`);
      assert.equal(shipped[0].n, records.length);
    } finally {
      await proxy.close();
    }
  });
});
