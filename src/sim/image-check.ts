import { createHash } from 'node:crypto';
import type { ChipFacts } from '../esp/chips/chip.ts';
import type { NorFlash } from './nor-flash.ts';

/** What the ROM / 2nd-stage bootloader find when they look at an image in flash (§11.2). */
export type ImageVerdict =
  | {
      ok: true;
      length: number;
      entry: number;
      segments: number;
      shaOk: boolean | undefined;
      project?: string;
    }
  | { ok: false; reason: string };

const APP_DESC_MAGIC = 0xabcd5432;

/** Validate the image at `offset`: magic, segment table, XOR checksum and (when appended) SHA-256. */
export function checkImage(flash: NorFlash, offset: number, chip: ChipFacts): ImageVerdict {
  if (offset + 24 > flash.size) return { ok: false, reason: 'image is beyond the end of flash' };
  const head = flash.read(offset, 24);
  if (head[0] !== 0xe9) {
    return { ok: false, reason: `invalid header: 0x${head.readUInt32LE(0).toString(16).padStart(8, '0')}` };
  }
  const segments = head[1];
  if (segments === 0 || segments > 16) return { ok: false, reason: `invalid segment count ${segments}` };
  const esp8266 = chip.name === 'esp8266';
  const headerLen = esp8266 ? 8 : 24;
  if (!esp8266) {
    const chipId = head.readUInt16LE(12);
    if (chip.imageChipId !== undefined && chipId !== chip.imageChipId) {
      return { ok: false, reason: `mismatch chip ID, expected ${chip.imageChipId}, found ${chipId}` };
    }
  }
  let pos = offset + headerLen;
  let checksum = 0xef;
  let project: string | undefined;
  for (let i = 0; i < segments; i++) {
    if (pos + 8 > flash.size) return { ok: false, reason: `segment ${i} header is beyond the end of flash` };
    const sh = flash.read(pos, 8);
    const len = sh.readUInt32LE(4);
    if (len > 0x1000000 || pos + 8 + len > flash.size) {
      return { ok: false, reason: `segment ${i} length 0x${len.toString(16)} is invalid` };
    }
    const data = flash.read(pos + 8, len);
    for (const b of data) checksum ^= b;
    if (i === 0 && len >= 0x50 && data.readUInt32LE(0) === APP_DESC_MAGIC) {
      // esp_app_desc_t: magic, secure_version, reserved[2], version[32], project_name[32].
      project = data.subarray(0x30, 0x50).toString('latin1').replace(/\0.*$/s, '');
    }
    pos += 8 + len;
  }
  // Checksum byte sits at a file offset ≡ 15 (mod 16).
  const rel = pos - offset;
  const checksumAt = offset + rel + (15 - (rel % 16));
  if (checksumAt >= flash.size) return { ok: false, reason: 'checksum is beyond the end of flash' };
  const stored = flash.read(checksumAt, 1)[0];
  if (stored !== checksum) {
    return {
      ok: false,
      reason: `Checksum failed. Calculated 0x${checksum.toString(16)} read 0x${stored.toString(16)}`,
    };
  }
  const length = checksumAt + 1 - offset;
  let shaOk: boolean | undefined;
  if (!esp8266 && head[23] === 1) {
    if (offset + length + 32 > flash.size) return { ok: false, reason: 'SHA-256 is beyond the end of flash' };
    const digest = createHash('sha256').update(flash.read(offset, length)).digest();
    shaOk = digest.equals(flash.read(offset + length, 32));
  }
  return { ok: true, length, entry: head.readUInt32LE(4), segments, shaOk, project };
}
