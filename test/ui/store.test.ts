import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StationUiStore } from '../../src/ui/store.ts';
import type { StationEvent } from '../../src/station/events.ts';
import { BOARD, HEADER, attach, progress, result, state } from './ui-harness.ts';

function newStore(now = () => 1_700_000_000_000): StationUiStore {
  return new StationUiStore({ header: HEADER, slots: [{ portPath: 'p1', name: 'A01' }], now });
}

test('configured slots exist empty before any event, in order, with their names', () => {
  const store = new StationUiStore({
    header: HEADER,
    slots: [
      { portPath: 'p2', name: 'B' },
      { portPath: 'p1', name: 'A' },
    ],
  });
  const snap = store.snapshot();
  assert.deepEqual(
    snap.slots.map((s) => [s.name, s.state, s.attached]),
    [
      ['B', 'empty', false],
      ['A', 'empty', false],
    ],
  );
});

test('a board walks through attach, states, progress and result; detach keeps the last result', () => {
  const store = newStore();
  store.handle(attach('p1', '/dev/ttyUSB4'));
  store.handle(state('p1', 'connecting'));
  store.handle(state('p1', 'identifying'));
  store.handle(state('p1', 'flashing'));
  store.handle({ type: 'progress', time: 1, slot: 'p1', progress: progress(500, 1000) });
  let s = store.snapshot().slots[0];
  assert.equal(s.state, 'flashing');
  assert.equal(s.tty, '/dev/ttyUSB4');
  assert.equal(s.board?.mac, '24:0A:C4:12:34:56');
  assert.equal(s.progress?.overallDone, 500);
  store.handle(result('p1', 'fail', { code: 'verify-mismatch' }));
  store.handle({ type: 'awaiting-removal', time: 2, slot: 'p1' });
  s = store.snapshot().slots[0];
  assert.equal(s.state, 'fail');
  assert.equal(s.result?.code, 'verify-mismatch');
  assert.equal(s.awaitingRemoval, true);
  store.handle({ type: 'slot-detached', time: 3, slot: 'p1', wasBusy: false });
  s = store.snapshot().slots[0];
  assert.equal(s.state, 'empty');
  assert.equal(s.attached, false);
  assert.equal(s.board, undefined);
  assert.equal(s.result, undefined);
  assert.equal(s.lastResult?.result, 'fail');
});

test('a result reported twice (recorded false, then true) counts once and updates', () => {
  const store = newStore();
  store.handle(attach('p1'));
  store.handle(state('p1', 'boot-check'));
  store.handle(result('p1', 'pass', { recorded: false }));
  assert.equal(store.snapshot().slots[0].result?.recorded, false);
  store.handle(result('p1', 'pass', { recorded: true }));
  const snap = store.snapshot();
  assert.equal(snap.slots[0].result?.recorded, true);
  assert.deepEqual(snap.yieldFigures.lot, { passed: 1, failed: 0 });
  // The next board in the same slot counts again.
  store.handle({ type: 'slot-detached', time: 5, slot: 'p1', wasBusy: false });
  store.handle(attach('p1'));
  store.handle(state('p1', 'connecting'));
  store.handle(result('p1', 'fail', { code: 'no-sync', board: undefined }));
  assert.deepEqual(store.snapshot().yieldFigures.lot, { passed: 1, failed: 1 });
});

test('log lines are handed out once, in batches with a fresh key', () => {
  const store = newStore();
  const first = store.snapshot().logBatch;
  store.handle({ type: 'log', time: 1, slot: 'p1', level: 'error', message: 'baud fell back to 115200' });
  store.handle(result('p1', 'pass'));
  const batch = store.snapshot().logBatch;
  assert.notEqual(batch.key, first.key);
  assert.deepEqual(
    batch.lines.map((l) => [l.level, l.slotName, l.text.split(' ')[0]]),
    [
      ['error', 'A01', 'baud'],
      ['pass', 'A01', 'PASS'],
    ],
  );
  // No new lines: the same batch again (Ink's Static then writes nothing new).
  assert.equal(store.snapshot().logBatch, batch);
});

