/**
 * Erased-sector skipping against the simulated chip: blank (all-0xFF) 4 KB sectors of an image are not
 * written on a chip that reads them erased, and are erased (ERASE_REGION) on one that does not; either way the
 * flash ends up exactly the image, MD5-verified.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { erasedMd5, erasedSectorPlan } from '../../src/esp/erased-sectors.ts';
import { writeRegion } from '../../src/esp/write-regions.ts';
import { pattern, region, simLoader } from './sim-link.ts';

const deflate = (data: Uint8Array) => deflateSync(data, { level: 9 });

/** data 4 KB | blank 8 KB | data 4 KB + 100 bytes, at 0x10000, with its plan made as src/firmware makes it. */
function imageWithBlankSectors() {
  const data = new Uint8Array(0x4000 + 100).fill(0xff);
  data.set(pattern(0x1000, 1), 0);
  data.set(pattern(0x1000 + 100, 2), 0x3000);
  const r = region(0x10000, data, 'nvs');
  return { ...r, erasedPlan: erasedSectorPlan(r, deflate) };
}

test('the plan: whole blank sectors merged into runs, partial ones written, each part compressed', () => {
  const r = imageWithBlankSectors();
  const plan = r.erasedPlan!;
  assert.deepEqual(plan.blank, [{ offset: 0x11000, length: 0x2000 }]);
  assert.deepEqual(
    plan.parts.map((p) => [p.offset, p.data.length]),
    [
      [0x10000, 0x1000],
      [0x13000, 0x1000 + 100],
    ],
  );
  for (const part of plan.parts) assert.deepEqual(part.compressed, deflate(part.data));
  assert.equal(erasedSectorPlan(region(0x10000, pattern(0x3000, 3)), deflate), undefined);
  for (const n of [0x1000, 0x2000, 0x1234]) {
    assert.equal(erasedMd5(n), createHash('md5').update(Buffer.alloc(n, 0xff)).digest('hex'));
  }
});

async function counted(t: Parameters<typeof simLoader>[0]) {
  const link = await simLoader(t, { chip: 'esp32' });
  await link.loader.runStub();
  const calls = { erase: 0, begin: 0 };
  const md5s: number[] = [];
  const erase = link.loader.eraseRegion.bind(link.loader);
  const begin = link.loader.flashDeflBegin.bind(link.loader);
  const md5 = link.loader.flashMd5.bind(link.loader);
  link.loader.eraseRegion = (...a) => (calls.erase++, erase(...a));
  link.loader.flashDeflBegin = (...a) => (calls.begin++, begin(...a));
  link.loader.flashMd5 = (...a) => (md5s.push(a[0]), md5(...a));
  return { ...link, calls, md5s };
}

/** A region that is all blank sectors (ESP-IDF's otadata), with its plan. */
function blankRegion() {
  const r = region(0xd000, new Uint8Array(0x2000).fill(0xff), 'otadata');
  return { ...r, erasedPlan: erasedSectorPlan(r, deflate) };
}

test('a wholly blank region on a chip that reads it erased: one MD5 verifies it, nothing is written', async (t) => {
  const { loader, board, calls, md5s } = await counted(t);
  const r = blankRegion();
  assert.deepEqual(r.erasedPlan?.blank, [{ offset: 0xd000, length: 0x2000 }]);
  const res = await writeRegion(loader, r, { skipErasedSectors: true });
  assert.equal(res.md5Chip, r.md5);
  assert.deepEqual(calls, { erase: 0, begin: 0 });
  assert.deepEqual(md5s, [0xd000], 'the blank check is the region check');
  assert.ok(board.flash.read(r.offset, r.data.length).equals(Buffer.from(r.data)));
});

test('a wholly blank region over old data: erased, then verified by a fresh MD5 of the erased flash', async (t) => {
  const { loader, board, calls, md5s } = await counted(t);
  await writeRegion(loader, region(0xd000, pattern(0x1800, 4), 'old'));
  md5s.length = 0;
  calls.begin = 0;
  const r = blankRegion();
  const res = await writeRegion(loader, r, { skipErasedSectors: true });
  assert.equal(res.md5Chip, r.md5);
  assert.deepEqual(calls, { erase: 1, begin: 0 });
  assert.deepEqual(md5s, [0xd000, 0xd000], 'the MD5 before the erase proves nothing about after it');
  assert.ok(board.flash.read(r.offset, r.data.length).equals(Buffer.from(r.data)));
});

test('a fresh chip: blank sectors are neither erased nor written; the flash is the image', async (t) => {
  const { loader, board, calls } = await counted(t);
  const r = imageWithBlankSectors();
  const res = await writeRegion(loader, r, { skipErasedSectors: true });
  assert.equal(res.md5Chip, r.md5);
  assert.deepEqual(calls, { erase: 0, begin: 2 });
  assert.ok(board.flash.read(r.offset, r.data.length).equals(Buffer.from(r.data)));
});

test('a used chip: blank sectors holding old data are erased first; the flash is the image', async (t) => {
  const { loader, board, calls } = await counted(t);
  const old = region(0x10000, pattern(0x5000, 9), 'old');
  await writeRegion(loader, old);
  const r = imageWithBlankSectors();
  calls.begin = 0;
  const res = await writeRegion(loader, r, { skipErasedSectors: true });
  assert.equal(res.md5Chip, r.md5);
  assert.deepEqual(calls, { erase: 1, begin: 2 });
  assert.ok(board.flash.read(r.offset, r.data.length).equals(Buffer.from(r.data)));
});
