import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildFirmwareImage } from '../../src/firmware/image-builder.ts';
import { parseFirmwareImage } from '../../src/firmware/image-format.ts';
import { REAL_AT_DIR } from './fixture-paths.ts';

/** A one-segment ESP32 image worked out by hand from esp-protocol.md §11.2. */
function handImage(): Uint8Array {
  // prettier-ignore
  const bytes = [
    0xe9, 0x01, 0x02, 0x20, 0x00, 0x00, 0x08, 0x40, // magic, 1 segment, dio, 4MB|40m, entry 0x40080000
    0xee, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // WP pin, drive strengths, chip id 0 (ESP32), min_rev 0, min_rev_full lo
    0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01, // min_rev_full hi, max_rev_full 0xffff, reserved, hash_appended 1
    0x00, 0x00, 0xfb, 0x3f, 0x04, 0x00, 0x00, 0x00, // load 0x3ffb0000, length 4
    0x01, 0x02, 0x03, 0x04, // data
    ...new Array(11).fill(0), // pad to offset 47 (≡ 15 mod 16)
    0xeb, // checksum: 0xef ^ 1 ^ 2 ^ 3 ^ 4
  ];
  const sha = createHash('sha256').update(Uint8Array.from(bytes)).digest();
  return Uint8Array.from([...bytes, ...sha]);
}

test('the image builder writes exactly the bytes worked out by hand', () => {
  const built = buildFirmwareImage({
    chipId: 0,
    flashMode: 2,
    flashSizeNibble: 2,
    flashFreqNibble: 0,
    entry: 0x40080000,
    hashAppended: true,
    segments: [{ loadAddress: 0x3ffb0000, data: Uint8Array.from([1, 2, 3, 4]) }],
  });
  assert.deepEqual(Buffer.from(built).toString('hex'), Buffer.from(handImage()).toString('hex'));
});

test('parser reads header, extended header, segments, checksum and SHA-256', () => {
  const p = parseFirmwareImage(handImage());
  assert.ok(p.ok);
  assert.deepEqual(p.problems, []);
  assert.equal(p.image.segmentCount, 1);
  assert.equal(p.image.flashModeByte, 2);
  assert.equal(p.image.flashSizeNibble, 2);
  assert.equal(p.image.flashFreqNibble, 0);
  assert.equal(p.image.entry, 0x40080000);
  assert.deepEqual(p.image.extended, {
    wpPin: 0xee,
    chipId: 0,
    minRev: 0,
    minRevFull: 0,
    maxRevFull: 0xffff,
    hashAppended: true,
  });
  assert.deepEqual(p.image.segments, [{ loadAddress: 0x3ffb0000, length: 4, dataOffset: 32 }]);
  assert.equal(p.image.checksum, 0xeb);
  assert.equal(p.image.dataLength, 48);
  assert.equal(p.image.storedSha256, p.image.computedSha256);
});

test('damage is reported as readable problems', () => {
  const badSum = handImage();
  badSum[33] ^= 0x10; // segment data changed, checksum and SHA now wrong
  let p = parseFirmwareImage(badSum);
  assert.ok(p.ok);
  assert.equal(p.problems.length, 2);
  assert.match(p.problems[0], /checksum byte is 0xeb but the segments give 0xfb/);
  assert.match(p.problems[1], /SHA-256 does not match/);

  const staleSha = handImage();
  staleSha[2] = 0x00; // header patched without recomputing the digest (esptool ≤ v3, esptool-js)
  p = parseFirmwareImage(staleSha);
  assert.ok(p.ok);
  assert.deepEqual(p.problems.length, 1);
  assert.match(p.problems[0], /stale digest/);

  const notImage = handImage();
  notImage[0] = 0xaa;
  p = parseFirmwareImage(notImage);
  assert.equal(p.ok, false);
  assert.match(p.problems[0], /not the image magic 0xe9/);

  p = parseFirmwareImage(handImage().subarray(0, 34));
  assert.equal(p.ok, false);
  assert.match(p.problems[0], /segment 0 .*truncated/);

  const tooMany = handImage();
  tooMany[1] = 17;
  assert.match((parseFirmwareImage(tooMany) as { problems: string[] }).problems[0], /segment count 17/);
});

test('the real ESP-AT v3.4.0.0 bootloader and app parse cleanly as ESP32 images', () => {
  for (const [file, segments] of [
    ['bootloader/bootloader.bin', 3],
    ['esp-at.bin', 7],
  ] as const) {
    const p = parseFirmwareImage(readFileSync(path.join(REAL_AT_DIR, file)));
    assert.ok(p.ok, file);
    assert.deepEqual(p.problems, [], file);
    assert.equal(p.image.segmentCount, segments, file);
    assert.equal(p.image.extended?.chipId, 0, file);
    assert.equal(p.image.extended?.hashAppended, true, file);
    assert.equal(p.image.flashModeByte, 2); // dio
    assert.equal(p.image.flashSizeNibble, 2); // 4MB
    assert.equal(p.image.flashFreqNibble, 0); // 40m
  }
});
