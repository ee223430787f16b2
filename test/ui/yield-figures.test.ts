// The screen's yield figures, by the report's definitions (src/report): boards are MACs, an attempt without a
// MAC is an attempt and a failure but no board, first pass is a board's earliest attempt, boards per hour spans
// the first start to the last end, a slot is suspect when the report would flag it LOW.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LotYield } from '../../src/ui/yield-figures.ts';
import type { ResultEntry } from '../../src/ui/yield-figures.ts';

const NOW = new Date(2026, 10, 23, 15, 0, 0).getTime();
const MIN = 60_000;
const CTX = { station: 'st', profile: 'p', recipe: 'r'.repeat(64), demoFirmware: false };
const slots = ['s1', 's2', 's3', 's4'].map((p) => ({ portPath: p, name: p.toUpperCase() }));

let macs = 0;
function entry(
  minutesAgo: number,
  slot: string,
  r: 'pass' | 'fail',
  extra: Partial<ResultEntry> = {},
): ResultEntry {
  return {
    start: NOW - minutesAgo * MIN - 10_000,
    durationMs: 10_000,
    slot,
    slotName: slot.toUpperCase(),
    result: r,
    mac: `24:0A:C4:00:00:${(++macs).toString(16).padStart(2, '0').toUpperCase()}`,
    lot: 'L1',
    operator: 'op',
    ...(r === 'fail' && { code: 'write-error' as const }),
    ...extra,
  };
}

function lotWith(entries: ResultEntry[], lot = 'L1'): LotYield {
  const y = new LotYield(lot, CTX);
  for (const e of entries) y.add(e, NOW);
  return y;
}

test('lot and today tallies are separate; another lot counts only for today', () => {
  const f = lotWith([
    entry(50, 's1', 'pass'),
    entry(40, 's2', 'fail'),
    entry(30, 's1', 'pass', { lot: 'L0' }),
  ]).figures(NOW, slots);
  assert.deepEqual(f.lot, { passed: 1, failed: 1 });
  assert.deepEqual(f.today, { passed: 2, failed: 1 });
});

test('today starts again at midnight, and carries over to a new lot', () => {
  const y = lotWith([entry(10, 's1', 'pass')]);
  const tomorrow = NOW + 24 * 60 * MIN;
  assert.deepEqual(y.figures(tomorrow, slots).today, { passed: 0, failed: 0 });
  const next = new LotYield('L2', CTX, y.today(NOW));
  assert.deepEqual(next.figures(NOW, slots).today, { passed: 1, failed: 0 });
  assert.deepEqual(next.figures(NOW, slots).lot, { passed: 0, failed: 0 });
});

test('first-pass yield is per board (its earliest attempt); a retest does not lift it; no MAC is no board', () => {
  const retested = '24:0A:C4:00:AA:01';
  const f = lotWith([
    entry(10, 's1', 'pass'),
    entry(9, 's2', 'fail', { mac: retested }),
    entry(8, 's3', 'fail'),
    entry(7, 's4', 'pass'),
    entry(6, 's2', 'pass', { mac: retested }),
    entry(5, 's1', 'fail', { mac: undefined, code: 'no-sync' }),
  ]).figures(NOW, slots);
  assert.equal(f.boards, 4, 'the attempt without a MAC is not a board');
  assert.equal(f.firstPassYield, 0.5);
  assert.deepEqual(f.lot, { passed: 3, failed: 3 }, 'but it is an attempt and a failure');
  assert.deepEqual(f.failsByCode, [
    { code: 'write-error', count: 2 },
    { code: 'no-sync', count: 1 },
  ]);
});

test('boards per hour: boards over the hours from the first start to the last end; cycle is the median', () => {
  const f = lotWith([
    entry(30, 's1', 'pass', { durationMs: 8_000 }),
    entry(20, 's2', 'pass', { durationMs: 12_000 }),
    entry(0, 's3', 'pass', { durationMs: 10_000 }),
  ]).figures(NOW, slots);
  // First start 30 min + 10 s ago; last end 10 s ago … spans 30 min: 3 boards → 6 per hour.
  assert.ok(Math.abs(f.boardsPerHour! - 6) < 0.1, String(f.boardsPerHour));
  assert.equal(f.cycleMs, 10_000);
  assert.equal(lotWith([]).figures(NOW, slots).boardsPerHour, undefined);
});

test('a slot is suspect exactly when the report flags it LOW (z-test, at least 20 attempts here and elsewhere)', () => {
  const entries: ResultEntry[] = [];
  for (let i = 0; i < 30; i++) {
    for (const s of ['s1', 's2', 's3']) entries.push(entry(60, s, i % 15 === 0 ? 'fail' : 'pass'));
    entries.push(entry(60, 's4', i % 2 === 0 ? 'fail' : 'pass'));
  }
  const f = lotWith(entries).figures(NOW, slots);
  assert.deepEqual(
    f.perSlot.map((s) => [s.name, s.passed, s.failed, s.suspect]),
    [
      ['S1', 28, 2, false],
      ['S2', 28, 2, false],
      ['S3', 28, 2, false],
      ['S4', 15, 15, true],
    ],
  );
  // Too few attempts to judge: even 4 failures of 5 is not flagged yet.
  const early = lotWith([
    ...Array.from({ length: 4 }, () => entry(5, 's4', 'fail')),
    entry(5, 's4', 'pass'),
    ...Array.from({ length: 30 }, () => entry(5, 's1', 'pass')),
  ]).figures(NOW, slots);
  assert.equal(early.perSlot.find((s) => s.name === 'S4')?.suspect, false);
});
