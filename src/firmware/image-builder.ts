/**
 * Writes ESP32-family firmware images (the inverse of image-format.ts). Used by the demo image set and by
 * tests that need valid or deliberately broken images.
 */
import { createHash } from 'node:crypto';
import { CHECKSUM_SEED, EXTENDED_HEADER_LENGTH, HEADER_LENGTH, IMAGE_MAGIC } from './image-format.ts';

export interface ImageSpec {
  chipId: number;
  /** Header byte 2: 0 qio, 1 qout, 2 dio, 3 dout. */
  flashMode: number;
  /** Header byte 3: high nibble size, low nibble frequency. */
  flashSizeNibble: number;
  flashFreqNibble: number;
  entry: number;
  segments: { loadAddress: number; data: Uint8Array }[];
  hashAppended: boolean;
  minRevFull?: number;
  maxRevFull?: number;
}

export function buildFirmwareImage(spec: ImageSpec): Uint8Array {
  const body = spec.segments.reduce((n, s) => n + 8 + s.data.length, 0);
  let length = HEADER_LENGTH + EXTENDED_HEADER_LENGTH + body;
  length += 15 - (length % 16) + 1; // padding + checksum byte at an offset ≡ 15 (mod 16)
  const dataLength = length;
  if (spec.hashAppended) length += 32;
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  out[0] = IMAGE_MAGIC;
  out[1] = spec.segments.length;
  out[2] = spec.flashMode;
  out[3] = (spec.flashSizeNibble << 4) | spec.flashFreqNibble;
  view.setUint32(4, spec.entry, true);
  out[8] = 0xee; // WP pin disabled
  view.setUint16(12, spec.chipId, true);
  view.setUint16(15, spec.minRevFull ?? 0, true);
  view.setUint16(17, spec.maxRevFull ?? 0xffff, true);
  out[23] = spec.hashAppended ? 1 : 0;
  let pos = HEADER_LENGTH + EXTENDED_HEADER_LENGTH;
  let checksum = CHECKSUM_SEED;
  for (const s of spec.segments) {
    view.setUint32(pos, s.loadAddress, true);
    view.setUint32(pos + 4, s.data.length, true);
    out.set(s.data, pos + 8);
    for (const b of s.data) checksum ^= b;
    pos += 8 + s.data.length;
  }
  out[dataLength - 1] = checksum;
  if (spec.hashAppended)
    out.set(createHash('sha256').update(out.subarray(0, dataLength)).digest(), dataLength);
  return out;
}
