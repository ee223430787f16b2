import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chipByName } from '../../src/esp/chips/index.ts';
import type { ChipFacts } from '../../src/esp/chips/index.ts';
import { buildFirmwareImage } from '../../src/firmware/image-builder.ts';
import { parseFirmwareImage } from '../../src/firmware/image-format.ts';
import { patchImageHeader } from '../../src/firmware/patch-header.ts';
import type { FlashSettings } from '../../src/firmware/flash-settings.ts';
import { REAL_AT_DIR } from './fixture-paths.ts';

function chip(name: string): ChipFacts {
  const c = chipByName(name);
  assert.ok(c);
  return c;
}

/** A bootloader-like image for a chip id: dio, byte 3 = 0x20, SHA-256 appended. */
function image(chipId: number, hashAppended = true): Uint8Array {
  return buildFirmwareImage({
    chipId,
    flashMode: 2,
    flashSizeNibble: 2,
    flashFreqNibble: 0,
    entry: 0x40080000,
    hashAppended,
    segments: [{ loadAddress: 0x3fff0000, data: Uint8Array.from({ length: 64 }, (_, i) => i * 7) }],
  });
}

const s = (mode: FlashSettings['mode'], freq: string, size: string): FlashSettings => ({ mode, freq, size });

// Expected bytes 2 and 3 worked out by hand from esp-protocol.md §11.2 (mode byte; size nibble << 4 | freq nibble).
const CASES: [string, number, FlashSettings, number, number][] = [
  ['esp32', 0, s('qio', '80m', '16MB'), 0x00, 0x4f],
  ['esp32', 0, s('dout', '26m', '2MB'), 0x03, 0x11],
  ['esp32', 0, s('keep', '20m', 'keep'), 0x02, 0x22],
  ['esp32s3', 9, s('qout', '80m', '32MB'), 0x01, 0x5f],
  ['esp32c3', 5, s('dio', '40m', '1MB'), 0x02, 0x00],
  ['esp32c2', 12, s('dio', '60m', '2MB'), 0x02, 0x1f],
  ['esp32c2', 12, s('keep', '30m', '4MB'), 0x02, 0x20],
  ['esp32c2', 12, s('keep', '15m', '8MB'), 0x02, 0x32],
  ['esp32h2', 16, s('qio', '48m', '8MB'), 0x00, 0x3f],
  ['esp32h2', 16, s('keep', '16m', 'keep'), 0x02, 0x21],
  ['esp32h2', 16, s('keep', '12m', '4MB'), 0x02, 0x22],
  ['esp32c6', 13, s('dio', '80m', '8MB'), 0x02, 0x30], // 80m and 40m both encode as 0x0 on the C6
  ['esp32c6', 13, s('dio', '40m', '8MB'), 0x02, 0x30],
  ['esp32c6', 13, s('dio', '20m', '16MB'), 0x02, 0x42],
];

for (const [name, chipId, settings, byte2, byte3] of CASES) {
  test(`${name}: ${settings.mode}/${settings.freq}/${settings.size} gives header bytes ${byte2.toString(16)} ${byte3.toString(16)} and a fresh SHA-256`, () => {
    const original = image(chipId);
    const r = patchImageHeader(original, chip(name), settings);
    const changed = original[2] !== byte2 || original[3] !== byte3;
    assert.equal(r.patched, changed);
    assert.equal(r.data[2], byte2);
    assert.equal(r.data[3], byte3);
    // Everything else is untouched, apart from the digest.
    const dataLength = r.data.length - 32;
    for (let i = 4; i < dataLength; i++) assert.equal(r.data[i], original[i], `byte ${i}`);
    const digest = createHash('sha256').update(r.data.subarray(0, dataLength)).digest('hex');
    assert.equal(Buffer.from(r.data.subarray(dataLength)).toString('hex'), digest);
    assert.equal(r.shaUpdated, changed);
    const p = parseFirmwareImage(r.data);
    assert.ok(p.ok && p.problems.length === 0);
    if (changed)
      assert.notEqual(r.data, original, 'a patched image is a new array; the input is never modified');
    assert.equal(original[3], 0x20);
  });
}

