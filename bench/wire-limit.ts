/**
 * The wire limit of flashing one ESP32 through the stub: how long the protocol itself needs with a host that
 * answers instantly. Built from the bytes that must cross the UART (every request and reply SLIP-encoded with
 * real payloads: sync, chip detect, the identity reads the station needs for its checks and ledger, the ROM
 * baud change, the stub upload, FLASH_DEFL_* blocks, END and MD5 per region) at baud/10 bytes per second, plus
 * the chip time that cannot overlap with the wire: the boot before SYNC, and each block's inflate + erase +
 * program that is still running when the next block has arrived (the stub acknowledges a block only once the
 * previous block is in flash), and the on-chip MD5 per region. With `skipBlankSectors` the chip is fresh: sectors
 * that are all 0xFF in the image are only checked (one MD5 each), not written.
 *
 * Chip times are the datasheet figures of the simulated chip's realistic timing model (src/sim/timing.ts: a
 * W25Q32-class NOR part, ESP32 inflate and MD5 rates) and the stub release's erase behaviour (just in time, a
 * 64 KB block ahead where the write covers it, as src/sim/stub-loader.ts does; v1.1.0+ on a fresh chip reads each
 * sector and erases none); the wire model knows nothing of the station's code paths, so a host that wastes time
 * shows up as efficiency < 1. The stub goes up at the ROM's 115200 and the baud changes through it, as esptool.
 */
import { constants, inflateSync } from 'node:zlib';
import { encodeRequest, syncPayload } from '../src/esp/commands.ts';
import type { ChipFacts } from '../src/esp/chips/chip.ts';
import type { ErasedSectorPlan } from '../src/esp/erased-sectors.ts';
import { RAM_BLOCK_SIZE, STUB_FLASH_WRITE_SIZE } from '../src/esp/loader.ts';
import { slipEncode } from '../src/esp/slip.ts';
import { DEFAULT_STUB_RELEASE, loadStub, type StubRelease } from '../src/esp/stub.ts';
import { timingModel, type TimingModel } from '../src/sim/timing.ts';

const SECTOR = 0x1000;
const BLOCK = 0x10000;
const MIB = 0x100000;
const ROM_BAUD = 115200;

export interface LimitRegion {
  offset: number;
  data: Uint8Array;
  compressed: Uint8Array;
  /** The prepared region's blank-sector plan (what the station writes around). */
  erasedPlan?: ErasedSectorPlan;
}

export interface WireLimit {
  /** The whole lower bound, ms. */
  totalMs: number;
  /** The same split like the station's phases. */
  phases: { connect: number; stub: number; write: number; reset: number };
  /** Bytes that cross the UART, both directions. */
  wireBytes: number;
  /** Of totalMs: pure UART time (bytes × 10 / baud). */
  wireMs: number;
  /** Of totalMs: chip time that cannot overlap the wire (boot, flash work not hidden behind the next block, MD5). */
  chipMs: number;
}

/** A reply frame: 8-byte header + data + status bytes, SLIP framed (replies rarely need escapes). */
function replyBytes(dataLen: number, statusBytes: number): number {
  return 2 + 8 + dataLen + statusBytes;
}

function requestBytes(op: number, payload: Uint8Array, check = 0): number {
  return slipEncode(encodeRequest(op, payload, check)).length;
}

const u32s = (n: number) => new Uint8Array(4 * n);

/** Inflated size of each compressed block, as the stub sees it (one zlib stream, sync-flushed per block). */
function inflatedBlockSizes(compressed: Uint8Array, blockSize: number): number[] {
  const sizes: number[] = [];
  let before = 0;
  for (let end = blockSize; ; end += blockSize) {
    const upTo = Math.min(end, compressed.length);
    const out = inflateSync(compressed.subarray(0, upTo), { finishFlush: constants.Z_SYNC_FLUSH }).length;
    sizes.push(out - before);
    before = out;
    if (upTo === compressed.length) return sizes;
  }
}

