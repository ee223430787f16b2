/**
 * Writing prepared regions to flash (§5): compressed (FLASH_DEFL_*) by default, uncompressed fallback,
 * 0x400-byte blocks on the ROM and 0x4000 on the stub, block retry on checksum errors, then an MD5 of
 * every region computed by the chip. A region counts as written only when that MD5 equals `md5`.
 */
import { deflateSync } from 'node:zlib';
import type { EspLoader } from './loader.ts';
import { BlockInflater } from './block-inflater.ts';
import { erasedMd5, type ErasedSectorPlan } from './erased-sectors.ts';
import { EspError, isEspError } from './errors.ts';
import { sleep } from './sleep.ts';
import { TIMEOUTS, WRITE_BLOCK_ATTEMPTS, deflBlockTimeout, timeoutPerMb } from './timeouts.ts';

const SECTOR = 0x1000;

/** One region to write. `data` is already padded and header-patched (src/firmware PreparedRegion). */
export interface FlashRegion {
  offset: number;
  label: string;
  data: Uint8Array;
  /** One zlib stream of `data`, made once per recipe (src/firmware); compressed here only when absent. */
  compressed?: Uint8Array;
  /** Lower-case hex MD5 of `data`. */
  md5: string;
  /** The region's whole blank sectors and the compressed parts between them, made once per recipe. */
  erasedPlan?: ErasedSectorPlan;
}

export interface RegionResult {
  offset: number;
  label: string;
  size: number;
  md5Expected: string;
  md5Chip: string;
  seconds: number;
  /** Blocks re-sent after a checksum error, summed over the region. */
  retries: number;
  /** True when the chip's MD5 already matched and nothing was written (skipUnchanged). */
  skipped: boolean;
  compressed: boolean;
}

export interface RegionProgress {
  offset: number;
  label: string;
  /** Uncompressed bytes of this region sent so far (estimated per block for compressed writes). */
  done: number;
  total: number;
  /** Uncompressed bytes per second since the region started. */
  bytesPerSecond: number;
  /** Across every region of one writeRegions call (skipped regions count as done). */
  overall?: { done: number; total: number };
}

export interface WriteOptions {
  signal?: AbortSignal;
  onProgress?: (p: RegionProgress) => void;
  /** Use FLASH_DEFL_* where the loader supports it (default true). */
  compress?: boolean;
  /** Ask the chip for each region's MD5 first and skip regions that already match. */
  skipUnchanged?: boolean;
  /**
   * Stub only, for regions that carry an `erasedPlan`: 4 KB sectors that are all 0xFF in the image are not
   * written when the chip reads them erased (one MD5 each; erased with ERASE_REGION otherwise). Saves their
   * erase + program time on fresh boards.
   */
  skipErasedSectors?: boolean;
  /** Attempts per block when the loader reports a checksum error (default 3, as esptool). */
  blockRetries?: number;
  /** writeRegions only: called as each region is written and verified (or skipped). */
  onRegionDone?: (r: RegionResult) => void;
}

export async function writeRegions(
  loader: EspLoader,
  regions: readonly FlashRegion[],
  opts: WriteOptions = {},
): Promise<RegionResult[]> {
  const results: RegionResult[] = [];
  const total = regions.reduce((n, r) => n + r.data.length, 0);
  let before = 0;
  for (const region of regions) {
    const r = await writeRegion(loader, region, {
      ...opts,
      onProgress: (p) => opts.onProgress?.({ ...p, overall: { done: before + p.done, total } }),
    });
    before += region.data.length;
    results.push(r);
    opts.onRegionDone?.(r);
  }
  return results;
}

function canVerify(loader: EspLoader): boolean {
  return (loader.isStub || loader.chip.romHasEsp32Commands) && !loader.isSecureDownloadMode;
}