test('without an appended hash only bytes 2 and 3 change', () => {
  const original = image(0, false);
  const r = patchImageHeader(original, chip('esp32'), s('qio', '80m', '8MB'));
  assert.equal(r.patched, true);
  assert.equal(r.shaUpdated, false);
  assert.equal(r.data.length, original.length);
  const diff = [...r.data].flatMap((b, i) => (b !== original[i] ? [i] : []));
  assert.deepEqual(diff, [2, 3]);
});

test('not patched: all keep, not an image, another chip, image that does not verify', () => {
  const esp32 = chip('esp32');
  let r = patchImageHeader(image(0), esp32, s('keep', 'keep', 'keep'));
  assert.equal(r.patched, false);
  r = patchImageHeader(Uint8Array.from([0xaa, 1, 2, 3, 4, 5, 6, 7, 8]), esp32, s('qio', '80m', '4MB'));
  assert.equal(r.patched, false);
  r = patchImageHeader(image(9), esp32, s('qio', '80m', '4MB'));
  assert.equal(r.patched, false);
  assert.match(r.skipped!, /chip id 9/);
  const broken = image(0);
  broken[40] ^= 1;
  r = patchImageHeader(broken, esp32, s('qio', '80m', '4MB'));
  assert.equal(r.patched, false);
  assert.equal(r.data, broken);
});

test('the real ESP-AT bootloader patched to qio/80m/8MB still verifies (SHA recomputed, as esptool ≥ 4.8)', () => {
  const boot = new Uint8Array(readFileSync(path.join(REAL_AT_DIR, 'bootloader/bootloader.bin')));
  const r = patchImageHeader(boot, chip('esp32'), s('qio', '80m', '8MB'));
  assert.equal(r.patched, true);
  assert.equal(r.shaUpdated, true);
  assert.deepEqual(r.header, { mode: 'qio', freq: '80m', size: '8MB' });
  assert.equal(r.data[2], 0x00);
  assert.equal(r.data[3], 0x3f);
  const p = parseFirmwareImage(r.data);
  assert.ok(p.ok);
  assert.deepEqual(p.problems, []);
  assert.throws(() => patchImageHeader(boot, chip('esp32'), s('dio', '40m', 'detect')), /detect/);
});

test('ESP8266: no extended header, no digest; its own size table (4MB = 4, 1MB = 2)', () => {
  // Worked out by hand: magic, 1 segment, qio, 512KB|40m, entry 0x40100000; one 4-byte segment; checksum at 31.
  // prettier-ignore
  const bytes = Uint8Array.from([
    0xe9, 0x01, 0x00, 0x00, 0x00, 0x00, 0x10, 0x40, // header
    0x00, 0x00, 0x10, 0x40, 0x04, 0x00, 0x00, 0x00, // load 0x40100000, length 4
    0x10, 0x20, 0x30, 0x40, // data
    ...new Array(11).fill(0), // pad to offset 31 (≡ 15 mod 16)
    0xef ^ 0x10 ^ 0x20 ^ 0x30 ^ 0x40, // checksum
  ]);
  const p = parseFirmwareImage(bytes, false);
  assert.ok(p.ok);
  assert.deepEqual(p.problems, []);
  assert.equal(p.image.extended, undefined);
  let r = patchImageHeader(bytes, chip('esp8266'), s('dio', '40m', '4MB'));
  assert.deepEqual([r.data[2], r.data[3]], [0x02, 0x40]);
  assert.equal(r.shaUpdated, false);
  assert.equal(r.data.length, bytes.length);
  r = patchImageHeader(bytes, chip('esp8266'), s('dout', '80m', '1MB'));
  assert.deepEqual([r.data[2], r.data[3]], [0x03, 0x2f]);
});
