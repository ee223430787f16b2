/**
 * The flasher against the simulated ROM where it is as strict as the chip: custom-wired flash (eFuse SPI pads),
 * the flash reset, per-block timeouts of compressed writes, all eight SYNC replies, and a ROM error on a data
 * block ending the region at once, and a block damaged on the wire recovered the way each loader allows.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chipByName } from '../../src/esp/chips/index.ts';
import { EspLoader, RAM_BLOCK_SIZE } from '../../src/esp/loader.ts';
import { loadStub } from '../../src/esp/stub.ts';
import { EspError } from '../../src/esp/errors.ts';
import { writeRegion, writeRegions } from '../../src/esp/write-regions.ts';
import { FAST_CONNECT, pattern, region, simLink, simLoader } from './sim-link.ts';

/** ESP32-PICO-D4-style wiring: flash on GPIO 6, 17, 8, 11, 16 (CLK, Q, D, HD, CS), named in eFuse. */
const PICO_PADS = { clk: 6, q: 17, d: 8, hd: 11, cs: 16 };

/** xorshift bytes: deterministic and incompressible. */
function noise(size: number, seed = 7): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

test('ESP32 ROM: flash wired to the eFuse SPI pads is attached on those pins, identified and written', async (t) => {
  const { loader, board } = await simLoader(t, { chip: 'esp32', spiPads: PICO_PADS, flashSize: '4MB' });
  await loader.identify();
  const id = await loader.detectFlash();
  assert.equal(id.flashId, 0x1640ef, 'RDID reaches the flash');
  assert.equal(id.flashSizeBytes, 4 * 1024 * 1024);
  const r = region(0x10000, pattern(0x3000, 2));
  const [res] = await writeRegions(loader, [r]);
  assert.equal(res.md5Chip, r.md5);
  assert.deepEqual(board.flash.read(r.offset, r.data.length), Buffer.from(r.data));
});

test('the flash is reset (RSTEN 0x66, then RST 0x99) when it is attached, ROM and stub alike', async (t) => {
  const rom = await simLoader(t, { chip: 'esp32c3' });
  await rom.loader.identify();
  assert.equal(rom.board.spiFlash.softResets ?? 0, 0, 'identify reads registers only');
  await rom.loader.detectFlash();
  assert.equal(rom.board.spiFlash.softResets, 1);
  const stub = await simLoader(t, { chip: 'esp32' });
  await stub.loader.runStub();
  await writeRegions(stub.loader, [region(0x10000, pattern(0x1000, 3))]);
  assert.equal(stub.board.spiFlash.softResets, 1);
});

test('compressed ROM writes: a block that inflates to a megabyte gets a megabyte of time, not the average', async (t) => {
  // 64 KB of noise, then 1.1 MB of zeros: the average ratio is 18:1, but one 1 KB block of the stream holds
  // about 1 MB of zeros — 4000 pages to program (0.9 ms each here: 3.6 s, past the 3 s an average allows).
  const { loader, board } = await simLoader(t, {
    chip: 'esp32',
    flashSize: '4MB',
    timingOverrides: { pageProgramMs: 0.9 },
  });
  const data = new Uint8Array(0x10000 + 1100 * 1024);
  data.set(noise(0x10000));
  const r = region(0x10000, data);
  const res = await writeRegion(loader, r);
  assert.equal(res.md5Chip, r.md5);
  assert.ok(res.seconds > 3.3, `took ${res.seconds.toFixed(1)} s: the big block's work outlasted 3 s`);
  assert.ok(board.flash.read(0x20000, 0x1000).every((b) => b === 0));
});

test('SYNC: all eight replies are read before the loader goes on (none left to meet the next command)', async (t) => {
  // Realistic wire time: the eight replies arrive one after another, 1.2 ms apart at 115200.
  const link = await simLink(t, { chip: 'esp32', timing: 'realistic' });
  let syncReplies = 0;
  const stop = link.transport.onData((chunk) => {
    // Count reply headers `01 08` right after a frame start.
    for (let i = 0; i + 2 < chunk.length; i++) {
      if (chunk[i] === 0xc0 && chunk[i + 1] === 0x01 && chunk[i + 2] === 0x08) syncReplies++;
    }
  });
  t.after(stop);
  const loader = await EspLoader.connect(link.transport, FAST_CONNECT);
  t.after(() => loader.dispose());
  // connect() SYNCs and then detects the chip; count what had arrived when sync() itself returned.
  const again = syncReplies;
  await loader.sync();
  assert.equal(syncReplies - again, 8, 'sync() returned only after all eight replies');
  assert.equal(await loader.readReg(0x40001000), 0x00f01d83);
});

