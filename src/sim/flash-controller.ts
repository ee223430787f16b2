import type { FaultSpec } from './faults.ts';
import { findFault } from './faults.ts';
import type { NorFlash } from './nor-flash.ts';
import type { TimingModel } from './timing.ts';

/** The chip waits while the flash is busy (the loader context's clock-dated delay). */
type ChipDelay = (ms: number) => Promise<void>;

const SECTOR = 0x1000;
const BLOCK = 0x10000;

/**
 * The chip's SPI flash driver: erase and program with datasheet timing and the flash faults
 * (write-error, silent-corruption, slow-flash). Both the ROM and the stub write through it.
 */
export class FlashController {
  private badSector: number | undefined;
  private corruptSector: number | undefined;
  private readonly writeError: boolean;
  private readonly corruption: boolean;
  /** What the flash chip was busy with since power-up: bytes erased and the time that took (ms). */
  readonly stats = { erasedBytes: 0, eraseMs: 0 };

  constructor(
    readonly flash: NorFlash,
    private readonly timing: TimingModel,
    faults: readonly FaultSpec[],
  ) {
    const we = findFault(faults, 'write-error');
    const sc = findFault(faults, 'silent-corruption');
    this.writeError = !!we;
    this.corruption = !!sc;
    if (we?.offset !== undefined) this.badSector = sectorOf(we.offset);
    if (sc?.offset !== undefined) this.corruptSector = sectorOf(sc.offset);
  }

  private get slowdown(): number {
    return this.timing.flashSlowdown;
  }

  /** Erase every sector touching [offset, offset+length): 64 KB blocks where whole blocks fit. */
  async erase(offset: number, length: number, busy: ChipDelay): Promise<void> {
    await busy(this.eraseNow(offset, length));
  }

  /** Erase at once; returns how long the flash chip takes for it (ms), for callers that batch their delays. */
  eraseNow(offset: number, length: number): number {
    if (length <= 0) return 0;
    let addr = sectorOf(offset);
    const end = Math.min(this.flash.size, Math.ceil((offset + length) / SECTOR) * SECTOR);
    let ms = 0;
    const start = addr;
    while (addr < end) {
      if (addr % BLOCK === 0 && addr + BLOCK <= end) {
        this.flash.eraseBlock(addr);
        ms += this.timing.blockEraseMs;
        addr += BLOCK;
      } else {
        this.flash.eraseSector(addr);
        ms += this.timing.sectorEraseMs;
        addr += SECTOR;
      }
    }
    this.stats.erasedBytes += addr - start;
    this.stats.eraseMs += ms * this.slowdown;
    return ms * this.slowdown;
  }

  /** How long reading `bytes` into RAM takes (ms). */
  readMs(bytes: number): number {
    return (bytes / 0x100000) * this.timing.readMsPerMiB;
  }

  async eraseChip(busy: ChipDelay): Promise<void> {
    this.flash.eraseChip();
    const ms = (this.flash.size / BLOCK) * this.timing.blockEraseMs * this.slowdown;
    this.stats.erasedBytes += this.flash.size;
    this.stats.eraseMs += ms;
    await busy(ms);
  }

  /** Program `data` at `offset`; false when the flash reported a program failure (write-error fault). */
  async program(offset: number, data: Uint8Array, busy: ChipDelay): Promise<boolean> {
    const { ok, ms } = this.programNow(offset, data);
    await busy(ms);
    return ok;
  }

  /** Program at once; returns whether the flash accepted it and how long it takes (ms). */
  programNow(offset: number, data: Uint8Array): { ok: boolean; ms: number } {
    if (data.length === 0) return { ok: true, ms: 0 };
    if (this.writeError && this.badSector === undefined) this.badSector = sectorOf(offset);
    if (this.corruption && this.corruptSector === undefined) this.corruptSector = sectorOf(offset);
    let ok = true;
    let bytes: Buffer = Buffer.from(data);
    if (this.corruptSector !== undefined) bytes = corrupt(bytes, offset, this.corruptSector);
    if (this.badSector !== undefined && overlaps(offset, bytes.length, this.badSector)) {
      // The bad sector does not take the data; everything around it does.
      ok = false;
      const start = Math.max(0, this.badSector - offset);
      const stop = Math.min(bytes.length, this.badSector + SECTOR - offset);
      if (start > 0) this.flash.program(offset, bytes.subarray(0, start));
      if (stop < bytes.length) this.flash.program(offset + stop, bytes.subarray(stop));
    } else {
      this.flash.program(offset, bytes);
    }
    return { ok, ms: Math.ceil(bytes.length / 256) * this.timing.pageProgramMs * this.slowdown };
  }
}

function sectorOf(addr: number): number {
  return Math.floor(addr / SECTOR) * SECTOR;
}

function overlaps(offset: number, length: number, sector: number): boolean {
  return offset < sector + SECTOR && offset + length > sector;
}

/** Clear one set bit in the first byte that lands in the corrupt sector (NOR can only clear bits). */
function corrupt(bytes: Buffer, offset: number, sector: number): Buffer {
  if (!overlaps(offset, bytes.length, sector)) return bytes;
  const start = Math.max(0, sector - offset);
  const stop = Math.min(bytes.length, sector + SECTOR - offset);
  for (let i = start; i < stop; i++) {
    if (bytes[i] !== 0) {
      bytes[i] &= bytes[i] - 1;
      return bytes;
    }
  }
  return bytes;
}
