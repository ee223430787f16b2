/**
 * What the pipeline needs from the flasher, as a small port. The real implementation (esp-board-link.ts) drives
 * src/esp over src/serial; tests may drive a scripted one. Keeping the seam here lets the pipeline's retry and
 * guard logic stay readable and free of protocol details.
 */
import type { ErasedSectorPlan } from '../esp/erased-sectors.ts';
import type { ChipIdentity, FlashIdentity } from '../esp/loader.ts';
import type { RegionResult } from '../esp/write-regions.ts';
import type { Transport } from '../serial/transport.ts';
import type { BootOutputSource } from './boot-check.ts';
import type { SlotInfo } from './events.ts';

/** The board as the station knows it: the chip first, its flash once the loader may read it. */
export type BoardIdentity = ChipIdentity & Partial<FlashIdentity>;

/** One region of the prepared image set (src/firmware PreparedRegion has these fields and more). */
export interface ImageRegion {
  offset: number;
  label: string;
  data: Uint8Array;
  compressed?: Uint8Array;
  /** Blank sectors and the compressed parts between them (prepared once per recipe). */
  erasedPlan?: ErasedSectorPlan;
  md5: string;
  /**
   * Read this region's MD5 again once all regions are written: a later region shares one of its 4 KB sectors
   * (prepared once per recipe). Absent means yes: a region of unknown layout is read again.
   */
  rereadAfterAll?: boolean;
}

/** One region written and verified by the chip's MD5 (or found unchanged): what src/esp reports. */
export type RegionOutcome = RegionResult;

export interface WriteProgress {
  /** Uncompressed bytes of this region done, and its total. */
  done: number;
  total: number;
}

export interface BoardSession extends BootOutputSource {
  /** Baud the link runs at now. */
  readonly baud: number;
  /** The link has reset lines (DTR/RTS); a raw TCP port has none. */
  readonly canReset: boolean;
  /** The chip from the ROM's registers (revision, MAC, security); the flash is not touched yet. */
  identify(signal: AbortSignal): Promise<ChipIdentity>;
  /**
   * Start the stub (unless ROM-only) at the ROM's baud, switch to `baud` (through the stub when it runs) and
   * attach the flash; resolves with the baud in use. As esptool: nothing talks to the flash before this.
   */
  prepareWrites(opts: { stub: boolean; baud: number; signal: AbortSignal }): Promise<number>;
  /** The flash's id and size (after prepareWrites). */
  detectFlash(signal: AbortSignal): Promise<FlashIdentity>;
  /** SPI_SET_PARAMS: the ROM assumes 2 MB until told; esptool always tells it. */
  setFlashSize(bytes: number, signal: AbortSignal): Promise<void>;
  /** Erase the whole chip (stub only). */
  eraseFlash(signal: AbortSignal): Promise<void>;
  /** Write one region and check the chip's MD5 of it; rejects (EspError 'verify-mismatch', ...) otherwise. */
  writeRegion(
    region: ImageRegion,
    opts: {
      signal: AbortSignal;
      skipUnchanged: boolean;
      compress: boolean;
      onProgress: (p: WriteProgress) => void;
    },
  ): Promise<RegionOutcome>;
  /** MD5 the chip computes over [offset, offset+size), lower-case hex. */
  flashMd5(offset: number, size: number, signal: AbortSignal): Promise<string>;
  /** Hard-reset into the application; from here on `bootOutput` collects what the firmware prints. */
  hardReset(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export interface BoardLink {
  /**
   * Open the slot's port and bring the chip into its bootloader. `attempt` (0-based) selects another reset
   * strategy on each retry, so a board whose auto-reset circuit is slow still gets in.
   */
  connect(
    slot: SlotInfo,
    opts: { attempt: number; signal: AbortSignal; onLog?: (line: string) => void },
  ): Promise<BoardSession>;
  /** How many distinct connect strategies exist for this slot (retries beyond this repeat them). */
  connectStrategies(slot: SlotInfo): number;
  /**
   * Open the slot's AT port (`slot.atPort`) at `baud`, to listen from before the reset on. Its control lines are
   * left alone: they reach no strapping pin. Absent: this link has no AT ports (no slot is tested).
   */
  openAtPort?(slot: SlotInfo, opts: { baud: number; signal: AbortSignal }): Promise<Transport>;
}