/** Erase time for [from, to): 64 KB block erases where a whole aligned block fits, 4 KB sectors elsewhere. */
function eraseMs(t: TimingModel, from: number, to: number): number {
  let ms = 0;
  for (let a = Math.floor(from / SECTOR) * SECTOR; a < to;) {
    if (a % BLOCK === 0 && a + BLOCK <= to) {
      ms += t.blockEraseMs;
      a += BLOCK;
    } else {
      ms += t.sectorEraseMs;
      a += SECTOR;
    }
  }
  return ms;
}

export async function wireLimit(
  chip: ChipFacts,
  regions: readonly LimitRegion[],
  baud: number,
  bootBannerBytes: number,
  opts: { skipBlankSectors?: boolean; stubRelease?: StubRelease } = {},
): Promise<WireLimit> {
  const release = opts.stubRelease ?? DEFAULT_STUB_RELEASE;
  // The chip is fresh (all 0xFF): a release that skips blank sectors reads each one and erases nothing.
  const erasesBlank = release === 'v1.0.0';
  const t = timingModel('realistic');
  const msAt = (bytes: number, b: number) => (bytes * t.uartBitsPerByte * 1000) / b;
  const romStatus = chip.romStatusBytes;
  let wireBytes = 0;
  let wire = 0;
  const exchange = (req: number, reply: number, b: number): number => {
    wireBytes += req + reply;
    const ms = msAt(req + reply, b);
    wire += ms;
    return ms;
  };

  // Connect: EN released → straps sampled → ROM boots and prints its banner at 115200 → one SYNC exchange
  // (the ROM's 7 further SYNC replies overlap the next request) → READ_REG of the magic word.
  let connect = t.strapSampleMs + t.romStartMs;
  wireBytes += bootBannerBytes;
  wire += msAt(bootBannerBytes, ROM_BAUD);
  connect += msAt(bootBannerBytes, ROM_BAUD);
  const readReg = (b: number, status: number) =>
    exchange(requestBytes(0x0a, u32s(1)), replyBytes(0, status), b);
  const writeReg = (b: number, status: number) =>
    exchange(requestBytes(0x09, u32s(4)), replyBytes(0, status), b);
  connect += exchange(requestBytes(0x08, syncPayload()), replyBytes(0, romStatus), ROM_BAUD);
  connect += readReg(ROM_BAUD, romStatus);
  // Identity for the checks and the ledger: revision, MAC, flash encryption and secure boot eFuses, and the
  // flash id (SPI_ATTACH, then RDID through the SPI user-command registers: 2 saves, 5 setup writes, 1 poll,
  // 1 result read, 2 restores).
  let revisionReads = 0;
  await chip.readRevision(async () => {
    revisionReads++;
    return 0;
  });
  const idReads =
    revisionReads +
    chip.macRegisters.length +
    (chip.flashCryptCnt ? 1 : 0) +
    new Set(chip.secureBootFuses?.map((f) => f.addr)).size;
  for (let i = 0; i < idReads; i++) connect += readReg(ROM_BAUD, romStatus);
  connect += exchange(requestBytes(0x0d, u32s(2)), replyBytes(0, romStatus), ROM_BAUD);
  for (let i = 0; i < 4; i++) connect += readReg(ROM_BAUD, romStatus);
  for (let i = 0; i < 7; i++) connect += writeReg(ROM_BAUD, romStatus);

  // Stub at the ROM's 115200 (it re-programs the UART at start-up), then CHANGE_BAUDRATE through the stub.
  let stub = 0;
  const image = await loadStub(chip, release);
  for (const seg of [image.text, image.data]) {
    if (!seg) continue;
    stub += exchange(requestBytes(0x05, u32s(4)), replyBytes(0, romStatus), ROM_BAUD);
    for (let off = 0; off < seg.data.length; off += RAM_BLOCK_SIZE) {
      const block = seg.data.subarray(off, off + RAM_BLOCK_SIZE);
      const payload = new Uint8Array(16 + block.length);
      payload.set(block, 16);
      stub += exchange(requestBytes(0x07, payload), replyBytes(0, romStatus), ROM_BAUD);
    }
  }
  // MEM_END, then the stub's OHAI greeting (a 6-byte frame).
  stub += exchange(requestBytes(0x06, u32s(2)), 6, ROM_BAUD);
  if (baud !== ROM_BAUD) stub += exchange(requestBytes(0x0f, u32s(2)), replyBytes(0, 2), ROM_BAUD);

  // Writes: per piece BEGIN, blocks pipelined with the flash work, END; then the MD5 of the region. A fresh chip
  // reads erased already, so sectors that are all 0xFF in the image cost one MD5 check each, not a write.
  let write = 0;
  const stubStatus = 2;
  const md5Exchange = (bytes: number) =>
    exchange(requestBytes(0x13, u32s(4)), replyBytes(16, stubStatus), baud) + (bytes / MIB) * t.md5MsPerMiB;
  const writePiece = (offset: number, data: Uint8Array, compressed: Uint8Array): number => {
    const ms = exchange(requestBytes(0x10, u32s(5)), replyBytes(0, stubStatus), baud);
    const inflated = inflatedBlockSizes(compressed, STUB_FLASH_WRITE_SIZE);
    let now = 0;
    let workDone = 0;
    let written = 0;
    let erasedTo = offset;
    const pieceEnd = Math.ceil((offset + data.length) / SECTOR) * SECTOR;
    for (let i = 0; i * STUB_FLASH_WRITE_SIZE < compressed.length; i++) {
      const chunk = compressed.subarray(i * STUB_FLASH_WRITE_SIZE, (i + 1) * STUB_FLASH_WRITE_SIZE);
      const payload = new Uint8Array(16 + chunk.length);
      payload.set(chunk, 16);
      const req = requestBytes(0x11, payload, 1);
      const reply = replyBytes(0, stubStatus);
      wireBytes += req + reply;
      wire += msAt(req + reply, baud);
      const received = now + msAt(req, baud);
      // The stub reads the command once the previous block is in flash, then acknowledges and starts this one.
      const handled = Math.max(received, workDone);
      now = handled + msAt(reply, baud);
      const n = Math.min(inflated[i], data.length - written);
      const end = offset + written + n;
      written += n;
      let work = (inflated[i] / MIB) * t.inflateMsPerMiB;
      if (end > erasedTo) {
        // The stub erases just in time, a whole 64 KB block ahead where the write covers it, never past the end.
        const eraseEnd = Math.min(Math.ceil(end / BLOCK) * BLOCK, pieceEnd);
        work += erasesBlank
          ? eraseMs(t, erasedTo, eraseEnd)
          : ((eraseEnd - Math.floor(erasedTo / SECTOR) * SECTOR) / MIB) * t.readMsPerMiB;
        erasedTo = eraseEnd;
      }
      work += Math.ceil(n / 256) * t.pageProgramMs;
      workDone = handled + work;
    }
    // FLASH_DEFL_END is answered once the last block is in flash.
    const endReq = requestBytes(0x12, u32s(1));
    const afterEnd = Math.max(now + msAt(endReq, baud), workDone) + msAt(replyBytes(0, stubStatus), baud);
    exchange(endReq, replyBytes(0, stubStatus), baud);
    return ms + afterEnd;
  };
  for (const r of regions) {
    const plan = opts.skipBlankSectors ? r.erasedPlan : undefined;
    if (plan) {
      for (const b of plan.blank) write += md5Exchange(b.length);
      for (const part of plan.parts) write += writePiece(part.offset, part.data, part.compressed);
    } else {
      write += writePiece(r.offset, r.data, r.compressed);
    }
    // A region that is one blank run is verified by that run's MD5 (src/esp/write-regions.ts).
    const wholeBlank = plan?.parts.length === 0 && plan.blank.length === 1;
    if (!wholeBlank) write += md5Exchange(r.data.length);
  }
  const totalMs = connect + stub + write;
  return {
    totalMs,
    phases: { connect, stub, write, reset: 0 },
    wireBytes,
    wireMs: wire,
    chipMs: totalMs - wire,
  };
}
