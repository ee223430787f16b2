// Issue #16 item 7: the screen and `esp-station report` give the same figures for the same run. A station
// flashes a shift's worth of boards (a bad slot, retests, boards that never identify) into a real ledger file;
// the screen's store watches the same station; then both are compared figure by figure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerWriter } from '../../src/ledger/writer.ts';
import { buildReport } from '../../src/report/build-report.ts';
import { Station } from '../../src/station/station.ts';
import { StationUiStore } from '../../src/ui/store.ts';
import { FakeLink, makeFirmware, ManualSource } from '../station/fakes.ts';

test('the screen and the report agree on one ledger: boards, first-pass yield, boards/h, cycle, slots, suspects', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'agree-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'ledger.jsonl');
  const ledger = await LedgerWriter.open({ file, station: 'line-9' });
  const link = new FakeLink();
  const source = new ManualSource();
  const firmware = makeFirmware();
  const station = new Station({
    stationName: 'line-9',
    operator: 'ana',
    lot: 'LOT-7',
    firmware,
    policy: {
      chip: 'esp32',
      allowSecureBoot: false,
      allowFlashEncryption: false,
      baudLadder: [921600],
      regionRetries: 0,
      boardRetriesPerBaud: 0,
      stub: true,
      compress: true,
      skipUnchanged: false,
      eraseAll: false,
      resetAfter: true,
    },
    slots: ['A1', 'A2', 'A3', 'A4'].map((name, i) => ({ name, usbPath: `1-1.${i + 1}` })),
    source,
    link,
    ledger,
    concurrency: 4,
    progressIntervalMs: 0,
  });
  const store = new StationUiStore({
    header: {
      stationName: 'line-9',
      profileName: firmware.profileName,
      recipeFingerprint: firmware.fingerprint,
      chip: 'ESP32',
      operator: 'ana',
      lot: 'LOT-7',
      demoFirmware: firmware.demo,
    },
    slots: ['A1', 'A2', 'A3', 'A4'].map((name, i) => ({ name, portPath: `1-1.${i + 1}` })),
  });
  station.bus.subscribe((e) => store.handle(e));
  const done: string[] = [];
  station.onAttemptDone((d) => done.push(d.slot));
  await station.start();

  let serial = 0;
  const mac = (n: number) =>
    `24:0A:C4:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`.toUpperCase();
  /** One board through one slot: plugged, flashed (or not), recorded, pulled. */
  const board = async (slot: number, how: 'pass' | 'fail' | 'no-mac', boardMac = mac(++serial)) => {
    const portPath = `1-1.${slot}`;
    link.script(portPath, {
      identity: { mac: boardMac },
      ...(how === 'fail' && { failWritesAtBaud: [921600] }),
      ...(how === 'no-mac' && { connectFails: { 0: 'no-sync', 1: 'no-sync' } }),
    });
    const finished = () => done.filter((p) => p === portPath).length;
    const before = finished();
    source.plug(portPath);
    for (let i = 0; i < 5000 && finished() === before; i++) await new Promise((r) => setTimeout(r, 2));
    assert.equal(finished(), before + 1, `${portPath}: the board's attempt was recorded`);
    source.unplug(portPath);
    await new Promise((r) => setTimeout(r, 2));
  };
  // 25 boards per slot; A3 is the bad slot. Two boards are retested (a fail, then a pass on another slot),
  // three never identify (no MAC: attempts and failures, not boards).
  for (let i = 0; i < 25; i++) {
    await Promise.all([
      board(1, i === 3 ? 'fail' : 'pass'),
      board(2, i === 7 ? 'no-mac' : 'pass'),
      board(3, i % 2 === 0 ? 'fail' : 'pass'),
      board(4, i === 5 ? 'no-mac' : i === 9 ? 'fail' : 'pass'),
    ]);
  }
  const retested = [mac(1 + 4 * 3), mac(1 + 4 * 9 + 3)];
  await board(1, 'pass', retested[0]);
  await board(2, 'no-mac');
  await board(4, 'pass', retested[1]);
  await station.stop();
  await ledger.close();

  const screen = store.snapshot().yieldFigures;
  const { report } = await buildReport({ ledger: file });
  const totals = report.totals;
  assert.equal(totals.attempts, 103);
  assert.equal(totals.attemptsWithoutMac, 3);
  assert.equal(totals.retests, 2);
  assert.deepEqual(screen.lot, { passed: totals.attemptsPassed, failed: totals.attemptsFailed });
  assert.equal(screen.boards, totals.boards);
  assert.equal(screen.firstPassYield, totals.firstPassYield);
  assert.equal(screen.boardsPerHour, totals.boardsPerHour ?? undefined);
  assert.equal(screen.cycleMs, totals.cycleTimeMs?.p50);
  assert.deepEqual(
    screen.perSlot.map((s) => [s.name, s.passed, s.failed, s.suspect]),
    report.slots.map((s) => [s.slot, s.passed, s.failed, s.verdict === 'low']),
  );
  assert.deepEqual(
    screen.perSlot.filter((s) => s.suspect).map((s) => s.name),
    ['A3'],
    'both name the bad slot, and only it',
  );
  assert.deepEqual(
    screen.failsByCode,
    report.failures.byCode.map((r) => ({ code: r.key, count: r.count })),
  );
});
