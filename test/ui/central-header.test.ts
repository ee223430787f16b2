/** The central database link in the header and the log: shown only when a database is configured. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StationEvent } from '../../src/station/events.ts';
import { StationUiStore } from '../../src/ui/store.ts';
import { renderApp } from './app-render.tsx';
import { HEADER, waitFor } from './ui-harness.ts';

const central = (
  link: 'online' | 'offline',
  lagRecords = 0,
  lagSeconds = 0,
  message?: string,
): StationEvent => ({
  type: 'central',
  time: 1_700_000_000_000,
  slot: '',
  link,
  lagRecords,
  lagSeconds,
  database: 'postgres://station@db:5432/esp',
  ...(message && { message }),
});

test('central events set the link and lag, log link changes once, and create no slot', () => {
  const store = new StationUiStore({ header: HEADER, slots: [{ portPath: 'p1', name: 'A01' }] });
  assert.equal(store.snapshot().central, undefined);
  store.handle(central('online'));
  store.handle(central('offline', 3, 12, 'connection refused'));
  store.handle(central('offline', 4, 13, 'connection refused'));
  const snap = store.snapshot();
  assert.deepEqual(snap.central, { link: 'offline', lagRecords: 4, lagSeconds: 13 });
  assert.equal(snap.slots.length, 1);
  assert.deepEqual(
    snap.logBatch.lines.map((l) => [l.level, l.text]),
    [
      ['info', 'central database online'],
      ['warn', 'central database offline: connection refused'],
    ],
  );
});

test('the header shows the link, and the backlog while records wait', async (t) => {
  const app = renderApp(t, { slots: [{ portPath: 'p1', name: 'S1' }] });
  await waitFor(() => app.text().includes('line-7'), 'first frame');
  assert.doesNotMatch(app.text(), /central/);
  app.store.handle(central('offline', 12, 45, 'connection refused'));
  await waitFor(() => /central ● offline 12 rec 45 s/.test(app.text()), 'offline with lag');
  app.store.handle(central('online'));
  await waitFor(() => /central ● online/.test(app.text()) && !/rec \d+ s/.test(app.text()), 'online, no lag');
});

test('a station-wide log line (slot "") is logged without creating a slot', () => {
  const store = new StationUiStore({ header: HEADER, slots: [{ portPath: 'p1', name: 'A01' }] });
  store.handle({
    type: 'log',
    time: 1,
    slot: '',
    level: 'warn',
    message: 'central: st1.jsonl:4: torn line not shipped',
  });
  const snap = store.snapshot();
  assert.deepEqual(
    snap.slots.map((s) => s.portPath),
    ['p1'],
  );
  assert.deepEqual(
    snap.logBatch.lines.map((l) => [l.level, l.slotName, l.text]),
    [['warn', undefined, 'central: st1.jsonl:4: torn line not shipped']],
  );
});
