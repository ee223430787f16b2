import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binomialUpperTail, computeYield } from '../../src/ui/yield-figures.ts';
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

test('binomial upper tail: exact small cases and the edges', () => {
  assert.equal(binomialUpperTail(0, 10, 0.3), 1);
  assert.equal(binomialUpperTail(11, 10, 0.3), 0);
  assert.ok(Math.abs(binomialUpperTail(2, 2, 0.5) - 0.25) < 1e-12);
  assert.ok(Math.abs(binomialUpperTail(1, 3, 0.5) - 0.875) < 1e-12);
  assert.equal(binomialUpperTail(3, 10, 0), 0);
  assert.ok(binomialUpperTail(400, 1000, 0.5) > 0.999);
});

test('one unlucky slot among many is not flagged; a clearly bad one is', () => {
  const list: ResultEntry[] = [];
  const many = Array.from({ length: 32 }, (_, i) => ({ portPath: `q${i}`, name: `Q${i}` }));
  // Station-wide ~7 % failures; q0 has 4/14 (plausible luck), q1 has 6/14 (not).
  for (const s of many.slice(2))
    for (let i = 0; i < 14; i++) list.push(entry(i, s.portPath, i === 0 ? 'fail' : 'pass'));
  for (let i = 0; i < 14; i++) list.push(entry(i, 'q0', i < 4 ? 'fail' : 'pass'));
  for (let i = 0; i < 14; i++) list.push(entry(i, 'q1', i < 6 ? 'fail' : 'pass'));
  const f = computeYield(list, { lot: 'L1', now: NOW, lotStart: NOW - 60 * MIN, slots: many });
  const bySlot = new Map(f.perSlot.map((s) => [s.slot, s]));
  assert.equal(bySlot.get('q0')?.suspect, false);
  assert.equal(bySlot.get('q1')?.suspect, true);
  assert.equal(f.perSlot.filter((s) => s.suspect).length, 1);
});
