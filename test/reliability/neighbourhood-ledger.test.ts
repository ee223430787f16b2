/**
 * The neighbourhood, part 2: the ledger file and the people and programs around it. The file is deleted or
 * replaced while the station runs, another writer leaves half a line at its end, a second station is started
 * on the same ledger, the folder cannot be written. No record may vanish, none may be glued to a stranger's
 * torn line, and a ledger that cannot take records is refused (exit 2) before any board is touched.
 * Real CLI children, real files; the second board sits behind a TCP proxy that holds it mid-write while the
 * test touches the ledger.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerLockedError } from '../../src/ledger/ledger-lock.ts';
import { LedgerWriter } from '../../src/ledger/writer.ts';
import { makeRecord } from '../ledger/record-builder.ts';
import type { StationEvent } from '../../src/station/events.ts';
import { CLI, runCli, startCli, stopChild, withoutRootOverride } from './child-processes.ts';
import type { LiveChild } from './child-processes.ts';
import { eventOf, readLedger, simBoards, writeStationFiles } from './neighbourhood-rig.ts';
import { demoFirmware, REPO } from './station-rig.ts';
import { hostPort, startTcpProxy } from './tcp-proxy.ts';

type After = { after(fn: () => Promise<void> | void): void };

/** A TCP port that counts connections and never answers: a refused start must never open it. */
async function trapPort(t: After): Promise<{ url: string; connections: () => number }> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    count++;
    sockets.add(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  const a = server.address();
  return { url: `socket://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, connections: () => count };
}

/**
 * Two boards on a station with the ledger file `ledger`: `touch` runs after the first board's result while
 * the second is held mid-write; then the second finishes. Resolves with every event the station printed.
 */
async function touchBetweenRecords(
  t: After,
  mac: string,
  touch: (ledger: string) => void,
): Promise<{ ledger: string; events: StationEvent[]; code: number | null; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'neighbourhood-ledger-'));
  const children: LiveChild[] = [];
  const [first, second] = await simBoards(2, mac, children);
  const proxy = await startTcpProxy(hostPort(second));
  t.after(async () => {
    proxy.release();
    for (const c of children) await stopChild(c, 'SIGKILL');
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ledger = join(dir, 'ledger.jsonl');
  const config = writeStationFiles(dir, { concurrency: 2 });
  const events: StationEvent[] = [];
  let phase: 'both-start' | 'first-done' | 'touched' = 'both-start';
  const station = startCli(
    [
      'run',
      '--headless',
      '--once',
      '--port-follows-baud',
      '--config',
      config,
      '--ledger',
      ledger,
      '--port',
      `B1=${first}`,
      '--port',
      `B2=${proxy.url}`,
    ],
    {
      onLine: (line) => {
        const e = eventOf(line);
        if (!e) return;
        events.push(e);
        // The second board is held the moment it writes, so it is certainly in flight when the ledger is touched.
        if (
          phase === 'both-start' &&
          e.type === 'progress' &&
          e.slot === proxy.url &&
          e.progress.overallDone > 0
        )
          proxy.hold();
        if (e.type === 'result' && e.slot === first && phase === 'both-start') {
          phase = 'first-done';
          touch(ledger);
          phase = 'touched';
          proxy.release();
        }
      },
    },
  );
  children.push(station);
  const end = await station.exited;
  assert.equal(phase, 'touched', `the ledger was touched between the records\n${station.stderr()}`);
  return { ledger, events, code: end.code, stderr: station.stderr() };
}

function resultsOf(events: StationEvent[]): [string, string, boolean][] {
  return events.flatMap((e) => (e.type === 'result' ? [[e.slot, e.result, e.recorded]] : [])) as [
    string,
    string,
    boolean,
  ][];
}

function warnings(events: StationEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'log' && e.level === 'warn' ? [e.message] : []));
}

test('the ledger file is deleted while the station runs: the next record lands in a new file at the path, with a warning', async (t) => {
  const r = await touchBetweenRecords(t, '24:0A:C4:E0:00:01', (ledger) => unlinkSync(ledger));
  assert.equal(r.code, 0, r.stderr);
  assert.ok(
    resultsOf(r.events).every(([, result, recorded]) => result === 'pass' && recorded),
    JSON.stringify(r.events.filter((e) => e.type === 'result' || (e.type === 'log' && e.level !== 'info'))),
  );
  // Announced as recorded, so it is where the ledger is: the second board's record is in the file at the path.
  const { records } = await readLedger(r.ledger);
  assert.deepEqual(
    records.map((x) => [x.slot, x.result]),
    [['B2', 'pass']],
  );
  assert.ok(
    warnings(r.events).some((w) => /ledger file .* was deleted/.test(w)),
    warnings(r.events).join('\n'),
  );
});

test('the ledger file is replaced (moved away, a new one put there): records go to the file at the path', async (t) => {
  const r = await touchBetweenRecords(t, '24:0A:C4:E1:00:01', (ledger) => {
    renameSync(ledger, `${ledger}.1`);
    writeFileSync(ledger, '');
  });
  assert.equal(r.code, 0, r.stderr);
  const moved = await readLedger(`${r.ledger}.1`);
  assert.deepEqual(
    moved.records.map((x) => x.slot),
    ['B1'],
  );
  const { records } = await readLedger(r.ledger);
  assert.deepEqual(
    records.map((x) => x.slot),
    ['B2'],
  );
  assert.ok(warnings(r.events).some((w) => /was replaced/.test(w)));
});

test("another writer's torn line at the end of the ledger never swallows the next record", async (t) => {
  const torn = '{"v":1,"id":"another-writer/2026-11-23T10:00:00.000Z/1-1.1","start":"2026-11-23T10:00';
  const r = await touchBetweenRecords(t, '24:0A:C4:E2:00:01', (ledger) => appendFileSync(ledger, torn));
  assert.equal(r.code, 0, r.stderr);
  const { records, problems } = await readLedger(r.ledger);
  assert.deepEqual(
    records.map((x) => x.slot),
    ['B1', 'B2'],
  );
  assert.equal(problems, 1, 'only the stranger’s torn line is unreadable');
  const lines = readFileSync(r.ledger, 'utf8').split('\n');
  assert.equal(lines[1], torn, 'the torn line is kept as it was, on a line of its own');
});

test('a second station on the same ledger file is refused before it touches a board, naming the first', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'neighbourhood-lock-'));
  const children: LiveChild[] = [];
  const [board, other] = await simBoards(2, '24:0A:C4:E3:00:01', children);
  const proxy = await startTcpProxy(hostPort(board), { held: true }); // the first station stays busy
  t.after(async () => {
    proxy.release();
    for (const c of children) await stopChild(c, 'SIGKILL');
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ledger = join(dir, 'ledger.jsonl');
  const config = writeStationFiles(dir);
  const first = startCli(['run', '--headless', '--config', config, '--ledger', ledger, '--port', proxy.url]);
  children.push(first);
  await first.waitForLine((l) => eventOf(l)?.type === 'station');
  const trap = await trapPort(t);
  const second = await runCli(
    ['run', '--headless', '--once', '--config', config, '--ledger', ledger, '--port', trap.url],
    { limitMs: 30_000 },
  );
  assert.equal(second.code, 2, second.stderr);
  assert.match(second.stderr, /in use by another station/);
  assert.match(second.stderr, new RegExp(`pid ${first.proc.pid}\\b`), 'the other holder is named');
  assert.equal(trap.connections(), 0, 'the refused station opened no port');
  // The ledger folder of the config is another ledger: that station runs.
  const dirStation = await runCli(
    ['run', '--headless', '--once', '--port-follows-baud', '--config', config, '--port', other],
    { limitMs: 30_000 },
  );
  assert.equal(dirStation.code, 0, `a ledger folder of its own is fine: ${dirStation.stderr}`);
  await stopChild(first);
});

test('ledger lock: one writer per ledger, stations with other names share a folder, a dead holder leaves no lock', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'neighbourhood-lock-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const a = await LedgerWriter.open({ dir, station: 'line-1', rotate: { by: 'day' } });
  await assert.rejects(
    LedgerWriter.open({ dir, station: 'line-1', rotate: { by: 'size' } }),
    LedgerLockedError,
  );
  const b = await LedgerWriter.open({ dir, station: 'line-2', rotate: { by: 'day' } });
  await b.close();
  await a.close();
  const again = await LedgerWriter.open({ dir, station: 'line-1', rotate: { by: 'day' } });
  await again.close();
  // A station killed with -9 holds nothing: the kernel drops the lock with the process.
  const file = join(dir, 'single.jsonl');
  const holder = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `const { LedgerWriter } = await import(${JSON.stringify(join(REPO, 'src/ledger/writer.ts'))});
       await LedgerWriter.open({ file: ${JSON.stringify(file)}, station: 'held' });
       console.log('locked'); setInterval(() => {}, 1000);`,
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(() => holder.kill('SIGKILL'));
  await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
  await assert.rejects(LedgerWriter.open({ file, station: 'x' }), LedgerLockedError);
  holder.kill('SIGKILL');
  await new Promise((r) => holder.once('close', r));
  const after = await LedgerWriter.open({ file, station: 'x' });
  await after.close();
});

test('an unwritable ledger folder is refused at start-up (exit 2) before any board is touched', async (t) => {
  await demoFirmware(); // built by this (privileged) process, so the station below only reads it
  const dir = mkdtempSync(join(tmpdir(), 'neighbourhood-ro-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = writeStationFiles(dir);
  mkdirSync(join(dir, 'ledger'));
  chmodSync(join(dir, 'ledger'), 0o555);
  chmodSync(dir, 0o755);
  const trap = await trapPort(t);
  // root writes anywhere: the station runs without root's override, as a station user on a real line.
  const args = ['run', '--headless', '--once', '--config', config, '--port', trap.url];
  const [cmd, argv] = withoutRootOverride(process.execPath, [CLI, ...args]);
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const p = spawn(cmd, argv, { cwd: dir });
    let stderr = '';
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const kill = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stderr });
    });
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /config\.yaml: ledger\.dir: the ledger at .*ledger cannot be written \(permission denied/,
  );
  assert.equal(trap.connections(), 0, 'no board was touched');
});

test('an absurd attempt number on disk (2^53-1) does not break every later record of that board', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'neighbourhood-attempt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'ledger.jsonl');
  const mac = '24:0A:C4:EE:00:01';
  writeFileSync(file, `${JSON.stringify(makeRecord({ mac, attempt: Number.MAX_SAFE_INTEGER }))}\n`);
  const w = await LedgerWriter.open({ file, station: 'attempts' });
  t.after(() => w.close());
  const next = w.attemptNumberFor(mac);
  assert.ok(Number.isSafeInteger(next) && next >= 1, `attempt ${next}`);
  await w.append(makeRecord({ mac, attempt: next }));
  await w.close();
  const { records } = await readLedger(file);
  assert.equal(records.length, 2, 'the next record of that board is written');
});
