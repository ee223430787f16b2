import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { NorFlash } from '../../src/sim/nor-flash.ts';

test('erased flash reads 0xFF and allocates nothing', () => {
  const f = new NorFlash(16 * 1024 * 1024);
  assert.deepEqual(f.read(0x123456, 8), Buffer.alloc(8, 0xff));
  assert.equal(f.allocatedBytes, 0);
});

test('programming can only clear bits: writing twice without erase ANDs the data', () => {
  const f = new NorFlash(0x100000);
  f.program(0x1000, Buffer.from([0xf0, 0xff, 0x0f]));
  f.program(0x1000, Buffer.from([0x3c, 0x00, 0xff]));
  assert.deepEqual(f.read(0x1000, 3), Buffer.from([0x30, 0x00, 0x0f]));
  f.eraseSector(0x1fff);
  assert.deepEqual(f.read(0x1000, 3), Buffer.alloc(3, 0xff));
});

test('writes spanning pages, block and chip erase', () => {
  const f = new NorFlash(0x200000);
  const data = Buffer.alloc(0x3000, 0x5a);
  f.program(0xff800, data);
  assert.deepEqual(f.read(0xff800, 0x3000), data);
  assert.equal(f.allocatedBytes, 4 * 0x1000);
  f.eraseBlock(0xf0000);
  assert.deepEqual(f.read(0xff800, 0x800), Buffer.alloc(0x800, 0xff));
  assert.deepEqual(f.read(0x100000, 0x800), Buffer.alloc(0x800, 0x5a));
  assert.equal(f.isSectorErased(0xff000), true);
  assert.equal(f.isSectorErased(0x100000), false);
  f.eraseChip();
  assert.equal(f.allocatedBytes, 0);
});

test('all-0xFF programs leave a page unallocated', () => {
  const f = new NorFlash(0x100000);
  f.program(0, Buffer.alloc(0x4000, 0xff));
  assert.equal(f.allocatedBytes, 0);
});

test('md5 covers erased and programmed bytes', () => {
  const f = new NorFlash(0x400000);
  const data = Buffer.from('hello flash');
  f.program(0x20005, data);
  const expect = Buffer.alloc(0x30000, 0xff);
  data.copy(expect, 5);
  assert.deepEqual(f.md5(0x20000, 0x30000), createHash('md5').update(expect).digest());
});

test('ranges beyond the end are rejected', () => {
  const f = new NorFlash(0x100000);
  assert.throws(() => f.read(0xffff0, 0x20), /beyond the end/);
  assert.throws(() => f.program(0x100000, Buffer.from([0])), /beyond the end/);
  assert.throws(() => new NorFlash(1000), /multiple of 64 KB/);
});
