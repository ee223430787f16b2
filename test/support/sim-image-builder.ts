import { createHash } from 'node:crypto';

/**
 * Builds small ESP32-family firmware images and partition tables for sim tests, straight from the format
 * description (esp-protocol.md §11.2, §13): header, extended header, segments, XOR checksum at ≡15 mod 16,
 * optional appended SHA-256. Deliberately independent of src/firmware.
 */
export function buildImage(opts: {
  chipId?: number;
  entry?: number;
  segments?: { addr: number; data: Uint8Array }[];
  /** Put an esp_app_desc_t with this project name first (what the boot log shows; 'esp-at' prints ready). */
  project?: string;
  hash?: boolean;
  flashMode?: number;
  flashSizeFreq?: number;
  /** Chip revisions the image accepts, major*100+minor (default: any). */
  minRevFull?: number;
  maxRevFull?: number;
}): Buffer {
  const segments = [...(opts.segments ?? [{ addr: 0x3ffb0000, data: Buffer.alloc(64, 0x42) }])];
  if (opts.project !== undefined) {
    const desc = Buffer.alloc(0x100);
    desc.writeUInt32LE(0xabcd5432, 0);
    desc.write('v1.0', 0x10, 'latin1');
    desc.write(opts.project, 0x30, 'latin1');
    segments.unshift({ addr: 0x3f400020, data: desc });
  }
  const header = Buffer.alloc(24);
  header[0] = 0xe9;
  header[1] = segments.length;
  header[2] = opts.flashMode ?? 2;
  header[3] = opts.flashSizeFreq ?? 0x20;
  header.writeUInt32LE(opts.entry ?? 0x40080000, 4);
  header[8] = 0xee;
  header.writeUInt16LE(opts.chipId ?? 0, 12);
  header.writeUInt16LE(opts.minRevFull ?? 0, 15);
  header.writeUInt16LE(opts.maxRevFull ?? 0xffff, 17);
  header[23] = opts.hash ? 1 : 0;
  const parts: Buffer[] = [header];
  let checksum = 0xef;
  for (const s of segments) {
    const sh = Buffer.alloc(8);
    sh.writeUInt32LE(s.addr, 0);
    sh.writeUInt32LE(s.data.length, 4);
    parts.push(sh, Buffer.from(s.data));
    for (const b of s.data) checksum ^= b;
  }
  let body = Buffer.concat(parts);
  const pad = 15 - (body.length % 16);
  body = Buffer.concat([body, Buffer.alloc(pad), Buffer.from([checksum])]);
  if (opts.hash) body = Buffer.concat([body, createHash('sha256').update(body).digest()]);
  return body;
}

/** A partition table binary (0xC00 bytes) with MD5 line. */
export function buildPartitionTable(
  parts: { label: string; type: number; subtype: number; offset: number; size: number }[],
): Buffer {
  const entries = parts.map((p) => {
    const e = Buffer.alloc(32);
    e[0] = 0xaa;
    e[1] = 0x50;
    e[2] = p.type;
    e[3] = p.subtype;
    e.writeUInt32LE(p.offset, 4);
    e.writeUInt32LE(p.size, 8);
    e.write(p.label, 12, 'latin1');
    return e;
  });
  const body = Buffer.concat(entries);
  const md5 = Buffer.concat([
    Buffer.from([0xeb, 0xeb]),
    Buffer.alloc(14, 0xff),
    createHash('md5').update(body).digest(),
  ]);
  const table = Buffer.concat([body, md5]);
  return Buffer.concat([table, Buffer.alloc(0xc00 - table.length, 0xff)]);
}

export const FACTORY_LAYOUT = [
  { label: 'nvs', type: 1, subtype: 2, offset: 0x9000, size: 0x6000 },
  { label: 'phy_init', type: 1, subtype: 1, offset: 0xf000, size: 0x1000 },
  { label: 'factory', type: 0, subtype: 0, offset: 0x10000, size: 0x100000 },
];
