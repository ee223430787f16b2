/**
 * What the pipeline needs from the flasher, as a small port. The real implementation (esp-board-link.ts) drives
 * src/esp over src/serial; tests may drive a scripted one. Keeping the seam here lets the pipeline's retry and
 * guard logic stay readable and free of protocol details.
 */
import type { ChipName } from '../esp/chips/chip.ts';
import type { SlotInfo } from './events.ts';

export interface BoardIdentity {
  chip: ChipName;
  revision: number;
  mac: string;
  flashId?: number;
  flashSizeBytes?: number;
  secureBoot: boolean;
  flashEncryption: boolean;
  crystalMhz?: number;
}

/** One region of the prepared image set (src/firmware PreparedRegion has these fields and more). */
export interface ImageRegion {
  offset: number;
  label: string;
  data: Uint8Array;
  compressed?: Uint8Array;
  md5: string;
}

export interface RegionOutcome {
  offset: number;
  label: string;
  size: number;
  md5Expected: string;
  md5Chip?: string;
  seconds: number;
  retries: number;
  skipped?: boolean;
}

export interface WriteProgress {
  /** Uncompressed bytes of this region done, and its total. */
  done: number;
  total: number;
}

export interface BoardSession {
  /** Baud the link runs at now. */
  readonly baud: number;
  identify(signal: AbortSignal): Promise<BoardIdentity>;
  /** Upload and start the stub (unless ROM-only), then switch to `baud`; resolves with the baud in use. */
  prepareWrites(opts: { stub: boolean; baud: number; signal: AbortSignal }): Promise<number>;
  /** Write one region and check the chip's MD5 of it; rejects (EspError 'verify-mismatch', ...) otherwise. */
  writeRegion(
    region: ImageRegion,
    opts: { signal: AbortSignal; skipUnchanged: boolean; onProgress: (p: WriteProgress) => void },
  ): Promise<RegionOutcome>;
  /** MD5 the chip computes over [offset, offset+size), lower-case hex. */
  flashMd5(offset: number, size: number, signal: AbortSignal): Promise<string>;
  /** Hard-reset into the application; from here on the session collects what the firmware prints. */
  hardReset(signal: AbortSignal): Promise<void>;
  /** Wait until the output since hardReset contains `pattern`, or `timeoutMs` passes. */
  watchBoot(opts: {
    pattern: string;
    timeoutMs: number;
    signal: AbortSignal;
  }): Promise<{ matched: boolean; output: string }>;
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
}
