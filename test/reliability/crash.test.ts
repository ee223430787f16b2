/**
 * Crash safety: the station process is SIGKILLed while 16 boards are mid-flash. The boards live in a separate
 * `esp-station sim` process (TCP), so they outlive the station. After the kill the ledger parses, every record
 * written before it is intact byte for byte, a torn last line never counts as a result, and a restarted
 * station flashes the interrupted boards again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerReader } from '../../src/ledger/reader.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import { LedgerRecordSchema } from '../../src/ledger/record.ts';
import type { StationEvent } from '../../src/station/events.ts';
import { runCli, startCli, stopChild } from './child-processes.ts';
import type { LiveChild } from './child-processes.ts';
import { demoFirmware } from './station-rig.ts';

/** Starts `esp-station sim` with N boards on free ports; resolves with their socket:// URLs. */
async function simBoards(
  n: number,
  mac: string,
  children: LiveChild[],
  extra: string[] = [],
): Promise<string[]> {
  const sim = startCli([
    'sim',
    '--listen',
    'tcp://127.0.0.1:0',
    '--boards',
    String(n),
    '--timing',
    'fast',
    '--mac',
    mac,
    ...extra,
  ]);
  children.push(sim);
  const urls: string[] = [];
  for (let i = 0; i < n; i++) {
    const line = await sim.waitForLine((l) => l.includes('listening on') && !urls.some((u) => l.includes(u)));
    urls.push(/\((socket:\/\/[^)]+)\)/.exec(line)![1]);
  }
  return urls;
}

async function readLedger(file: string): Promise<{ records: LedgerRecord[]; problems: number }> {
  const reader = new LedgerReader(file);
  const records: LedgerRecord[] = [];
  for await (const r of reader) records.push(r);
  return { records, problems: reader.problemCount };
}

/** The demo firmware without a boot check: over TCP there is no reset line to boot the app with. */
function writeStationFiles(dir: string): string {
  writeFileSync(
    join(dir, 'profile.yaml'),
    [
      'name: crash-demo',
      'chip: esp32',
      'demo: true',
      'imageSet:',
      '  demo: esp-at',
      'flash:',
      '  size: 4MB',
      '',
    ].join('\n'),
  );
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    ['station: crash', 'profile: profile.yaml', 'ledger:', '  dir: ledger', ''].join('\n'),
  );
  return config;
}

