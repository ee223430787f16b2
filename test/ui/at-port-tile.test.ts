import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderApp } from './app-render.tsx';
import { attach, state, waitFor } from './ui-harness.ts';

test('a slot with an AT port says so on its tile; TESTING names the step', async (t) => {
  const slots = [
    { portPath: 'p1', name: 'S1' },
    { portPath: 'p2', name: 'S2' },
  ];
  const app = renderApp(t, { slots, size: { columns: 100, rows: 30 } });
  const withAt = attach('p1', '/dev/ttyUSB0');
  if (withAt.type === 'slot-attached') withAt.slotInfo.atPort = '/dev/ttyUSB1';
  app.store.handle(withAt);
  app.store.handle(attach('p2', '/dev/ttyUSB2'));
  const testing = state('p1', 'testing');
  if (testing.type === 'state') testing.message = 'version: AT+GMR';
  app.store.handle(testing);
  await waitFor(() => app.text().includes('TESTING'), 'the testing state');
  const f = app.text();
  assert.match(f, /S1 ttyUSB0 \+AT/);
  assert.doesNotMatch(f, /S2 ttyUSB2 \+AT/);
  assert.match(f, /version: AT\+GMR/);
});
