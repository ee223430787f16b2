// Which regions the final verify pass reads again: those sharing a 4 KB sector with a region written after them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clobberedByLaterRegion } from '../../src/esp/shared-sectors.ts';

test('regions in sectors of their own are never read again', () => {
  // ESP-AT's layout: bootloader 0x1000, partition table 0x8000, otadata 0xd000, … app 0x100000.
  const layout = [
    { offset: 0x1000, length: 0x6a30 },
    { offset: 0x8000, length: 0xc00 },
    { offset: 0xd000, length: 0x2000 },
    { offset: 0x100000, length: 0x1a0000 },
  ];
  assert.deepEqual(clobberedByLaterRegion(layout), [false, false, false, false]);
});

test('a region ending inside a sector a later region starts in is read again; the later one is not', () => {
  assert.deepEqual(
    clobberedByLaterRegion([
      { offset: 0x10000, length: 0x800 },
      { offset: 0x10800, length: 0x1000 },
    ]),
    [true, false],
  );
  // Touching at a sector boundary shares nothing.
  assert.deepEqual(
    clobberedByLaterRegion([
      { offset: 0x10000, length: 0x1000 },
      { offset: 0x11000, length: 0x1000 },
    ]),
    [false, false],
  );
});

test('write order decides, not addresses: a later region below an earlier one in the same sector clobbers it', () => {
  assert.deepEqual(
    clobberedByLaterRegion([
      { offset: 0x20c00, length: 0x400 },
      { offset: 0x20000, length: 0x100 },
      { offset: 0x30000, length: 0x10 },
    ]),
    [true, false, false],
  );
});

test('a sector shared with any later region counts, however far down the list; empty regions share nothing', () => {
  assert.deepEqual(
    clobberedByLaterRegion([
      { offset: 0x1000, length: 0x1100 },
      { offset: 0x9000, length: 0x100 },
      { offset: 0x2f00, length: 0x100 },
      { offset: 0x2100, length: 0 },
    ]),
    [true, false, false, false],
  );
});