test('SIGKILL with 16 boards mid-flash: ledger intact, torn line ignored, interrupted boards reflashed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'crash-'));
  const children: LiveChild[] = [];
  t.after(async () => {
    for (const c of children) await stopChild(c, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const ledger = join(dir, 'ledger.jsonl');
  const config = writeStationFiles(dir);
  const portArgs = (urls: string[]): string[] => ['--config', config, ...urls.flatMap((u) => ['--port', u])];
  const { firmware } = await demoFirmware();
  // Secure-boot boards are refused at the check, so their records are on disk before the 16 get to write.
  const [early, busy, refused] = await Promise.all([
    simBoards(3, '24:0A:C4:C0:00:01', children),
    simBoards(16, '24:0A:C4:C1:00:01', children),
    simBoards(4, '24:0A:C4:C2:00:01', children, ['--fault', 'secure-boot']),
  ]);

  // 0. An earlier shift: three boards recorded by a station that ended normally.
  const shift = await runCli([
    'run',
    '--headless',
    '--once',
    '--port-follows-baud',
    '--ledger',
    ledger,
    ...portArgs(early),
  ]);
  assert.equal(shift.code, 0, shift.stderr);
  const before = readFileSync(ledger);
  const shiftRecords = (await readLedger(ledger)).records;
  assert.deepEqual(
    shiftRecords.map((r) => r.result),
    ['pass', 'pass', 'pass'],
  );

  // 1. A station flashing 16 boards at once, killed the moment every one of them is writing (and the four
  //    refused boards are recorded).
  const writing = new Set<string>();
  const resulted = new Set<string>();
  let killedWith = { writing: 0, resulted: 0 };
  const station = startCli(
    ['run', '--headless', '--port-follows-baud', '--ledger', ledger, ...portArgs([...busy, ...refused])],
    {
      onLine: (line) => {
        const e = JSON.parse(line) as StationEvent;
        if (e.type === 'progress' && e.progress.overallDone > 0) writing.add(e.slot);
        if (e.type === 'result') resulted.add(e.slot);
        const allWriting = busy.every((u) => writing.has(u));
        const refusalsAnnounced = refused.every((u) => resulted.has(u));
        if (allWriting && refusalsAnnounced && station.proc.signalCode === null && killedWith.writing === 0) {
          killedWith = {
            writing: [...writing].filter((s) => !resulted.has(s)).length,
            resulted: resulted.size,
          };
          station.proc.kill('SIGKILL');
        }
      },
    },
  );
  children.push(station);
  const end = await station.exited;
  assert.equal(end.signal, 'SIGKILL', `the station was killed, not ended: ${station.stderr()}`);
  assert.ok(killedWith.writing >= 12, `${killedWith.writing} boards were mid-flash at the kill`);

  // 2. After the kill: the earlier records are intact byte for byte, every line that is there parses, and
  //    every result the station announced is on disk (durability before display).
  const afterKill = readFileSync(ledger);
  assert.ok(
    afterKill.subarray(0, before.length).equals(before),
    'records written before the kill are intact',
  );
  const killed = await readLedger(ledger);
  assert.equal(killed.problems, 0);
  assert.ok(killed.records.length - 3 >= killedWith.resulted, 'every announced result is in the ledger');
  // The records this station wrote before it was killed: whole, valid, the four refusals among them.
  const refusals = killed.records.slice(3).filter((r) => refused.includes(r.port));
  assert.deepEqual(refusals.map((r) => r.code).sort(), [
    'security-enabled',
    'security-enabled',
    'security-enabled',
    'security-enabled',
  ]);
  const recordedBusy = new Set(killed.records.slice(3).map((r) => r.port));
  const interrupted = busy.filter((u) => !recordedBusy.has(u));
  assert.ok(interrupted.length >= 12, `${interrupted.length} boards were interrupted`);
  t.diagnostic(
    `killed with ${killedWith.writing} boards mid-flash, ${killedWith.resulted} results announced, ${interrupted.length} boards without a record`,
  );

  // A kill inside write() would leave a torn last line: one is appended to prove it never counts as a result.
  const lastLine = afterKill.toString('utf8').trimEnd().split('\n').at(-1)!;
  appendFileSync(ledger, lastLine.slice(0, Math.floor(lastLine.length / 2)));
  const torn = await readLedger(ledger);
  assert.equal(torn.records.length, killed.records.length, 'the torn line is not a record');
  assert.equal(torn.problems, 1, 'the torn line is reported');

  // 3. The boards are plugged in again (the same remote ports): a new station flashes the interrupted ones.
  const again = await runCli([
    'run',
    '--headless',
    '--once',
    '--port-follows-baud',
    '--ledger',
    ledger,
    ...portArgs(busy),
  ]);
  assert.equal(again.code, 0, again.stderr);
  const final = await readLedger(ledger);
  assert.equal(final.problems, 1, 'only the torn line is a problem; the next record starts on a fresh line');
  const text = readFileSync(ledger, 'utf8');
  assert.ok(text.startsWith(afterKill.toString('utf8')), 'nothing written before the restart was rewritten');
  const newRecords = final.records.slice(killed.records.length);
  assert.equal(newRecords.length, busy.length, 'one record per re-plugged board');
  for (const url of interrupted) {
    const rec = newRecords.find((r) => r.port === url);
    assert.ok(rec, `${url} was flashed again`);
    assert.equal(rec.result, 'pass', `${url}: ${rec.message}`);
    assert.equal(rec.attempt, 1, 'an interrupted attempt left no record, so this is the first');
    // The chip's MD5 of every region equals the image set's: the partial write was fully replaced.
    assert.deepEqual(
      rec.regions.map((r) => [r.offset, r.md5Chip]),
      firmware.regions.map((r) => [r.offset, r.md5]),
    );
  }
  for (const rec of newRecords.filter((r) => !interrupted.includes(r.port))) {
    assert.equal(rec.attempt, 2, 'a board recorded before the kill is a retest now');
  }
  // Every line but the torn one is a valid record.
  const lines = text.split('\n').filter((l) => l.length > 0);
  const invalid = lines.filter((l) => {
    try {
      LedgerRecordSchema.parse(JSON.parse(l));
      return false;
    } catch {
      return true;
    }
  });
  assert.equal(invalid.length, 1);
});
