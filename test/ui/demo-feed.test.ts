import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SLOT_STATES, StationEventBus } from '../../src/station/events.ts';
import type { StationEvent } from '../../src/station/events.ts';
import { demoSlots, seededRandom, startDemoFeed } from '../../src/ui/demo-feed.ts';
import { StationUiStore } from '../../src/ui/store.ts';
import { HEADER, waitFor } from './ui-harness.ts';

test('demo feed: each slot follows the station pipeline order, and stops on abort', async (t) => {
  const bus = new StationEventBus();
  const slots = demoSlots(4);
  const events: StationEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const store = new StationUiStore({ header: HEADER, slots });
  bus.subscribe((e) => store.handle(e));
  const abort = new AbortController();
  t.after(() => abort.abort());
  const feed = startDemoFeed({
    bus,
    slots,
    signal: abort.signal,
    speed: 40,
    progressHz: 10,
    faultRate: 0.5,
    random: seededRandom(11),
  });
  const results = (): number => events.filter((e) => e.type === 'result').length;
  // Generous: on a loaded machine timers run late (the feed uses real timers, 40× faster than life).
  await waitFor(() => results() >= 8, '8 results', 90_000);
  abort.abort();
  await feed.done;
  assert.equal(feed.inFlight, 0);

  const seenFail = events.some((e) => e.type === 'result' && e.result === 'fail' && e.code !== undefined);
  const seenPass = events.some((e) => e.type === 'result' && e.result === 'pass');
  assert.ok(seenFail && seenPass, 'both outcomes appear');

  for (const s of slots) {
    let phase: 'out' | 'in' | 'done' = 'out';
    let lastIndex = -1;
    for (const e of events) {
      if (e.type === 'station' || e.slot !== s.portPath) continue;
      switch (e.type) {
        case 'slot-attached':
          assert.equal(phase, 'out', `${s.name}: attached twice`);
          phase = 'in';
          lastIndex = -1;
          break;
        case 'state': {
          assert.equal(phase, 'in', `${s.name}: state ${e.state} outside a board`);
          const i = SLOT_STATES.indexOf(e.state);
          assert.ok(i >= lastIndex, `${s.name}: ${e.state} after ${SLOT_STATES[lastIndex]}`);
          lastIndex = i;
          break;
        }
        case 'progress':
          assert.ok(
            ['flashing', 'verifying'].includes(SLOT_STATES[lastIndex]),
            `${s.name}: progress while ${SLOT_STATES[lastIndex]}`,
          );
          assert.ok(e.progress.overallDone <= e.progress.overallTotal);
          break;
        case 'result':
          assert.equal(phase, 'in');
          assert.equal(
            SLOT_STATES[lastIndex],
            e.result,
            `${s.name}: result ${e.result} after state ${SLOT_STATES[lastIndex]}`,
          );
          assert.equal(e.result === 'fail', e.code !== undefined);
          phase = 'done';
          break;
        case 'awaiting-removal':
          assert.equal(phase, 'done');
          break;
        case 'slot-detached':
          assert.equal(phase, 'done', `${s.name}: detached before its result`);
          phase = 'out';
          break;
      }
    }
  }

  // The store agrees with what was published.
  const f = store.snapshot().yieldFigures;
  const published = events.filter((e) => e.type === 'result');
  assert.equal(f.lot.passed + f.lot.failed, published.length);
  assert.equal(f.lot.failed, published.filter((e) => e.type === 'result' && e.result === 'fail').length);
});

test('seededRandom repeats and spreads over [0, 1)', () => {
  const a = seededRandom(5);
  const b = seededRandom(5);
  const xs = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(
    xs.slice(0, 5),
    Array.from({ length: 5 }, () => b()),
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.ok(xs.filter((x) => x < 0.5).length > 400 && xs.filter((x) => x < 0.5).length < 600);
});