test("a ROM error status on any data block ends the region at once with the ROM's message", async (t) => {
  // Plain (incompressible) and compressed regions; the fault refuses the n-th data block since power-up.
  const cases = [
    { r: region(0x20000, pattern(0x8000, 12)), blocks: [0, 1] },
    { r: region(0x20000, noise(0x3000, 11)), blocks: [0, 5, 11] },
  ];
  for (const { r, blocks } of cases) {
    for (const block of blocks) {
      const { loader, board } = await simLoader(t, { chip: 'esp32', faults: [`rom-error:${block}`] });
      const err = await writeRegion(loader, r).then(
        (res) => res,
        (e: unknown) => e,
      );
      assert.ok(err instanceof EspError, `block ${block}: the region must fail, got ${JSON.stringify(err)}`);
      assert.equal(err.kind, 'rom-error');
      assert.match(err.message, new RegExp(`block ${block}: FLASH_(DEFL_)?DATA failed: ROM error 0x05`));
      // Nothing was written from the refused block on: the region was not tried again some other way.
      const end = r.offset + r.data.length;
      assert.ok(board.flash.read(0x20000 + block * 0x400, 0x400).every((b) => b === 0xff));
      if (r.data.length === 0x3000) {
        const from = r.offset + block * 0x400;
        assert.ok(
          board.flash.read(from, end - from).every((b) => b === 0xff),
          `block ${block}..end erased`,
        );
      }
    }
  }
});

test("ROM writes past 2 MB need SPI_SET_PARAMS first: refused with the ROM's 0x06 before, written after", async (t) => {
  const { loader, board } = await simLoader(t, { chip: 'esp32c3', flashSize: '4MB' });
  const r = region(0x1f0000, pattern(0x20000, 13));
  await assert.rejects(
    writeRegion(loader, r),
    (e: EspError) => e.kind === 'rom-error' && /FLASH_DEFL_BEGIN failed: ROM error 0x06/.test(e.message),
  );
  await loader.spiSetParams(4 * 1024 * 1024);
  const res = await writeRegion(loader, r);
  assert.equal(res.md5Chip, r.md5);
  assert.deepEqual(board.flash.read(r.offset, r.data.length), Buffer.from(r.data));
});

/** MEM_DATA blocks the stub upload sends (every segment in RAM_BLOCK_SIZE pieces). */
async function stubUploadBlocks(chipName: 'esp32' | 'esp32c3'): Promise<number> {
  const image = await loadStub(chipByName(chipName)!);
  return [image.text, image.data].reduce(
    (n, s) => n + (s ? Math.ceil(s.data.length / RAM_BLOCK_SIZE) : 0),
    0,
  );
}

test('a stub-upload block damaged on the wire: the segment goes again from MEM_BEGIN and the stub runs', async (t) => {
  // The ROM counts the refused block (the same seq again would be 0x05, as on the real ROMs: test/sim).
  for (const block of [0, 1]) {
    const { loader, board } = await simLoader(t, { chip: 'esp32', faults: [`garbled-block:${block}`] });
    await loader.runStub();
    assert.equal(loader.isStub, true, `block ${block}`);
    const r = region(0x10000, pattern(0x3000, 4));
    const [res] = await writeRegions(loader, [r]);
    assert.equal(res.md5Chip, r.md5);
    assert.deepEqual(board.flash.read(r.offset, r.data.length), Buffer.from(r.data));
  }
});

test('ROM writes: a block damaged on the wire restarts the part from its BEGIN; the flash ends byte-exact', async (t) => {
  const cases = [
    { r: region(0x20000, noise(0x3000, 5)), block: 1 }, // incompressible: plain FLASH_DATA
    { r: region(0x20000, pattern(0x8000, 6)), block: 2 }, // FLASH_DEFL_DATA
  ];
  for (const { r, block } of cases) {
    const { loader, board } = await simLoader(t, { chip: 'esp32c3', faults: [`garbled-block:${block}`] });
    await loader.attachFlash();
    const res = await writeRegion(loader, r);
    assert.equal(res.retries, 1);
    assert.equal(res.md5Chip, r.md5);
    assert.deepEqual(board.flash.read(r.offset, r.data.length), Buffer.from(r.data));
  }
});

test('stub writes: a block damaged on the wire is sent again with the same seq (the stub keeps no count)', async (t) => {
  const uploaded = await stubUploadBlocks('esp32');
  const { loader, board } = await simLoader(t, { chip: 'esp32', faults: [`garbled-block:${uploaded + 1}`] });
  await loader.runStub();
  await loader.attachFlash();
  const r = region(0x10000, noise(0x9000, 9));
  const res = await writeRegion(loader, r, { compress: false });
  assert.equal(res.retries, 1);
  assert.equal(res.md5Chip, r.md5);
  assert.deepEqual(board.flash.read(r.offset, r.data.length), Buffer.from(r.data));
});