/** Writes one region and verifies it; throws EspError 'verify-mismatch' when the chip's MD5 differs. */
export async function writeRegion(
  loader: EspLoader,
  region: FlashRegion,
  opts: WriteOptions = {},
): Promise<RegionResult> {
  const { signal } = opts;
  const started = performance.now();
  const size = region.data.length;
  const md5Expected = region.md5.toLowerCase();
  if (!canVerify(loader)) {
    throw new EspError(
      'unsupported',
      `cannot verify ${region.label} on this loader (${loader.chip.displayName} ROM${loader.isSecureDownloadMode ? ', Secure Download Mode' : ''}): no chip-side MD5; use the flasher stub`,
    );
  }
  await loader.attachFlash(signal);
  const result = (md5Chip: string, retries: number, skipped: boolean, compressed: boolean) => ({
    offset: region.offset,
    label: region.label,
    size,
    md5Expected,
    md5Chip,
    seconds: (performance.now() - started) / 1000,
    retries,
    skipped,
    compressed,
  });

  if (opts.skipUnchanged) {
    const md5 = await loader.flashMd5(region.offset, size, signal);
    if (md5 === md5Expected) return result(md5, 0, true, false);
  }

  // The ROM erases from FLASH_BEGIN's address, which must be sector aligned: pad down with 0xFF (§5.1).
  const bytesOver = loader.isStub ? 0 : region.offset % SECTOR;
  const offset = region.offset - bytesOver;
  const data = bytesOver === 0 ? region.data : concat(new Uint8Array(bytesOver).fill(0xff), region.data);

  const wantCompress = (opts.compress ?? true) && (loader.isStub || loader.chip.romHasEsp32Commands);
  let compressed: Uint8Array | undefined;
  if (wantCompress) {
    compressed = bytesOver === 0 && region.compressed ? region.compressed : deflateSync(data, { level: 9 });
    // esptool: no gain, no compression.
    if (compressed.length >= data.length) compressed = undefined;
  }

  const progress = (done: number) => {
    const elapsed = (performance.now() - started) / 1000;
    const regionDone = Math.max(0, Math.min(size, done - bytesOver));
    opts.onProgress?.({
      offset: region.offset,
      label: region.label,
      done: regionDone,
      total: size,
      bytesPerSecond: elapsed > 0 ? regionDone / elapsed : 0,
    });
  };

  let retries = 0;
  let usedCompression = false;
  const plan = opts.skipErasedSectors && loader.isStub && compressed ? region.erasedPlan : undefined;
  // A region that is one blank run and already reads erased: that MD5 covered exactly its bytes, nothing was
  // written since, so it is the region's verification too (one round trip fewer, e.g. ESP-IDF's otadata).
  let blankRegionMd5: string | undefined;
  if (plan) {
    for (const b of plan.blank) {
      const md5 = await loader.flashMd5(b.offset, b.length, signal);
      if (md5 !== erasedMd5(b.length)) await loader.eraseRegion(b.offset, b.length, signal);
      else if (b.offset === region.offset && b.length === size) blankRegionMd5 = md5;
    }
    for (const part of plan.parts) {
      const base = part.offset - region.offset;
      retries += await writeCompressed(loader, part.offset, part.data, part.compressed, opts, (d) =>
        progress(base + d),
      );
    }
    progress(size);
    usedCompression = true;
  } else if (compressed) {
    try {
      retries = await writeCompressed(loader, offset, data, compressed, opts, progress);
      usedCompression = true;
    } catch (e) {
      // A loader without FLASH_DEFL_* support: fall back to plain writes.
      if (!isEspError(e, 'unsupported')) throw e;
      retries = await writePlain(loader, offset, data, opts, progress);
    }
  } else {
    retries = await writePlain(loader, offset, data, opts, progress);
  }

  const md5Chip = blankRegionMd5 ?? (await loader.flashMd5(region.offset, size, signal));
  if (md5Chip !== md5Expected) {
    throw new EspError(
      'verify-mismatch',
      `${region.label} @0x${region.offset.toString(16)}: flash MD5 ${md5Chip} does not match the image's ${md5Expected}`,
    );
  }
  return result(md5Chip, retries, false, usedCompression);
}

/**
 * A data block refused for its checksum (damaged on the wire). The stub checks the checksum before anything
 * else and keeps no block count, so the same block goes again (as esptool). Both real ROMs (ESP32, ESP32-C3,
 * measured under QEMU) count a refused block: the same seq again is 0x05 and the next block would land where
 * the refused one belonged. So to the ROM the whole part goes again from its BEGIN, which erases and counts anew.
 */
async function sendWithRetries(
  loader: EspLoader,
  send: () => Promise<void>,
  attempts: number,
  signal: AbortSignal | undefined,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await send();
      return attempt - 1;
    } catch (e) {
      if (!isEspError(e, 'checksum') || attempt >= attempts) throw e;
      if (!loader.isStub) throw new RestartFromBegin(e);
      // esptool-js pauses briefly before re-sending the same sequence number.
      await sleep(150, signal);
    }
  }
}

/** A ROM refused a block for its checksum: the part must start again from its BEGIN. */
class RestartFromBegin extends Error {
  constructor(readonly refusal: unknown) {
    super('restart from BEGIN');
  }
}

/** Runs one BEGIN..blocks part; restarts it when the ROM refused a block for its checksum (see sendWithRetries). */
async function withRestarts(attempts: number, part: () => Promise<number>): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await part()) + attempt - 1;
    } catch (e) {
      if (!(e instanceof RestartFromBegin)) throw e;
      if (attempt >= attempts) throw e.refusal;
    }
  }
}

function writeCompressed(
  loader: EspLoader,
  offset: number,
  data: Uint8Array,
  compressed: Uint8Array,
  opts: WriteOptions,
  progress: (done: number) => void,
): Promise<number> {
  return withRestarts(opts.blockRetries ?? WRITE_BLOCK_ATTEMPTS, () =>
    writeCompressedPart(loader, offset, data, compressed, opts, progress),
  );
}

