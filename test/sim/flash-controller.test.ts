import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFault } from '../../src/sim/faults.ts';
import { FlashController } from '../../src/sim/flash-controller.ts';
import { NorFlash } from '../../src/sim/nor-flash.ts';
import { timingModel, wireMs } from '../../src/sim/timing.ts';

test('erase picks 64 KB blocks where whole blocks fit and 4 KB sectors elsewhere, at datasheet times', () => {
  const ctl = new FlashController(new NorFlash(0x400000), timingModel('realistic'), []);
  assert.equal(ctl.eraseNow(0x10000, 0x20000), 2 * 150);
  assert.equal(ctl.eraseNow(0x1000, 0x2000), 2 * 45);
  // 0xF000..0x21000: one sector, one block, one sector.
  assert.equal(ctl.eraseNow(0xf000, 0x12000), 45 + 150 + 45);
  assert.equal(ctl.programNow(0, Buffer.alloc(0x4000)).ms, 64 * 0.7);
});

test('fast timing costs nothing; slow-flash multiplies erase and program times', () => {
  assert.equal(new FlashController(new NorFlash(0x100000), timingModel('fast'), []).eraseNow(0, 0x10000), 0);
  const slow = new FlashController(
    new NorFlash(0x100000),
    timingModel('realistic', { flashSlowdown: 3 }),
    [],
  );
  assert.equal(slow.eraseNow(0, 0x1000), 3 * 45);
  assert.equal(slow.programNow(0, Buffer.alloc(256)).ms, 3 * 0.7);
});

test('UART wire time is 10 bits per byte at the current baud, zero in fast mode', () => {
  assert.equal(wireMs(timingModel('realistic'), 11520, 115200), 1000);
  assert.equal(wireMs(timingModel('fast'), 11520, 115200), 0);
});

test('write-error: the bad sector keeps its old contents, its neighbours are written, the call says it failed', () => {
  const flash = new NorFlash(0x100000);
  const ctl = new FlashController(flash, timingModel('fast'), [parseFault('write-error:0x21000')]);
  const r = ctl.programNow(0x20000, Buffer.alloc(0x3000, 0x11));
  assert.equal(r.ok, false);
  assert.deepEqual(flash.read(0x20000, 0x1000), Buffer.alloc(0x1000, 0x11));
  assert.deepEqual(flash.read(0x21000, 0x1000), Buffer.alloc(0x1000, 0xff));
  assert.deepEqual(flash.read(0x22000, 0x1000), Buffer.alloc(0x1000, 0x11));
  assert.equal(ctl.programNow(0x30000, Buffer.alloc(16, 0x11)).ok, true);
});

test('silent-corruption: the first programmed sector (by default) gets one bit cleared, and no error', () => {
  const flash = new NorFlash(0x100000);
  const ctl = new FlashController(flash, timingModel('fast'), [parseFault('silent-corruption')]);
  const data = Buffer.alloc(0x2000, 0xa5);
  assert.equal(ctl.programNow(0x40000, data).ok, true);
  const stored = flash.read(0x40000, 0x2000);
  const diffs = [...stored].map((b, i) => (b !== data[i] ? i : -1)).filter((i) => i >= 0);
  assert.deepEqual(diffs, [0]);
  assert.equal(stored[0], 0xa4);
});
