import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeYield } from '../../src/ui/yield-figures.ts';
import type { ResultEntry } from '../../src/ui/yield-figures.ts';

const NOW = new Date(2026, 10, 23, 15, 0, 0).getTime();
const MIN = 60_000;
const slots = ['s1', 's2', 's3', 's4'].map((p) => ({ portPath: p, name: p.toUpperCase() }));

function entry(
  minutesAgo: number,
  slot: string,
  r: 'pass' | 'fail',
  extra: Partial<ResultEntry> = {},
): ResultEntry {
  return {
    time: NOW - minutesAgo * MIN,
    slot,
    result: r,
    attempt: 1,
    durationMs: 10_000,
    lot: 'L1',
    ...extra,
  };
}

test('lot and today tallies are separate; another lot counts only for today', () => {
  const f = computeYield(
    [entry(50, 's1', 'pass'), entry(40, 's2', 'fail'), entry(30, 's1', 'pass', { lot: 'L0' })],
    { lot: 'L1', now: NOW, lotStart: NOW - 120 * MIN, slots },
  );
  assert.deepEqual(f.lot, { passed: 1, failed: 1 });
  assert.deepEqual(f.today, { passed: 2, failed: 1 });
});

test('yesterday does not count for today', () => {
  const f = computeYield([entry(16 * 60, 's1', 'pass')], {
    lot: 'L1',
    now: NOW,
    lotStart: NOW - 48 * 60 * MIN,
    slots,
  });
  assert.deepEqual(f.today, { passed: 0, failed: 0 });
  assert.deepEqual(f.lot, { passed: 1, failed: 0 });
});

test('first-pass yield counts only first attempts; retests do not lift it', () => {
  const f = computeYield(
    [
      entry(10, 's1', 'pass'),
      entry(9, 's2', 'fail'),
      entry(8, 's3', 'fail'),
      entry(7, 's4', 'pass'),
      entry(6, 's2', 'pass', { attempt: 2 }),
    ],
    { lot: 'L1', now: NOW, lotStart: NOW - 60 * MIN, slots },
  );
  assert.equal(f.firstPassYield, 0.5);
  assert.deepEqual(f.lot, { passed: 3, failed: 2 });
});

test('boards per hour over the last hour, scaled when the lot is younger than an hour', () => {
  const list = [
    entry(90, 's1', 'pass'),
    entry(50, 's1', 'pass'),
    entry(20, 's2', 'pass'),
    entry(5, 's3', 'fail'),
  ];
  const hourOld = computeYield(list, { lot: 'L1', now: NOW, lotStart: NOW - 120 * MIN, slots });
  assert.equal(hourOld.boardsPerHour, 3);
  const young = computeYield(list, { lot: 'L1', now: NOW, lotStart: NOW - 30 * MIN, slots });
  assert.equal(young.boardsPerHour, 4); // 2 boards in 30 minutes
  const tooYoung = computeYield(list, { lot: 'L1', now: NOW, lotStart: NOW - 30_000, slots });
  assert.equal(tooYoung.boardsPerHour, undefined);
});

test('mean cycle time is the mean attempt duration of the lot', () => {
  const f = computeYield(
    [entry(3, 's1', 'pass', { durationMs: 10_000 }), entry(2, 's2', 'fail', { durationMs: 4_000 })],
    {
      lot: 'L1',
      now: NOW,
      lotStart: NOW - 10 * MIN,
      slots,
    },
  );
  assert.equal(f.meanCycleMs, 7_000);
  assert.equal(computeYield([], { lot: 'L1', now: NOW, lotStart: NOW, slots }).meanCycleMs, undefined);
});

test('a slot failing far more than the rest is suspect; spread-out failures are not', () => {
  const list: ResultEntry[] = [];
  for (let i = 0; i < 10; i++) {
    list.push(entry(i, 's1', 'pass'), entry(i, 's2', 'pass'), entry(i, 's4', 'pass'));
    list.push(entry(i, 's3', i < 5 ? 'fail' : 'pass', { code: 'no-sync' }));
  }
  list.push(entry(1, 's1', 'fail', { code: 'timeout' }));
  const f = computeYield(list, { lot: 'L1', now: NOW, lotStart: NOW - 60 * MIN, slots });
  const bySlot = new Map(f.perSlot.map((s) => [s.slot, s]));
  assert.equal(bySlot.get('s3')?.suspect, true);
  assert.equal(bySlot.get('s3')?.failed, 5);
  assert.equal(bySlot.get('s1')?.suspect, false);
  assert.deepEqual(
    f.perSlot.map((s) => s.name),
    ['S1', 'S2', 'S3', 'S4'],
  );
  assert.deepEqual(f.failsByCode, [
    { code: 'no-sync', count: 5 },
    { code: 'timeout', count: 1 },
  ]);

  const even: ResultEntry[] = [];
  for (const s of ['s1', 's2', 's3', 's4'])
    for (let i = 0; i < 6; i++) even.push(entry(i, s, i < 3 ? 'fail' : 'pass'));
  const g = computeYield(even, { lot: 'L1', now: NOW, lotStart: NOW - 60 * MIN, slots });
  assert.equal(
    g.perSlot.some((s) => s.suspect),
    false,
  );
});
