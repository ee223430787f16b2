/**
 * Central database bench: 4 stations × 2,000 simulated records shipping to one PostgreSQL (a real server,
 * started here as the tests do). Each station is its own process writing its ledger at full speed (one fsync
 * per record) while its shipper follows.
 *   1. live: the database is up the whole time — lag while writing, time to the last row, rows/s;
 *   2. outage: the database is down while the stations write, then comes back — catch-up rows/s;
 *   3. backfill: `ledger ship` of all four ledgers into an empty database — rows/s;
 * and each time the database's rows equal the ledgers' lines (none lost, none twice). Targets (issue #15): rows
 * equal lines in every phase, and while live the lag stays bounded (a station's last row in the database within
 * LAG_TARGET_S of its last append, and never more than LAG_TARGET_S behind). Each target ends the output as one
 * `target\t<figure>\t<value>\t<target>\t<met>` line, which bench/run.ts counts.
 *   npm run bench -- --only central      or      node --import tsx bench/central.ts [stations] [records]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { backfillLedger } from '../src/central/backfill.ts';
import { startPostgres } from '../test/support/postgres-server.ts';
import type { PostgresServer } from '../test/support/postgres-server.ts';

const STATIONS = Number(process.argv[2] ?? 4);
const RECORDS = Number(process.argv[3] ?? 2_000);

interface StationResult {
  station: string;
  records: number;
  writtenMs: number;
  shippedMs: number;
  maxLagRecords: number;
  maxLagSeconds: number;
  shipped: number;
}

function station(url: string, dir: string, name: string, seed: number, onWritten: () => void) {
  return new Promise<StationResult>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/central-station-child.ts', url, dir, name, String(RECORDS), String(seed)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^WRITTEN /m.test(out)) onWritten();
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) resolve(JSON.parse(line.slice(7)) as StationResult);
      else reject(new Error(`${name} exited ${code}: ${out.slice(-600)}`));
    });
  });
}

async function ledgerLines(dir: string): Promise<string[]> {
  const ids: string[] = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.jsonl'))) {
    for (const line of (await readFile(join(dir, name), 'utf8')).split('\n')) {
      if (line) ids.push((JSON.parse(line) as { id: string }).id);
    }
  }
  return ids.sort();
}

/** The live lag a factory accepts: the MES sees a record within seconds, not minutes. */
const LAG_TARGET_S = 5;
const targets: { figure: string; value: number; target: string; met: boolean }[] = [];

async function rowsEqualLines(url: string, dir: string, phase = 'live'): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const { rows } = await c.query<{ id: string }>('SELECT id FROM esp_station.records ORDER BY id');
  await c.end();
  const lines = await ledgerLines(dir);
  const db = rows.map((r) => r.id);
  const same = db.length === lines.length && db.every((id, i) => id === lines[i]);
  targets.push({
    figure: `${phase}: database rows = ledger lines`,
    value: same ? 1 : 0,
    target: 'equal',
    met: same,
  });
  return `${db.length} rows, ${lines.length} ledger lines, ${new Set(db).size} distinct ids: ${same ? 'equal' : 'DIFFERENT'}`;
}

const f1 = (x: number) => x.toFixed(1);

async function run(server: PostgresServer, phase: 'live' | 'outage', root: string): Promise<void> {
  const url = await server.createDatabase(phase);
  const dir = join(root, phase);
  const names = Array.from({ length: STATIONS }, (_, i) => `line-${i + 1}`);
  let written = 0;
  let allWritten!: () => void;
  const writtenAll = new Promise<void>((r) => (allWritten = r));
  if (phase === 'outage') await server.stop();
  const results = Promise.all(
    names.map((n, i) =>
      station(url, dir, n, i + 1, () => {
        if (++written === STATIONS) allWritten();
      }),
    ),
  );
  await writtenAll;
  const writtenAt = performance.now();
  if (phase === 'outage') await server.start();
  const r = await results;
  const doneAt = performance.now();
  const total = STATIONS * RECORDS;
  console.log(
    `\n${phase === 'live' ? '1. Live' : '2. Outage, then catch-up'}: ${STATIONS} stations × ${RECORDS} records`,
  );
  for (const s of r) {
    console.log(
      `  ${s.station}: ledger ${f1(s.records / (s.writtenMs / 1000))} records/s, last row in the database ` +
        `${f1((s.shippedMs - s.writtenMs) / 1000)} s after the last append, max lag ${s.maxLagRecords} records / ` +
        `${s.maxLagSeconds} s, ${s.shipped} rows added`,
    );
  }
  const sum = (f: (x: StationResult) => number) => r.reduce((a, x) => a + f(x), 0);
  if (phase === 'live') {
    console.log(
      `  together: ${f1(sum((x) => x.records / (x.writtenMs / 1000)))} records/s into the ledgers, ` +
        `${f1(sum((x) => x.records / (x.shippedMs / 1000)))} rows/s into the database; last row at most ` +
        `${f1(Math.max(...r.map((x) => x.shippedMs - x.writtenMs)) / 1000)} s after a station's last append; ` +
        `max lag ${Math.max(...r.map((x) => x.maxLagRecords))} records / ${Math.max(...r.map((x) => x.maxLagSeconds))} s`,
    );
    const lastRow = Math.max(...r.map((x) => x.shippedMs - x.writtenMs)) / 1000;
    const maxLag = Math.max(...r.map((x) => x.maxLagSeconds));
    targets.push({
      figure: 'live: last row after the last append, s',
      value: lastRow,
      target: `<= ${LAG_TARGET_S}`,
      met: lastRow <= LAG_TARGET_S,
    });
    targets.push({
      figure: 'live: max lag, s',
      value: maxLag,
      target: `<= ${LAG_TARGET_S}`,
      met: maxLag <= LAG_TARGET_S,
    });
  } else {
    console.log(
      `  backlog of ${total} records shipped ${f1((doneAt - writtenAt) / 1000)} s after the database came back ` +
        `(${f1(total / ((doneAt - writtenAt) / 1000))} rows/s, including reconnect backoff up to 1 s)`,
    );
  }
  console.log(`  database vs ledgers: ${await rowsEqualLines(url, dir, phase)}`);
}

const server = await startPostgres();
const root = await mkdtemp(join(tmpdir(), 'central-bench-'));
try {
  console.log(
    `PostgreSQL ${server.version}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  await run(server, 'live', root);
  await run(server, 'outage', root);
  const url = await server.createDatabase('backfill');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const t = performance.now();
  const result = await backfillLedger(c, join(root, 'live'));
  const seconds = (performance.now() - t) / 1000;
  await c.end();
  console.log(
    `\n3. Backfill (ledger ship) of the live phase's ledgers into an empty database: ${result.added} rows in ` +
      `${f1(seconds)} s, ${f1(result.added / seconds)} rows/s`,
  );
  console.log(`  database vs ledgers: ${await rowsEqualLines(url, join(root, 'live'), 'backfill')}`);
  console.log(
    `load at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`\nTargets: ${targets.filter((t) => t.met).length} of ${targets.length} met`);
  for (const t of targets)
    console.log(`target\t${t.figure}\t${t.value}\t${t.target}\t${t.met ? 'met' : 'NOT MET'}`);
} finally {
  await server.close();
  await rm(root, { recursive: true, force: true });
}
