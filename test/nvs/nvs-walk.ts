/**
 * An independent walk over NVS v2 bytes for tests: checks every page header CRC, entry CRC and data CRC
 * with zlib directly (not through src/nvs), and lists the entries it finds. Written from the format facts,
 * so a shared mistake in the decoder and the generator still fails here.
 */
import { crc32 } from 'node:zlib';

export interface WalkedEntry {
  page: number;
  entry: number;
  ns: number;
  type: number;
  span: number;
  chunk: number;
  key: string;
}

export interface Walk {
  entries: WalkedEntry[];
  /** Page states in position order: 'active', 'full' or 'blank'. */
  states: string[];
  crcFailures: string[];
}

const crc = (b: Uint8Array) => (b.length === 0 ? 0xffffffff : crc32(Buffer.from(b), 0xffffffff) >>> 0);

export function walkNvs(bytes: Uint8Array): Walk {
  const buf = Buffer.from(bytes);
  const entries: WalkedEntry[] = [];
  const states: string[] = [];
  const crcFailures: string[] = [];
  for (let page = 0; page * 4096 < buf.length; page++) {
    const p = buf.subarray(page * 4096, page * 4096 + 4096);
    const state = p.readUInt32LE(0);
    if (state === 0xffffffff) {
      states.push(p.every((b) => b === 0xff) ? 'blank' : 'dirty');
      continue;
    }
    states.push(state === 0xfffffffe ? 'active' : state === 0xfffffffc ? 'full' : `0x${state.toString(16)}`);
    if (p.readUInt32LE(28) !== crc(p.subarray(4, 28))) crcFailures.push(`page ${page} header`);
    for (let i = 0; i < 126;) {
      const bits = (p[32 + (i >> 2)] >> ((i & 3) * 2)) & 3;
      if (bits !== 0b10) {
        i++;
        continue;
      }
      const e = p.subarray(64 + i * 32, 96 + i * 32);
      const covered = Buffer.concat([e.subarray(0, 4), e.subarray(8, 32)]);
      if (e.readUInt32LE(4) !== crc(covered)) crcFailures.push(`page ${page} entry ${i}`);
      const key = e.subarray(8, 24).toString('latin1').replace(/\0.*$/s, '');
      const type = e[1];
      if (type === 0x21 || type === 0x42) {
        const size = e.readUInt16LE(24);
        const data = p.subarray(64 + (i + 1) * 32, 64 + (i + 1) * 32 + size);
        if (e.readUInt32LE(28) !== crc(data)) crcFailures.push(`page ${page} entry ${i} data`);
      }
      entries.push({ page, entry: i, ns: e[0], type, span: e[2], chunk: e[3], key });
      i += Math.max(1, e[2]);
    }
  }
  return { entries, states, crcFailures };
}