test('unchanged slots keep the same snapshot object, so their tiles are not re-rendered', () => {
  const store = new StationUiStore({
    header: HEADER,
    slots: [
      { portPath: 'p1', name: 'A' },
      { portPath: 'p2', name: 'B' },
    ],
  });
  const a = store.snapshot();
  store.handle({ type: 'progress', time: 1, slot: 'p2', progress: progress(1, 2) });
  const b = store.snapshot();
  assert.equal(b.slots[0], a.slots[0]);
  assert.notEqual(b.slots[1], a.slots[1]);
});

test('changing the lot starts new lot figures; today keeps counting', () => {
  let now = 1_700_000_000_000;
  const store = newStore(() => now);
  store.handle(attach('p1'));
  store.handle(result('p1', 'pass'));
  store.setLot('LOT-2');
  now += 1000;
  let snap = store.snapshot();
  assert.equal(snap.header.lot, 'LOT-2');
  assert.deepEqual(snap.yieldFigures.lot, { passed: 0, failed: 0 });
  store.handle({ type: 'slot-detached', time: 5, slot: 'p1', wasBusy: false });
  store.handle(attach('p1'));
  store.handle(result('p1', 'fail', { code: 'timeout' }));
  snap = store.snapshot();
  assert.deepEqual(snap.yieldFigures.lot, { passed: 0, failed: 1 });
  assert.equal(snap.yieldFigures.today.passed + snap.yieldFigures.today.failed, 2);
});

test('a board pulled while busy gets one log line, its FAIL; station events set the run state', () => {
  const store = newStore();
  store.handle({ type: 'station', time: 1, state: 'paused' });
  store.handle(attach('p1'));
  store.handle(state('p1', 'flashing'));
  store.handle({ type: 'slot-detached', time: 2, slot: 'p1', wasBusy: true });
  store.handle(result('p1', 'fail', { code: 'disconnected', message: 'board unplugged' }));
  const snap = store.snapshot();
  assert.equal(snap.runState, 'paused');
  const boardLines = snap.logBatch.lines.filter((l) => l.slotName === 'A01');
  assert.deepEqual(
    boardLines.map((l) => l.text),
    ['FAIL 24:0A:C4:12:34:56: board unplugged — board unplugged'],
  );
});

test('an empty slot shows no board even when the state event still carries one', () => {
  const store = newStore();
  store.handle(attach('p1'));
  store.handle(state('p1', 'flashing'));
  store.handle(result('p1', 'pass'));
  store.handle({ type: 'slot-detached', time: 9, slot: 'p1', wasBusy: false });
  store.handle({ type: 'state', time: 10, slot: 'p1', state: 'empty', attempt: 1, board: BOARD });
  const s = store.snapshot().slots[0];
  assert.equal(s.state, 'empty');
  assert.equal(s.board, undefined);
  assert.equal(s.lastResult?.result, 'pass');
});

test('a new lot starts its own figures; a new day starts today again', () => {
  let now = new Date(2026, 10, 22, 12, 0, 0).getTime();
  const store = newStore(() => now);
  store.handle(attach('p1'));
  store.handle({ ...result('p1', 'pass'), time: now } as StationEvent);
  store.setLot('LOT-2');
  store.handle({ type: 'slot-detached', time: now, slot: 'p1', wasBusy: false });
  store.handle(attach('p1'));
  store.handle({ ...result('p1', 'fail', { code: 'timeout' }), time: now } as StationEvent);
  // Next day, lot LOT-3: yesterday's LOT-1 and LOT-2 results count neither for this lot nor for today.
  now += 24 * 3_600_000;
  store.setLot('LOT-3');
  store.handle({ type: 'slot-detached', time: now, slot: 'p1', wasBusy: false });
  store.handle(attach('p1'));
  store.handle({ ...result('p1', 'pass'), time: now } as StationEvent);
  const f = store.snapshot().yieldFigures;
  assert.deepEqual(f.lot, { passed: 1, failed: 0 });
  assert.deepEqual(f.today, { passed: 1, failed: 0 });
});
