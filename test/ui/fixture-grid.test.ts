// The grid mirrors the fixture: configured slots in config order, the rest in natural port-path order, an
// optional layout with gaps, and a slot keeps its place when its board is pulled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arrangeSlots, naturalCompare, slotComparator } from '../../src/ui/slot-order.ts';
import { StationUiStore } from '../../src/ui/store.ts';
import { renderApp } from './app-render.tsx';
import { attach, HEADER, waitFor } from './ui-harness.ts';

test('natural port-path order: 1-1.2 before 1-1.10, a hub behind a port after the port, bus 2 after bus 1', () => {
  const paths = ['2-1', '1-1.10', '1-2.1', '1-1.2', '1-1.4.2', '1-1.4'];
  assert.deepEqual(paths.sort(naturalCompare), ['1-1.2', '1-1.4', '1-1.4.2', '1-1.10', '1-2.1', '2-1']);
});

test('configured slots keep config order; slots nobody named follow in port-path order, not detection order', () => {
  const store = new StationUiStore({
    header: HEADER,
    slots: [
      { portPath: '1-3.2', name: 'B2' },
      { portPath: '1-3.1', name: 'A1' },
    ],
  });
  // Boards show up in the order the USB hubs happen to report them.
  for (const p of ['1-1.3', '1-2.3', '1-3.1', '1-1.2', '1-1.10']) store.handle(attach(p));
  assert.deepEqual(
    store.snapshot().slots.map((s) => s.name),
    ['B2', 'A1', '1-1.2', '1-1.3', '1-1.10', '1-2.3'],
  );
  assert.ok(slotComparator(['x'])('x', 'a') < 0, 'a configured slot sorts before any other');
});

test('a slot keeps its place (and loses its tty) when its board is pulled', () => {
  const store = new StationUiStore({ header: HEADER });
  for (const p of ['1-1.1', '1-1.2', '1-1.3']) store.handle(attach(p, `/dev/ttyUSB-${p}`));
  store.handle({ type: 'slot-detached', time: Date.now(), slot: '1-1.2', wasBusy: false });
  const slots = store.snapshot().slots;
  assert.deepEqual(
    slots.map((s) => s.portPath),
    ['1-1.1', '1-1.2', '1-1.3'],
  );
  assert.equal(slots[1].state, 'empty');
  assert.equal(slots[1].tty, undefined, 'an empty slot shows no tty: the next board may get another one');
});

test('a fixture layout places slots by row with gaps; slots it does not name go below in rows of its width', () => {
  const v = (p: string) => ({ portPath: p });
  const grid = arrangeSlots([v('a1'), v('a3'), v('b1'), v('b2'), v('x1'), v('x2'), v('x3')], 99, [
    ['a1', null, 'a3'],
    ['b1', 'b2'],
  ]);
  assert.deepEqual(
    grid.map((r) => r.map((s) => s?.portPath ?? '·')),
    [
      ['a1', '·', 'a3'],
      ['b1', 'b2'],
      ['x1', 'x2', 'x3'],
    ],
  );
});

/** Column (in cells) where a slot name's tile starts on the line that holds it. */
function place(frame: string, name: string): { line: number; column: number } {
  const lines = frame.split('\n');
  const line = lines.findIndex((l) => new RegExp(`[│┃] ${name} `).test(l));
  assert.ok(line >= 0, `${name} on screen`);
  return { line, column: lines[line].indexOf(` ${name} `) };
}

test('on screen, the tiles stand where the fixture has its slots, gaps included', async (t) => {
  const slots = ['A1', 'A3', 'B1', 'B2', 'B3'].map((n) => ({ portPath: `p-${n}`, name: n }));
  const app = renderApp(t, {
    slots,
    fixture: [
      ['p-A1', null, 'p-A3'],
      ['p-B1', 'p-B2', 'p-B3'],
    ],
    size: { columns: 100, rows: 40 },
    big: 'never',
  });
  await waitFor(() => app.text().includes('B3'), 'grid');
  const f = app.text();
  const [a1, a3, b1, b2, b3] = ['A1', 'A3', 'B1', 'B2', 'B3'].map((n) => place(f, n));
  assert.equal(a1.line, a3.line);
  assert.equal(b1.line, b2.line);
  assert.ok(b1.line > a1.line);
  assert.equal(a1.column, b1.column, 'A1 above B1');
  assert.equal(a3.column, b3.column, 'A3 above B3: the gap keeps its width');
  const aboveB2 = f.split('\n')[a1.line].slice(b2.column - 1, b2.column + 10);
  assert.equal(aboveB2.trim(), '', 'nothing above B2: the fixture has a gap there');
});

test('compact rows follow the fixture too: one line per fixture row, one column per fixture column', async (t) => {
  const names = ['A1', 'A2', 'B1', 'B2', 'C1', 'C2', 'D1', 'D2'];
  const slots = names.map((n) => ({ portPath: `p-${n}`, name: n }));
  const app = renderApp(t, {
    slots,
    fixture: [
      ['p-A1', 'p-B1', 'p-C1', 'p-D1'],
      ['p-A2', 'p-B2', 'p-C2', 'p-D2'],
    ],
    size: { columns: 160, rows: 16 },
  });
  await waitFor(() => app.text().includes('D2'), 'rows');
  const lines = app.text().split('\n');
  const row1 = lines.find((l) => l.startsWith('A1 '))!;
  const row2 = lines.find((l) => l.startsWith('A2 '))!;
  assert.ok(row1 && row2, 'A1 and A2 start their lines');
  assert.ok(row1.indexOf('B1') > 0 && row1.indexOf('C1') > row1.indexOf('B1') && row1.indexOf('D1') > 0);
  assert.equal(row1.indexOf('B1'), row2.indexOf('B2'), 'B1 above B2');
});
