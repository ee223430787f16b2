/**
 * The house rules of src/ (docs/architecture.md): every directory is a room on a floor (rooms.ts), no import
 * runs from a lower room to a higher one or across one floor, no module loads itself back through a loop (types
 * included), and a file over 400 lines says why at its top.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { importGraph, loops, roomOf, type ImportEdge } from './import-graph.ts';
import { FLOOR_OF, FLOORS } from './rooms.ts';

const SRC = resolve(import.meta.dirname, '../../src');
const edges = importGraph(SRC);

test('the graph is read: value and type imports, the CLI wiring among them', () => {
  assert.ok(edges.length > 300, `${edges.length} imports found`);
  assert.ok(edges.some((e) => e.from === 'cli/commands/run.ts' && e.to === 'cli/build-station.ts'));
  assert.ok(edges.some((e) => e.typeOnly) && edges.some((e) => !e.typeOnly));
});

test('every directory under src/ is a room with a floor, each room named once', () => {
  const rooms = FLOORS.flat();
  assert.equal(new Set(rooms).size, rooms.length, 'a room is on one floor only');
  const dirs = readdirSync(SRC, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
  const unplaced = dirs.filter((d) => !FLOOR_OF.has(d));
  assert.deepEqual(unplaced, [], 'place new rooms on a floor in test/architecture/rooms.ts');
  const loose = readdirSync(SRC, { withFileTypes: true }).filter((d) => d.isFile());
  assert.deepEqual(
    loose.map((d) => join('src', d.name)),
    [],
    'every source file lives in a room',
  );
});

/** Imports that leave their room for one on the same floor or above, or for a room not on the plan. */
function wrongWay(list: readonly ImportEdge[]): string[] {
  return list
    .filter((e) => roomOf(e.from) !== roomOf(e.to))
    .filter((e) => {
      const from = FLOOR_OF.get(roomOf(e.from));
      const to = FLOOR_OF.get(roomOf(e.to));
      return from === undefined || to === undefined || to <= from;
    })
    .map((e) => `${e.from} → ${e.to}${e.typeOnly ? ' (type)' : ''}`);
}

test('no import runs from a lower room to a higher one, or between rooms on one floor (types too)', () => {
  assert.deepEqual(wrongWay(edges), []);
});

test('no import loop, type imports included (shared types live in a file of their own)', () => {
  assert.deepEqual(loops(edges), []);
});

test('the checks see what they look for: made-up wrong imports and a loop are found', () => {
  const made: ImportEdge[] = [
    { from: 'ledger/record.ts', to: 'station/failure-codes.ts', typeOnly: true },
    { from: 'ui/store.ts', to: 'sim-station/fault-mix.ts', typeOnly: false },
    { from: 'nvs/partition.ts', to: 'cli/main.ts', typeOnly: false },
    { from: 'station/station.ts', to: 'esp/loader.ts', typeOnly: false },
    { from: 'serial/transport.ts', to: 'serial/socket-transport.ts', typeOnly: false },
    { from: 'serial/socket-transport.ts', to: 'serial/transport.ts', typeOnly: false },
  ];
  assert.deepEqual(wrongWay(made), [
    'ledger/record.ts → station/failure-codes.ts (type)',
    'ui/store.ts → sim-station/fault-mix.ts',
    'nvs/partition.ts → cli/main.ts',
  ]);
  assert.deepEqual(loops(made), [['serial/transport.ts', 'serial/socket-transport.ts']]);
});

test('a source file over 400 lines says at its top why it is one file', () => {
  const unexplained: string[] = [];
  const walk = (dir: string): void => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (/\.tsx?$/.test(d.name)) {
        const text = readFileSync(p, 'utf8');
        const lines = text.split('\n').length;
        const top = text.slice(0, text.indexOf('*/') + 2);
        if (lines > 400 && !/over 400 lines/i.test(top))
          unexplained.push(`${p.slice(SRC.length + 1)} (${lines})`);
      }
    }
  };
  walk(SRC);
  assert.deepEqual(unexplained, [], "split it, or say in its first comment why it is 'over 400 lines'");
});
