import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LedgerRecordSchema } from '../../src/ledger/record.ts';
import type { StationEvent } from '../../src/station/events.ts';
import type { PipelinePolicy } from '../../src/station/pipeline.ts';
import { ABORT_IN_FLIGHT_MS, Station } from '../../src/station/station.ts';
import type { StationOptions } from '../../src/station/station.ts';
import { FakeLink, makeFirmware, ManualSource, MemoryLedger } from './fakes.ts';

const POLICY: PipelinePolicy = {
  chip: 'esp32',
  allowSecureBoot: false,
  allowFlashEncryption: false,
  baudLadder: [921600, 460800, 115200],
  regionRetries: 2,
  boardRetriesPerBaud: 0,
  stub: true,
  compress: true,
  skipUnchanged: false,
  eraseAll: false,
  resetAfter: true,
  bootCheck: {
    expect: ['boot: Loaded app from partition at offset'],
    forbid: ['Guru Meditation Error', 'invalid header'],
    timeoutMs: 1000,
    settleMs: 0,
  },
};

function setup(over: Partial<StationOptions> = {}, policy: Partial<PipelinePolicy> = {}) {
  const link = new FakeLink();
  const source = new ManualSource();
  const ledger = new MemoryLedger();
  const station = new Station({
    stationName: 'st1',
    operator: 'op',
    lot: 'L1',
    firmware: makeFirmware(),
    policy: { ...POLICY, ...policy },
    source,
    link,
    ledger,
    concurrency: 4,
    progressIntervalMs: 0,
    ...over,
  });
  const events: StationEvent[] = [];
  station.bus.subscribe((e) => events.push(e));
  const done: string[] = [];
  station.onAttemptDone((d) => done.push(d.slot));
  const waitDone = async (n: number): Promise<void> => {
    for (let i = 0; i < 2000 && done.length < n; i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(done.length >= n, `expected ${n} finished attempts, got ${done.length}`);
  };
  /**
   * The first event that matches (one already published counts). Resolved from the bus, so the test goes on
   * before any timer of the fakes can fire: what it does next happens in the state it waited for, under any load.
   */
  const nextEvent = (match: (e: StationEvent) => boolean): Promise<StationEvent> =>
    new Promise((resolve) => {
      const seen = events.find(match);
      if (seen) return resolve(seen);
      const off = station.bus.subscribe((e) => {
        if (!match(e)) return;
        off();
        resolve(e);
      });
    });
  const stateOf = (slot: string, state: string) => (e: StationEvent) =>
    e.type === 'state' && e.slot === slot && e.state === state;
  return { link, source, ledger, station, events, done, waitDone, nextEvent, stateOf };
}

function statesOf(events: StationEvent[], slot: string): string[] {
  return events
    .filter((e) => e.type === 'state' && e.slot === slot)
    .map((e) => (e as { state: string }).state);
}

/** What the events last said about a slot: the station tells its consumers everything through events. */
function slotSeen(events: StationEvent[], slot: string) {
  const seen = { name: '', tty: '', present: false, state: 'empty', awaitingRemoval: false };
  for (const e of events) {
    if (e.type === 'station' || e.slot !== slot) continue;
    if (e.type === 'slot-attached')
      Object.assign(seen, { name: e.slotInfo.name, tty: e.slotInfo.tty, present: true });
    else if (e.type === 'slot-detached') Object.assign(seen, { present: false, awaitingRemoval: false });
    else if (e.type === 'awaiting-removal') seen.awaitingRemoval = true;
    else if (e.type === 'state') {
      seen.state = e.state;
      if (e.state === 'detected') seen.awaitingRemoval = false;
    }
  }
  return seen;
}

function dedupe(a: string[]): string[] {
  return a.filter((s, i) => s !== a[i - 1]);
}

test('a board runs through every state, is recorded before the result, and waits for removal', async (t) => {
  const { source, ledger, station, events, waitDone } = setup();
  t.after(() => station.stop());
  let eventsAtAppend = -1;
  ledger.onAppend = () => (eventsAtAppend = events.length);
  await station.start();
  source.plug('1-1.2');
  await waitDone(1);
  assert.deepEqual(dedupe(statesOf(events, '1-1.2')), [
    'detected',
    'connecting',
    'identifying',
    'checking',
    'flashing',
    'verifying',
    'resetting',
    'boot-check',
    'pass',
  ]);
  const resultIdx = events.findIndex((e) => e.type === 'result');
  assert.ok(
    eventsAtAppend >= 0 && eventsAtAppend <= resultIdx,
    'ledger append happened before the result event',
  );
  const result = events[resultIdx];
  assert.equal(result.type === 'result' && result.recorded, true);
  assert.equal(result.type === 'result' && result.result, 'pass');
  assert.equal(events.at(-1)?.type, 'awaiting-removal');
  assert.equal(ledger.records.length, 1);
  const rec = LedgerRecordSchema.parse(ledger.records[0]);
  assert.equal(rec.result, 'pass');
  assert.equal(rec.baud, 921600);
  assert.equal(rec.regions.length, 2);
  assert.ok(rec.regions.every((r) => r.md5Chip === r.md5Expected));
  assert.equal(rec.attempt, 1);
  assert.equal(rec.slot, '1-1.2');
  assert.equal(rec.operator, 'op');
  assert.equal(rec.demoFirmware, true);
  for (const p of ['connect', 'identify', 'check', 'stub', 'write', 'verify', 'reset', 'bootCheck']) {
    assert.ok(p in rec.phases, `phase ${p} timed`);
  }
  assert.ok(events.some((e) => e.type === 'progress' && e.progress.overallDone === e.progress.overallTotal));
  assert.equal(slotSeen(events, '1-1.2').awaitingRemoval, true);
  assert.equal(events.filter((e) => e.type === 'result' && e.result === 'pass').length, 1);
});

test('a board left plugged is never flashed twice; after removal and re-plug it is a retest (attempt 2)', async (t) => {
  const { source, ledger, station, link, events, waitDone } = setup();
  t.after(() => station.stop());
  await station.start();
  source.plug('1-1.2', '/dev/ttyUSB0');
  await waitDone(1);
  source.plug('1-1.2', '/dev/ttyUSB0'); // a source repeating itself
  source.plug('1-1.2', '/dev/ttyUSB4'); // re-enumerated under another tty, never removed
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(ledger.records.length, 1);
  assert.equal(link.connects.length, 1);
  assert.equal(slotSeen(events, '1-1.2').tty, '/dev/ttyUSB4');
  source.unplug('1-1.2');
  source.plug('1-1.2', '/dev/ttyUSB1');
  await waitDone(2);
  assert.equal(ledger.records.length, 2);
  assert.equal(ledger.records[1].attempt, 2);
  assert.equal(ledger.records[1].port, '/dev/ttyUSB1');
});

test('unplug mid-write fails that board as disconnected and leaves the neighbour alone', async (t) => {
  const { source, ledger, station, link, events, waitDone, nextEvent } = setup();
  t.after(() => station.stop());
  link.script('1-1.1', { writeDelayMs: 400 });
  link.script('1-1.2', { writeDelayMs: 40 });
  await station.start();
  source.plug('1-1.1');
  source.plug('1-1.2');
  await nextEvent((e) => e.type === 'progress' && e.slot === '1-1.1');
  source.unplug('1-1.1');
  await waitDone(2);
  const bySlot = Object.fromEntries(ledger.records.map((r) => [r.portPath, r]));
  assert.equal(bySlot['1-1.1'].result, 'fail');
  assert.equal(bySlot['1-1.1'].code, 'disconnected');
  assert.equal(bySlot['1-1.2'].result, 'pass');
  const detached = events.find((e) => e.type === 'slot-detached');
  assert.equal(detached?.type === 'slot-detached' && detached.wasBusy, true);
  assert.equal(slotSeen(events, '1-1.1').state, 'empty');
});

test('guards refuse wrong chip, small flash and enabled security before the first write', async (t) => {
  const { source, ledger, station, link, waitDone } = setup();
  t.after(() => station.stop());
  link.script('1-1.1', { identity: { chip: 'esp32s3' } });
  link.script('1-1.2', { identity: { flashSizeBytes: 8 * 1024 } });
  link.script('1-1.3', { identity: { secureBoot: true } });
  link.script('1-1.4', { identity: { flashEncryption: true } });
  await station.start();
  for (const p of ['1-1.1', '1-1.2', '1-1.3', '1-1.4']) source.plug(p);
  await waitDone(4);
  const codes = Object.fromEntries(ledger.records.map((r) => [r.portPath, r.code]));
  assert.deepEqual(codes, {
    '1-1.1': 'wrong-chip',
    '1-1.2': 'flash-too-small',
    '1-1.3': 'security-enabled',
    '1-1.4': 'security-enabled',
  });
  assert.equal(link.writes.length, 0);
  assert.match(ledger.records.find((r) => r.portPath === '1-1.1')!.message!, /ESP32-S3.*ESP32/);
  for (const r of ledger.records) assert.equal(r.regions.length, 0);
});

test('a chip revision outside what the images accept, or a header bigger than the flash, is refused before writing', async (t) => {
  const firmware = {
    ...makeFirmware(),
    revisionRequirements: [{ image: 'esp-at.bin', kind: 'full' as const, min: 3, max: 199 }],
    declaredFlashBytes: 16 * 1024 * 1024,
  };
  const { source, ledger, station, link, waitDone } = setup({ firmware });
  t.after(() => station.stop());
  link.script('1-1.1', { identity: { revision: 2, flashSizeBytes: 16 * 1024 * 1024 } });
  link.script('1-1.2', { identity: { revision: 4, flashSizeBytes: 4 * 1024 * 1024 } });
  link.script('1-1.3', { identity: { revision: 101, flashSizeBytes: 16 * 1024 * 1024 } });
  await station.start();
  for (const p of ['1-1.1', '1-1.2', '1-1.3']) source.plug(p);
  await waitDone(3);
  const by = Object.fromEntries(ledger.records.map((r) => [r.portPath, r]));
  assert.equal(by['1-1.1'].code, 'chip-revision');
  assert.match(by['1-1.1'].message!, /esp-at\.bin needs chip revision v0\.3 to v1\.99; this chip is v0\.2/);
  assert.equal(by['1-1.2'].code, 'flash-too-small');
  assert.match(by['1-1.2'].message!, /bootloader header says 16 MB/);
  assert.equal(by['1-1.3'].result, 'pass');
  assert.deepEqual(
    link.writes.map((w) => w.portPath).filter((p) => p !== '1-1.3'),
    [],
    'nothing is written to a refused board',
  );
  // The revision is known from the ROM: refused before the stub. The flash is read through the stub (as
  // esptool does), so the size guard comes after it — still before any write.
  assert.deepEqual(
    link.prepared.map((p) => p.portPath),
    ['1-1.2', '1-1.3'],
  );
});

test("the loader is told the board's flash size; erase all runs once before the first write; no reset leaves it be", async (t) => {
  const { source, ledger, station, link, waitDone } = setup(
    {},
    { eraseAll: true, resetAfter: false, baudLadder: [921600, 115200], boardRetriesPerBaud: 0 },
  );
  t.after(() => station.stop());
  link.script('1-1.1', { identity: { flashSizeBytes: 8 * 1024 * 1024 }, failWritesAtBaud: [921600] });
  await station.start();
  source.plug('1-1.1');
  await waitDone(1);
  assert.equal(ledger.records[0].result, 'pass');
  assert.deepEqual(
    link.prepared.map((p) => [p.baud, p.flashSizeBytes]),
    [
      [921600, 8 * 1024 * 1024],
      [115200, 8 * 1024 * 1024],
    ],
  );
  assert.deepEqual(link.erases, ['1-1.1'], 'one chip erase, not one per baud step');
  assert.deepEqual(link.resets, [], 'resetAfter: false');
  assert.equal(ledger.records[0].phases.bootCheck, undefined);
});

test('security is allowed when the profile says so', async (t) => {
  const { source, ledger, station, link, waitDone } = setup({}, { allowSecureBoot: true });
  t.after(() => station.stop());
  link.script('1-1.3', { identity: { secureBoot: true } });
  await station.start();
  source.plug('1-1.3');
  await waitDone(1);
  assert.equal(ledger.records[0].result, 'pass');
  assert.equal(ledger.records[0].secureBoot, true);
});

test('a region that fails verification is retried and the retries are recorded', async (t) => {
  const { source, ledger, station, link, waitDone } = setup();
  t.after(() => station.stop());
  link.script('1-1.1', { failWritesTimes: 2 });
  await station.start();
  source.plug('1-1.1');
  await waitDone(1);
  const rec = ledger.records[0];
  assert.equal(rec.result, 'pass');
  assert.equal(rec.regions[0].retries, 2);
  assert.equal(rec.regions[1].retries, 0);
  assert.equal(rec.baud, 921600);
});

test('a board that keeps failing at 921600 is retried at the next lower baud', async (t) => {
  const { source, ledger, station, link, waitDone } = setup();
  t.after(() => station.stop());
  link.script('1-1.1', { failWritesAtBaud: [921600] });
  await station.start();
  source.plug('1-1.1');
  await waitDone(1);
  const rec = ledger.records[0];
  assert.equal(rec.result, 'pass');
  assert.equal(rec.baud, 460800);
  assert.equal(rec.regions[0].retries, 3, 'failed tries at 921600 count as retries of the region');
  // 1 try + 2 region retries at 921600, then both regions at 460800.
  assert.deepEqual(
    link.writes.map((w) => w.baud),
    [921600, 921600, 921600, 460800, 460800],
  );
  assert.equal(link.connects.length, 2);
});

test('every retry is an event the screen can show: scope, number, allowed, a short reason and the detail', async (t) => {
  const { source, station, link, events, waitDone } = setup();
  t.after(() => station.stop());
  link.script('1-1.1', { failWritesAtBaud: [921600] });
  link.script('1-1.2', { connectFails: { 0: 'no-sync' } });
  await station.start();
  source.plug('1-1.1');
  source.plug('1-1.2');
  await waitDone(2);
  const retries = (slot: string) =>
    events.flatMap((e) =>
      e.type === 'retry' && e.slot === slot ? [`${e.scope} ${e.n}/${e.of} ${e.reason}`] : [],
    );
  const first = retries('1-1.1');
  assert.equal(first.length, 3, first.join(' | '));
  assert.match(first[0], /^region 1\/2 \S/);
  assert.match(first[1], /^region 2\/2 /);
  assert.match(first[2], /^board 1\/2 /, 'one board try per baud step, three steps: two retries allowed');
  assert.deepEqual(retries('1-1.2'), [`connect 1/${link.connectStrategies() - 1} no sync`]);
  const detail = events.find((e) => e.type === 'retry' && e.scope === 'board');
  assert.match((detail as { message: string }).message, /writing at 921600 baud failed/);
  assert.ok(!events.some((e) => e.type === 'log' && e.level === 'warn'), 'retries are not also warnings');
});

test('a board failing at every baud is FAIL/write-error with one code and an operator sentence', async (t) => {
  const { source, ledger, station, link, waitDone } = setup({}, { regionRetries: 0 });
  t.after(() => station.stop());
  link.script('1-1.1', { failWritesAtBaud: [921600, 460800, 115200] });
  await station.start();
  source.plug('1-1.1');
  await waitDone(1);
  const rec = ledger.records[0];
  assert.equal(rec.result, 'fail');
  assert.equal(rec.code, 'write-error');
  assert.match(rec.message!, /Re-seat the board/);
  assert.equal(link.writes.length, 3);
});

test('connect retries with another reset strategy, and no-sync after all of them', async (t) => {
  const { source, ledger, station, link, waitDone } = setup();
  t.after(() => station.stop());
  link.script('1-1.1', { connectFails: { 0: 'no-sync' } });
  link.script('1-1.2', { connectFails: { 0: 'no-sync', 1: 'no-sync' } });
  link.script('1-1.3', { connectFails: { 0: 'wrong-boot-mode', 1: 'wrong-boot-mode' } });
  await station.start();
  source.plug('1-1.1');
  source.plug('1-1.2');
  source.plug('1-1.3');
  await waitDone(3);
  const by = Object.fromEntries(ledger.records.map((r) => [r.portPath, r]));
  assert.equal(by['1-1.1'].result, 'pass');
  assert.deepEqual(
    link.connects.filter((c) => c.portPath === '1-1.1').map((c) => c.attempt),
    [0, 1],
  );
  assert.equal(by['1-1.2'].code, 'no-sync');
  assert.equal(by['1-1.2'].mac, undefined);
  assert.equal(by['1-1.3'].code, 'wrong-boot-mode');
  assert.match(by['1-1.3'].message!, /BOOT/);
});

test('final verification catches a region the chip does not hold, and a failed boot check is its own code', async (t) => {
  const { source, ledger, station, link, waitDone } = setup();
  t.after(() => station.stop());
  link.script('1-1.1', { corruptOffset: 0x1000 });
  link.script('1-1.2', { bootOutput: 'rst:0x10 (RTCWDT_RTC_RESET)\ninvalid header: 0xffffffff\n' });
  await station.start();
  source.plug('1-1.1');
  source.plug('1-1.2');
  await waitDone(2);
  const by = Object.fromEntries(ledger.records.map((r) => [r.portPath, r]));
  assert.equal(by['1-1.1'].code, 'verify-mismatch');
  assert.equal(by['1-1.1'].regions[0].md5Chip, '0'.repeat(32));
  assert.equal(by['1-1.2'].code, 'boot-check-failed');
  assert.match(by['1-1.2'].message!, /invalid header/);
});

test('a hung board times out in its own slot while others pass', async (t) => {
  const { source, ledger, station, link, waitDone } = setup({ boardTimeoutMs: 150 });
  t.after(() => station.stop());
  link.script('1-1.1', { hangOnWrite: true });
  await station.start();
  source.plug('1-1.1');
  source.plug('1-1.2');
  await waitDone(2);
  const by = Object.fromEntries(ledger.records.map((r) => [r.portPath, r]));
  assert.equal(by['1-1.1'].code, 'timeout');
  assert.equal(by['1-1.2'].result, 'pass');
});

test('a ledger that cannot be written turns the attempt into FAIL/internal, recorded:false, never PASS', async (t) => {
  const { source, ledger, station, events, waitDone } = setup();
  t.after(() => station.stop());
  ledger.failNext = true;
  await station.start();
  source.plug('1-1.1');
  await waitDone(1);
  const res = events.find((e) => e.type === 'result');
  assert.ok(res && res.type === 'result');
  assert.equal(res.recorded, false);
  assert.equal(res.result, 'fail');
  assert.equal(res.code, 'internal');
  assert.ok(!events.some((e) => e.type === 'state' && e.state === 'pass'));
});

test('pause stops new starts, in-flight boards finish; resume continues; concurrency is respected', async (t) => {
  const { source, ledger, station, link, waitDone, done, nextEvent, stateOf } = setup({ concurrency: 1 });
  t.after(() => station.stop());
  link.script('1-1.1', { writeDelayMs: 60 });
  await station.start();
  source.plug('1-1.1');
  source.plug('1-1.2');
  // Pause while the first board is being worked on (a fixed wait may outlast its 60 ms on a loaded machine).
  await nextEvent(stateOf('1-1.1', 'connecting'));
  assert.equal(station.inFlight, 1, 'one board at a time with concurrency 1');
  station.pause();
  await waitDone(1);
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(done.length, 1, 'no new start while paused');
  assert.equal(station.state, 'paused');
  station.resume();
  await waitDone(2);
  assert.equal(ledger.records.length, 2);
});

test('stop drops boards that never started and waits for boards in flight', async (t) => {
  const { source, ledger, station, link, events, nextEvent, stateOf } = setup({ concurrency: 1 });
  t.after(() => station.stop());
  link.script('1-1.1', { writeDelayMs: 60 });
  await station.start();
  source.plug('1-1.1');
  source.plug('1-1.2');
  await nextEvent(stateOf('1-1.1', 'connecting'));
  assert.equal(station.inFlight, 1);
  await station.stop();
  assert.equal(ledger.records.length, 1);
  assert.equal(ledger.records[0].portPath, '1-1.1');
  assert.equal(ledger.records[0].result, 'pass');
  assert.equal(events.at(-1)?.type, 'station');
  assert.equal(station.state, 'stopped');
});

test('a second stop with abortInFlight fails the boards in flight, even a wedged flasher, and records them', async () => {
  const { source, ledger, station, link, events } = setup();
  link.script('1-1.1', { hangOnWrite: true });
  link.script('1-1.2', { wedgeOnWrite: true });
  await station.start();
  source.plug('1-1.1');
  source.plug('1-1.2');
  for (let i = 0; i < 400 && station.inFlight < 2; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(station.inFlight, 2);
  // First Ctrl+C: detection stops, the boards in flight would be waited for (forever: they hang).
  const graceful = station.stop();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(station.state, 'stopping');
  assert.equal(ledger.records.length, 0);
  // Second Ctrl+C: both are failed now; the wedged one is given up on after ABORT_IN_FLIGHT_MS.
  const forcedAt = Date.now();
  await station.stop({ abortInFlight: true });
  await graceful;
  const tookMs = Date.now() - forcedAt;
  assert.equal(station.state, 'stopped');
  assert.equal(ledger.records.length, 2, "'stopped' comes after every attempt is in the ledger");
  for (const r of ledger.records) {
    assert.equal(r.result, 'fail');
    assert.equal(r.code, 'internal');
    assert.match(r.message!, /stopped before this board was done/);
  }
  const results = events.filter((e) => e.type === 'result');
  assert.equal(results.length, 2);
  assert.ok(results.every((e) => e.type === 'result' && e.recorded));
  // Not a speed test: it must end at all, by the forced stop's own deadline rather than the board timeout.
  assert.ok(tookMs < ABORT_IN_FLIGHT_MS + 60_000, `took ${tookMs} ms`);
});

test('configured slot names label the slot and the record', async (t) => {
  const { source, ledger, station, events, waitDone } = setup({
    slots: [{ name: 'A1', usbPath: '1-1.4.2' }],
  });
  t.after(() => station.stop());
  await station.start();
  source.plug('1-1.4.2');
  source.plug('1-1.4.3');
  await waitDone(2);
  assert.equal(slotSeen(events, '1-1.4.2').name, 'A1');
  const names = ledger.records.map((r) => `${r.portPath}=${r.slot}`).sort();
  assert.deepEqual(names, ['1-1.4.2=A1', '1-1.4.3=1-1.4.3']);
});

test('a board plugged into a slot whose pulled board is still being recorded waits its turn', async (t) => {
  const { source, ledger, station, link, events, waitDone, nextEvent } = setup();
  t.after(() => station.stop());
  link.script('1-1.1', { writeDelayMs: 200 });
  await station.start();
  source.plug('1-1.1', '/dev/ttyUSB0');
  await nextEvent((e) => e.type === 'progress' && e.slot === '1-1.1');
  link.script('1-1.1', {});
  source.unplug('1-1.1');
  source.plug('1-1.1', '/dev/ttyUSB1');
  await waitDone(2);
  assert.deepEqual(
    ledger.records.map((r) => `${r.port} ${r.result} ${r.code ?? ''}`),
    ['/dev/ttyUSB0 fail disconnected', '/dev/ttyUSB1 pass '],
  );
  assert.equal(slotSeen(events, '1-1.1').awaitingRemoval, true);
});

test('a wedged flasher that ignores the abort still frees its slot with FAIL/timeout', async (t) => {
  const { source, ledger, station, link, events, waitDone } = setup({ boardTimeoutMs: 80, abortGraceMs: 50 });
  t.after(() => station.stop());
  link.script('1-1.1', { wedgeOnWrite: true });
  await station.start();
  source.plug('1-1.1');
  source.plug('1-1.2');
  await waitDone(2);
  const by = Object.fromEntries(ledger.records.map((r) => [r.portPath, r]));
  assert.equal(by['1-1.1'].code, 'timeout');
  assert.match(by['1-1.1'].message!, /did not respond to being stopped/);
  assert.equal(by['1-1.2'].result, 'pass');
  assert.equal(station.inFlight, 0);
  assert.equal(events.filter((e) => e.type === 'result' && e.slot === '1-1.1').length, 1);
});

test('a native-USB board re-enumerating after its reset is the same board, not a new one to flash', async (t) => {
  const { source, ledger, station, events, waitDone } = setup({ reenumerationGraceMs: 60 });
  t.after(() => station.stop());
  const s3 = { vid: '303a', pid: '1001', usbSerial: 'F4:12:FA:5B:3C:10' };
  await station.start();
  source.plug('1-1.4', '/dev/ttyACM0', s3);
  await waitDone(1);
  // The chip resets into its firmware: the USB device drops and comes back as ttyACM1, same serial (its MAC).
  source.unplug('1-1.4');
  assert.equal(slotSeen(events, '1-1.4').present, true, 'the removal is held');
  source.plug('1-1.4', '/dev/ttyACM1', s3);
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(ledger.records.length, 1, 'not flashed again');
  const snap = slotSeen(events, '1-1.4');
  assert.equal(snap.tty, '/dev/ttyACM1');
  assert.equal(snap.awaitingRemoval, true);
  assert.ok(!events.some((e) => e.type === 'slot-detached'), 'the operator never saw it leave');
  // Really pulled: the removal shows once the grace time is over.
  source.unplug('1-1.4');
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(events.filter((e) => e.type === 'slot-detached').length, 1);
  assert.equal(slotSeen(events, '1-1.4').state, 'empty');
  // Another board (another serial) plugged in quickly after a pull is flashed.
  source.plug('1-1.4', '/dev/ttyACM0', s3);
  await waitDone(2);
  source.unplug('1-1.4');
  source.plug('1-1.4', '/dev/ttyACM1', { ...s3, usbSerial: 'F4:12:FA:00:00:01' });
  await waitDone(3);
  assert.equal(ledger.records.length, 3);
  assert.equal(ledger.records[2].usbSerial, 'F4:12:FA:00:00:01');
});

test('a native-USB board re-enumerating during the connect reset keeps its slot and its attempt', async (t) => {
  const { source, ledger, station, link, events, waitDone, nextEvent, stateOf } = setup({
    reenumerationGraceMs: 500,
  });
  t.after(() => station.stop());
  const c3 = { vid: '303a', pid: '1001', usbSerial: '60:55:F9:00:00:07' };
  link.script('1-1.3', { connectDelayMs: 80 });
  await station.start();
  source.plug('1-1.3', '/dev/ttyACM0', c3);
  await nextEvent(stateOf('1-1.3', 'connecting'));
  assert.equal(slotSeen(events, '1-1.3').state, 'connecting');
  // Reset out of firmware that owned the USB: the device drops off the bus and comes back moments later.
  source.unplug('1-1.3');
  source.plug('1-1.3', '/dev/ttyACM0', c3);
  await waitDone(1);
  assert.equal(ledger.records.length, 1);
  assert.equal(ledger.records[0].result, 'pass');
  assert.equal(link.connects.length, 1, 'one attempt, never restarted');
  assert.ok(!events.some((e) => e.type === 'slot-detached'));
});

test('a bridge that cannot hold the fast baud (the switch itself times out) is flashed at the next one', async (t) => {
  const { source, ledger, station, link, waitDone } = setup();
  t.after(() => station.stop());
  link.script('1-1.1', { failBaudSwitchAt: [921600] });
  await station.start();
  source.plug('1-1.1');
  await waitDone(1);
  assert.equal(ledger.records[0].result, 'pass');
  assert.equal(ledger.records[0].baud, 460800);
  assert.ok(link.writes.every((w) => w.baud === 460800));
});
