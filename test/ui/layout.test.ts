import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseLayout, TILE_HEIGHT } from '../../src/ui/layout.ts';

test('16 slots fit as tiles on 120×40 and leave room for the log', () => {
  const l = chooseLayout(120, 40, 16, false);
  assert.equal(l.mode, 'tiles');
  assert.equal(l.gridColumns, 4);
  assert.equal(l.gridHeight, 4 * TILE_HEIGHT);
  assert.ok(l.cellWidth * l.gridColumns <= 120);
  assert.ok(l.liveHeight + 2 < 40);
  // The demo-firmware banner still fits.
  assert.equal(chooseLayout(120, 40, 16, true).mode, 'tiles');
});

test('32 slots on 80×24 use compact rows in two columns, every slot visible', () => {
  const l = chooseLayout(80, 24, 32, false);
  assert.equal(l.mode, 'rows');
  assert.equal(l.gridColumns, 2);
  assert.equal(l.hiddenSlots, 0);
  assert.ok(l.cellWidth * l.gridColumns <= 80);
  assert.ok(l.liveHeight < 24);
  assert.equal(chooseLayout(80, 24, 32, true).hiddenSlots, 0);
});

test('32 slots on 160×48 are full compact rows in two columns (a shorter live region is cheaper to redraw)', () => {
  const l = chooseLayout(160, 48, 32, false);
  assert.equal(l.mode, 'rows');
  assert.equal(l.gridColumns, 2);
  assert.equal(l.cellWidth, 80);
  assert.equal(l.gridHeight, 16);
});

test('the live region never reaches the terminal height (Ink would clear the screen every frame)', () => {
  for (const [cols, rows] of [
    [80, 24],
    [100, 30],
    [120, 40],
    [160, 48],
    [200, 60],
  ]) {
    for (const n of [1, 4, 8, 12, 16, 24, 32]) {
      for (const demo of [false, true]) {
        const l = chooseLayout(cols, rows, n, demo);
        assert.ok(l.liveHeight < rows, `${n} slots on ${cols}×${rows}: live ${l.liveHeight}`);
        assert.ok(l.cellWidth * l.gridColumns <= cols, `${n} slots on ${cols}×${rows}: too wide`);
        assert.equal(l.hiddenSlots, 0, `${n} slots on ${cols}×${rows}`);
      }
    }
  }
});
