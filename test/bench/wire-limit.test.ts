/**
 * The benchmark's wire limit: its chip-time part worked out by hand from the datasheet figures (64 KB block
 * erase 150 ms, 4 KB sector erase 45 ms, 0.7 ms per 256-byte page, inflate 60 ms/MiB, MD5 250 ms/MiB), and its
 * wire part from the bytes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { wireLimit } from '../../bench/wire-limit.ts';
import { CHIPS } from '../../src/esp/chips/index.ts';

const region = (offset: number, data: Uint8Array) => ({
  offset,
  data,
  compressed: deflateSync(data, { level: 9 }),
});
const MIB = 0x100000;

test('a 64 KB aligned region: one block erase, 256 page programs, inflate and MD5 — the wire hardly counts', async () => {
  const data = new Uint8Array(0x10000).fill(0xff);
  const l = await wireLimit(CHIPS.esp32, [region(0x10000, data)], 921600, 0, { stubRelease: 'v1.0.0' });
  const chip = 150 + 256 * 0.7 + (0x10000 / MIB) * 60 + (0x10000 / MIB) * 250;
  assert.ok(l.phases.write >= chip && l.phases.write < chip + 3, `write ${l.phases.write} vs ${chip}`);
});

test('an 8 KB region inside a 64 KB block is erased by 4 KB sectors, never past its end', async () => {
  const data = new Uint8Array(0x2000).fill(0xab);
  const l = await wireLimit(CHIPS.esp32, [region(0x11000, data)], 921600, 0, { stubRelease: 'v1.0.0' });
  const chip = 2 * 45 + 32 * 0.7 + (0x2000 / MIB) * 60 + (0x2000 / MIB) * 250;
  assert.ok(l.phases.write >= chip && l.phases.write < chip + 3, `write ${l.phases.write} vs ${chip}`);
});

test('v1.2.2 (the default) on a fresh chip reads each sector instead of erasing it (100 ms/MiB)', async () => {
  const data = new Uint8Array(0x10000).fill(0xab);
  const l = await wireLimit(CHIPS.esp32, [region(0x10000, data)], 921600, 0);
  const chip = (0x10000 / MIB) * 100 + 256 * 0.7 + (0x10000 / MIB) * 60 + (0x10000 / MIB) * 250;
  assert.ok(l.phases.write >= chip && l.phases.write < chip + 3, `write ${l.phases.write} vs ${chip}`);
});

test('the stub goes up at 115200 whatever the flashing baud, then one CHANGE_BAUDRATE through it', async () => {
  const data = new Uint8Array(0x1000).fill(0xab);
  const slow = await wireLimit(CHIPS.esp32, [region(0x10000, data)], 115200, 0);
  const fast = await wireLimit(CHIPS.esp32, [region(0x10000, data)], 921600, 0);
  // The upload costs the same; only the baud change (one request + one 2-status reply at 115200) is added.
  const change = ((2 + 8 + 8 + 2 + 8 + 2) * 10 * 1000) / 115200;
  assert.ok(
    Math.abs(fast.phases.stub - slow.phases.stub - change) < 0.5,
    `${fast.phases.stub} vs ${slow.phases.stub}`,
  );
});

test('incompressible data at 115200 is wire-bound: the limit is the bytes at baud/10 plus boot and MD5', async () => {
  const data = randomBytes(0x20000);
  const r = region(0x20000, data);
  const l = await wireLimit(CHIPS.esp32, [r], 115200, 100);
  // Every byte is counted once: the compressed payload (plus SLIP escapes and framing) is all there.
  assert.ok(l.wireBytes > r.compressed.length && l.wireBytes < r.compressed.length * 1.02 + 20_000);
  assert.ok(Math.abs(l.wireMs - (l.wireBytes * 10 * 1000) / 115200) < 1e-6);
  // Flash work hides behind the slow wire: only the boot, the last block's work and the MD5 remain.
  const md5 = (0x20000 / MIB) * 250;
  assert.ok(l.chipMs > md5 && l.chipMs < md5 + 32 + 400, `chip ${l.chipMs}`);
  // And at 4× the baud the same bytes take a quarter of the wire time.
  const fast = await wireLimit(CHIPS.esp32, [r], 460800, 100);
  assert.ok(fast.wireMs < l.wireMs / 3);
});
