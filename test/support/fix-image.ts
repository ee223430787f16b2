import { createHash } from 'node:crypto';

/** Recompute an ESP32 image's checksum byte and appended SHA-256 after a test edited its bytes. */
export function fixImage(img: Buffer): void {
  let pos = 24;
  let checksum = 0xef;
  for (let i = 0; i < img[1]; i++) {
    const len = img.readUInt32LE(pos + 4);
    for (const b of img.subarray(pos + 8, pos + 8 + len)) checksum ^= b;
    pos += 8 + len;
  }
  const at = pos + (15 - (pos % 16));
  img[at] = checksum;
  if (img[23] === 1)
    createHash('sha256')
      .update(img.subarray(0, at + 1))
      .digest()
      .copy(img, at + 1);
}
