// What the screen says about one board: one log line per outcome with its retries summed up, the retry and the
// wait on the tile while they happen, and nothing twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StationEvent } from '../../src/station/events.ts';
import { tileLines } from '../../src/ui/slot-text.ts';
import { StationUiStore } from '../../src/ui/store.ts';
import { renderApp } from './app-render.tsx';
import { attach, HEADER, progress, result, state, waitFor } from './ui-harness.ts';

function newStore(opts: { verbose?: boolean; now?: () => number } = {}): StationUiStore {
  return new StationUiStore({ header: HEADER, slots: [{ portPath: 'p1', name: 'A1' }], ...opts });
}

const retry = (n: number, reason: string, message: string): StationEvent => ({
  type: 'retry',
  time: Date.now(),
  slot: 'p1',
  scope: 'region',
  n,
  of: 2,
  reason,
  message,
});

const tileText = (store: StationUiStore) =>
  tileLines(store.snapshot().slots[0], 60)
    .map((l) => l.map((s) => s.text).join(''))
    .join('\n');

function badBoard(store: StationUiStore): void {
  store.handle(attach('p1'));
  store.handle(state('p1', 'flashing'));
  for (let i = 0; i < 11; i++) {
    store.handle(
      retry((i % 2) + 1, 'MD5 mismatch', `region bootloader failed (flash MD5 ${i} does not match)`),
    );
    store.handle({
      type: 'log',
      time: Date.now(),
      slot: 'p1',
      level: 'warn',
      message: `writing at 921600 failed ${i}`,
    });
  }
  store.handle(result('p1', 'fail', { code: 'verify-mismatch', message: 'MD5 differs' }));
}

test('one bad board is one log line: its outcome, with the retries summed up', () => {
  const store = newStore();
  badBoard(store);
  const lines = store.snapshot().logBatch.lines.map((l) => l.text);
  assert.deepEqual(lines, ['FAIL 24:0A:C4:12:34:56: verify mismatch (after 11 retries) — MD5 differs']);
});

test('--verbose logs every retry and warning as well', () => {
  const store = newStore({ verbose: true });
  badBoard(store);
  const lines = store.snapshot().logBatch.lines;
  assert.equal(lines.length, 23);
  assert.match(lines[0].text, /region bootloader failed \(flash MD5 0/);
  assert.match(lines[22].text, /^FAIL .*after 11 retries/);
});

test('a PASS after a retry says so; a clean PASS does not', () => {
  const store = newStore();
  store.handle(attach('p1'));
  store.handle(state('p1', 'flashing'));
  store.handle(retry(1, 'no reply', 'region app failed (timeout); retry 1/2'));
  store.handle(result('p1', 'pass', { durationMs: 17_400 }));
  store.handle({ type: 'slot-detached', time: Date.now(), slot: 'p1', wasBusy: false });
  store.handle(attach('p1'));
  store.handle(result('p1', 'pass', { durationMs: 16_000 }));
  assert.deepEqual(
    store.snapshot().logBatch.lines.map((l) => l.text),
    ['PASS 24:0A:C4:12:34:56 in 17.4 s (after 1 retry)', 'PASS 24:0A:C4:12:34:56 in 16.0 s'],
  );
});

test('the tile shows the retry until the write moves on to the next region', () => {
  const store = newStore();
  store.handle(attach('p1'));
  store.handle(state('p1', 'flashing'));
  store.handle({ type: 'progress', time: 1, slot: 'p1', progress: progress(300, 1000, { regionIndex: 0 }) });
  store.handle(retry(1, 'no reply', 'region bootloader failed (timeout); retry 1/2'));
  assert.match(tileText(store), /retry 1\/2: no reply/);
  store.handle({ type: 'progress', time: 2, slot: 'p1', progress: progress(400, 1000, { regionIndex: 0 }) });
  assert.match(tileText(store), /retry 1\/2: no reply/, 'still rewriting the same region');
  store.handle({ type: 'progress', time: 3, slot: 'p1', progress: progress(500, 1000, { regionIndex: 1 }) });
  assert.doesNotMatch(tileText(store), /retry/);
  assert.match(tileText(store), /ETA 00:03/);
});

test('a board that stops answering mid-write: the tile counts the seconds it waits instead of a frozen ETA', () => {
  let now = 1_800_000_000_000;
  const store = newStore({ now: () => now });
  store.handle(attach('p1'));
  store.handle(state('p1', 'flashing'));
  store.handle({ type: 'progress', time: now, slot: 'p1', progress: progress(420, 1000) });
  now += 2000;
  assert.match(tileText(store), /ETA 00:03/, 'two seconds without news is normal');
  now += 10_000;
  assert.match(tileText(store), /no reply for 12 s, waiting/);
  assert.doesNotMatch(tileText(store), /ETA/);
  store.handle(retry(1, 'no reply', 'region app failed (timeout); retry 1/2'));
  assert.match(tileText(store), /retry 1\/2: no reply/);
  store.handle({ type: 'progress', time: now, slot: 'p1', progress: progress(450, 1000) });
  assert.doesNotMatch(tileText(store), /waiting/);
});

test("operator and lot changes are logged once, from the station's event", () => {
  const store = newStore();
  store.handle({ type: 'station', time: 1, state: 'running', message: 'detection: simulated' });
  store.setOperator('anna');
  store.handle({ type: 'station', time: 2, state: 'running', message: 'operator: anna' });
  store.setLot('L7');
  store.handle({ type: 'station', time: 3, state: 'running', message: 'lot: L7' });
  assert.deepEqual(
    store.snapshot().logBatch.lines.map((l) => l.text),
    ['station running: detection: simulated', 'operator: anna', 'lot: L7'],
  );
  assert.equal(store.snapshot().header.operator, 'anna');
});

test('several Backspaces arriving in one read each delete a character', async (t) => {
  const app = renderApp(t, { slots: [{ portPath: 'p1', name: 'A1' }] });
  await waitFor(() => app.text().includes('line-7'), 'first frame');
  await new Promise((r) => setImmediate(r));
  app.stdin.write('o');
  await waitFor(() => app.text().includes('OPERATOR:'), 'entry');
  app.stdin.write('annabel');
  await waitFor(() => app.text().includes('OPERATOR:  annabel'), 'typed');
  app.stdin.write('\x7f\x7f\x7f');
  await waitFor(() => app.text().includes('OPERATOR:  anna '), 'three deleted');
  app.stdin.write('\r');
  await waitFor(() => app.controls.calls.includes('operator:anna'), 'saved');
});

test('a long log line wraps instead of losing its end (the seed that repeats a run)', async (t) => {
  const app = renderApp(t, { size: { columns: 80, rows: 24 } });
  const message = `detection: simulated USB bus, 12 boards, seed 2105975461 (repeat this run with --seed 2105975461)`;
  app.store.handle({ type: 'station', time: Date.now(), state: 'running', message });
  await waitFor(() => app.text().includes('detection: simulated'), 'log line');
  assert.match(app.text().replace(/\n/g, ' '), /--seed\s+2105975461\)/);
});
