/**
 * ESP firmware image format (esp-protocol.md §11.2): 8-byte header, 16-byte extended header on the ESP32
 * family, segments, a checksum byte at a file offset ≡ 15 (mod 16), optionally a SHA-256 of everything
 * before it. Parsing never throws: a damaged image is a list of readable problems.
 */
import { createHash } from 'node:crypto';

export const IMAGE_MAGIC = 0xe9;
export const CHECKSUM_SEED = 0xef;
export const MAX_SEGMENTS = 16;
export const HEADER_LENGTH = 8;
export const EXTENDED_HEADER_LENGTH = 16;
export const FLASH_MODE_NAMES = ['qio', 'qout', 'dio', 'dout'] as const;

export interface ImageSegment {
  loadAddress: number;
  length: number;
  /** Where the segment's data starts in the file. */
  dataOffset: number;
}

export interface FirmwareImage {
  segmentCount: number;
  flashModeByte: number;
  flashSizeNibble: number;
  flashFreqNibble: number;
  entry: number;
  /** Extended header (ESP32 family); absent for ESP8266 images. */
  extended?: {
    wpPin: number;
    chipId: number;
    minRev: number;
    minRevFull: number;
    maxRevFull: number;
    hashAppended: boolean;
  };
  segments: ImageSegment[];
  checksum: number;
  computedChecksum: number;
  /** Bytes covered by the SHA-256: offset 0 through the checksum byte. */
  dataLength: number;
  storedSha256?: string;
  computedSha256?: string;
}

export type ParsedImage =
  { ok: true; image: FirmwareImage; problems: string[] } | { ok: false; problems: string[] };

/**
 * Parses an image. `extendedHeader` is false only for ESP8266. Problems that still leave a readable image
 * (bad checksum, stale SHA-256) come back with ok: true so callers can show the header and the problem.
 */
export function parseFirmwareImage(data: Uint8Array, extendedHeader = true): ParsedImage {
  const problems: string[] = [];
  const minLength = HEADER_LENGTH + (extendedHeader ? EXTENDED_HEADER_LENGTH : 0);
  if (data.length < minLength)
    return { ok: false, problems: [`only ${data.length} bytes; an image header needs ${minLength}`] };
  if (data[0] !== IMAGE_MAGIC) {
    return {
      ok: false,
      problems: [
        `first byte is 0x${hex2(data[0])}, not the image magic 0xe9; this is not an ESP firmware image`,
      ],
    };
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const segmentCount = data[1];
  if (segmentCount === 0 || segmentCount > MAX_SEGMENTS) {
    return {
      ok: false,
      problems: [`segment count ${segmentCount} is outside 1..${MAX_SEGMENTS}; the header is damaged`],
    };
  }
  let extended: FirmwareImage['extended'];
  if (extendedHeader) {
    const hashByte = data[23];
    if (hashByte !== 0 && hashByte !== 1) problems.push(`hash_appended byte is ${hashByte}, must be 0 or 1`);
    extended = {
      wpPin: data[8],
      chipId: view.getUint16(12, true),
      minRev: data[14],
      minRevFull: view.getUint16(15, true),
      maxRevFull: view.getUint16(17, true),
      hashAppended: hashByte === 1,
    };
  }
  const segments: ImageSegment[] = [];
  let pos = minLength;
  let checksum = CHECKSUM_SEED;
  for (let i = 0; i < segmentCount; i++) {
    if (pos + 8 > data.length)
      return {
        ok: false,
        problems: [
          `file ends inside the header of segment ${i} (of ${segmentCount}); the image is truncated`,
        ],
      };
    const loadAddress = view.getUint32(pos, true);
    const length = view.getUint32(pos + 4, true);
    pos += 8;
    if (pos + length > data.length) {
      return {
        ok: false,
        problems: [
          `segment ${i} claims ${length} bytes at file offset ${pos} but the file has ${data.length}; the image is truncated`,
        ],
      };
    }
    segments.push({ loadAddress, length, dataOffset: pos });
    for (let j = pos; j < pos + length; j++) checksum ^= data[j];
    pos += length;
  }
  const checksumAt = pos + (15 - (pos % 16));
  if (checksumAt >= data.length)
    return { ok: false, problems: ['file ends before the checksum byte; the image is truncated'] };
  const stored = data[checksumAt];
  if (stored !== checksum)
    problems.push(
      `checksum byte is 0x${hex2(stored)} but the segments give 0x${hex2(checksum)}; the image is corrupt`,
    );
  const dataLength = checksumAt + 1;
  const image: FirmwareImage = {
    segmentCount,
    flashModeByte: data[2],
    flashSizeNibble: data[3] >> 4,
    flashFreqNibble: data[3] & 0x0f,
    entry: view.getUint32(4, true),
    extended,
    segments,
    checksum: stored,
    computedChecksum: checksum,
    dataLength,
  };
  if (extended?.hashAppended) {
    if (dataLength + 32 > data.length) {
      problems.push(
        'the header says a SHA-256 is appended but the file ends before it; the image is truncated',
      );
    } else {
      image.storedSha256 = Buffer.from(data.subarray(dataLength, dataLength + 32)).toString('hex');
      image.computedSha256 = sha256Hex(data.subarray(0, dataLength));
      if (image.storedSha256 !== image.computedSha256)
        problems.push(
          'the appended SHA-256 does not match the image; the image is corrupt or was patched by a tool that left a stale digest',
        );
    }
  }
  return { ok: true, image, problems };
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