async function writeCompressedPart(
  loader: EspLoader,
  offset: number,
  data: Uint8Array,
  compressed: Uint8Array,
  opts: WriteOptions,
  progress: (done: number) => void,
): Promise<number> {
  const { signal } = opts;
  const blockSize = loader.flashWriteSize;
  const numBlocks = Math.ceil(compressed.length / blockSize);
  // Stub: exact uncompressed length. ROM: rounded up to whole blocks (§5.2 step 4).
  const sizeWord = loader.isStub ? data.length : Math.ceil(data.length / blockSize) * blockSize;
  await loader.flashDeflBegin(sizeWord, numBlocks, blockSize, offset, signal);
  // As esptool: each block's timeout from what that block inflates to. The ROM writes a block before it answers;
  // the stub answers first and writes while the next block arrives, so its work bounds the next reply.
  // Each block's size is learnt while the block before it is on the wire, so the host has nothing to do between
  // an acknowledgement and the next block but send it (inflating 16 KB on zlib's thread pool takes ~1 ms).
  const inflater = new BlockInflater();
  const chunkAt = (seq: number) => compressed.subarray(seq * blockSize, (seq + 1) * blockSize);
  let nextInflated = numBlocks > 0 ? inflater.next(chunkAt(0)) : Promise.resolve(undefined);
  let timeoutMs: number = TIMEOUTS.default;
  let retries = 0;
  let done = 0;
  try {
    for (let seq = 0; seq < numBlocks; seq++) {
      const chunk = chunkAt(seq);
      const inflated = (await nextInflated) ?? data.length;
      const blockTimeout = deflBlockTimeout(inflated, loader.isStub);
      if (!loader.isStub) timeoutMs = blockTimeout;
      const sent = sendWithRetries(
        loader,
        () => loader.flashDeflData(chunk, seq, timeoutMs, signal),
        opts.blockRetries ?? WRITE_BLOCK_ATTEMPTS,
        signal,
      );
      if (seq + 1 < numBlocks) nextInflated = inflater.next(chunkAt(seq + 1));
      retries += await sent;
      if (loader.isStub) timeoutMs = blockTimeout;
      done += inflated;
      progress(Math.min(data.length, done));
    }
  } finally {
    inflater.close();
  }
  // Only the stub gets an END: it reports the last deferred write; to the ROM END would leave the loader.
  if (loader.isStub) await loader.flashDeflEnd(false, timeoutMs, signal);
  return retries;
}

function writePlain(
  loader: EspLoader,
  offset: number,
  data: Uint8Array,
  opts: WriteOptions,
  progress: (done: number) => void,
): Promise<number> {
  return withRestarts(opts.blockRetries ?? WRITE_BLOCK_ATTEMPTS, () =>
    writePlainPart(loader, offset, data, opts, progress),
  );
}

async function writePlainPart(
  loader: EspLoader,
  offset: number,
  data: Uint8Array,
  opts: WriteOptions,
  progress: (done: number) => void,
): Promise<number> {
  const { signal } = opts;
  const blockSize = loader.flashWriteSize;
  const numBlocks = Math.ceil(data.length / blockSize);
  const eraseSize =
    !loader.isStub && loader.chip.name === 'esp8266' ? esp8266RomEraseSize(offset, data.length) : data.length;
  await loader.flashBegin(eraseSize, numBlocks, blockSize, offset, signal);
  const timeoutMs = timeoutPerMb(TIMEOUTS.eraseWritePerMb, blockSize);
  let retries = 0;
  const block = new Uint8Array(blockSize);
  for (let seq = 0; seq < numBlocks; seq++) {
    const part = data.subarray(seq * blockSize, (seq + 1) * blockSize);
    // The last block is padded with 0xFF to the full block size (§5.1).
    block.fill(0xff);
    block.set(part);
    retries += await sendWithRetries(
      loader,
      () => loader.flashData(block, seq, timeoutMs, signal),
      opts.blockRetries ?? WRITE_BLOCK_ATTEMPTS,
      signal,
    );
    progress(Math.min(data.length, (seq + 1) * blockSize));
  }
  if (loader.isStub) await loader.flashEnd(false, timeoutMs, signal);
  return retries;
}

/** esptool ESP8266ROM.get_erase_size: works around the ROM erasing too much (§5.3). */
export function esp8266RomEraseSize(offset: number, size: number): number {
  const sectorsPerBlock = 16;
  const numSectors = Math.ceil(size / SECTOR);
  const startSector = Math.floor(offset / SECTOR);
  let head = sectorsPerBlock - (startSector % sectorsPerBlock);
  if (numSectors < head) head = numSectors;
  return numSectors < 2 * head ? Math.floor((numSectors + 1) / 2) * SECTOR : (numSectors - head) * SECTOR;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
