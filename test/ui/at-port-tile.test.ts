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

test('compact rows (80×24) mark the slots with an AT port too, in a column that keeps the rows aligned', async (t) => {
  const slots = Array.from({ length: 8 }, (_, i) => ({ portPath: `p${i}`, name: `S${i}` }));
  const app = renderApp(t, { slots, size: { columns: 80, rows: 24 } });
  for (let i = 0; i < 3; i++) {
    const e = attach(`p${i}`, `/dev/ttyUSB${i * 2}`);
    // S0 and S1 have an AT port (a dual bridge's second channel); S2 has none (atPort: none in config.yaml).
    if (i < 2 && e.type === 'slot-attached') e.slotInfo.atPort = `/dev/ttyUSB${i * 2 + 1}`;
    app.store.handle(e);
  }
  app.store.handle(state('p1', 'flashing'));
  await waitFor(() => app.text().includes('FLASH'), 'rows drawn');
  const f = app.text();
  assert.ok(!f.includes('╭'), 'compact rows, not tiles');
  const line = (name: string) => f.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
  assert.match(line('S0'), /^S0 +ttyUSB0 +\+AT +DETECTED\b/);
  assert.match(line('S1'), /^S1 +ttyUSB2 +\+AT +FLASH/);
  assert.match(line('S2'), /^S2 +ttyUSB4 +DETECTED\b/);
  assert.doesNotMatch(line('S2'), /\+AT/);
  // The state column starts at the same place on every row.
  const column = (l: string) => l.search(/DETECTED|FLASH/);
  assert.equal(column(line('S0')), column(line('S2')));
  assert.equal(column(line('S1')), column(line('S2')));
  assert.ok(f.split('\n').every((l) => l.length <= 80));
});
