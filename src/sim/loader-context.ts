import type { ChipFacts } from '../esp/chips/chip.ts';
import type { SimChipExtras } from './chip-extras.ts';
import type { FlashController } from './flash-controller.ts';
import type { FrameQueue } from './frame-queue.ts';
import type { RegisterFile } from './registers.ts';
import type { StubBehaviour } from './stub-releases.ts';
import type { TimingModel } from './timing.ts';

/** What the ROM loader and the stub see of the chip they run on. One context per boot; reset aborts `signal`. */
export interface LoaderContext {
  chip: ChipFacts;
  extras: SimChipExtras;
  regs: RegisterFile;
  flash: FlashController;
  timing: TimingModel;
  security: { secureBoot: boolean; flashEncryption: boolean; secureDownloadMode: boolean };
  /** Aborted when the chip resets: every pending delay and frame wait rejects. */
  signal: AbortSignal;
  /** The chip's time (chip-clock.ts): what it sends is dated from here. */
  chipNow(): number;
  /**
   * The chip is busy for `ms` (flash work, MD5, a register write's delay) from `from` (its time when the work
   * began; default its time now); rejects when the chip resets.
   */
  delay(ms: number, from?: number): Promise<void>;
  frames: FrameQueue;
  /** SLIP-encode and transmit at the current chip baud. */
  sendFrame(payload: Uint8Array): void;
  chipBaud(): number;
  /** Switch the chip's UART; output already queued still goes out at the old rate. */
  setChipBaud(baud: number): void;
  crystalMhz: number;
  /** The ROM's autobaud settles on the host's current rate (first SYNC); it holds until CHANGE_BAUDRATE. */
  lockAutobaud(): void;
  /** MEM_END jumped into a recognised stub release: switch to its semantics (it sends OHAI). */
  startStub(stub: StubBehaviour): void;
  /** MEM_END jumped into code the simulator cannot run: the chip goes silent until reset; `reason` says why. */
  halt(reason: string): void;
  /** SPI_ATTACH: drive the flash through these pins (packed as the command takes them; 0 = default pins). */
  attachSpi(pins: number): void;
  /** The flash size a stub derives from RDID at start-up (esp-stub-lib; 16 MB when the id is unknown). */
  flashSizeFromId(): number;
  /** Whether the flash answers on the pins attached (custom-wired flash needs its own pins). */
  flashReachable(): boolean;
  /** Counts one flash data block the ROM accepted; true when the rom-error fault makes the ROM refuse it. */
  romErrorOnDataBlock(): boolean;
  /** Counts one data block received (ROM or stub, MEM or FLASH); true when the garbled-block fault damages it. */
  garbledDataBlock(): boolean;
  /** The chip resets itself: `download` keeps the latched boot mode, `flash` runs user code. */
  softReset(kind: 'download' | 'flash'): void;
}

/** A loader handles one received SLIP frame at a time. */
export interface Loader {
  readonly kind: 'rom' | 'stub';
  handle(frame: Buffer): Promise<void>;
  /**
   * Resolves when the loader is back at its receive loop; until then frames wait in the receiver's buffers
   * (the stub's flash work after an acknowledged block keeps it away).
   */
  idle?(): Promise<void>;
  /** Release resources (inflaters) when the chip resets. */
  dispose(): void;
}

/** GET_SECURITY_INFO payload (§8.3): flags, flash_crypt_cnt, 7 key purposes, chip_id, api_version. */
export function securityInfo(ctx: LoaderContext, bytes: 12 | 20): Buffer {
  const out = Buffer.alloc(bytes);
  // Flag bits: 0 SECURE_BOOT_EN, 2 SECURE_DOWNLOAD_ENABLE (§8.3).
  out.writeUInt32LE((ctx.security.secureBoot ? 1 : 0) | (ctx.security.secureDownloadMode ? 4 : 0), 0);
  out[4] = ctx.security.flashEncryption ? 1 : 0;
  if (bytes === 20) {
    out.writeUInt32LE(ctx.chip.imageChipId ?? 0, 12);
    out.writeUInt32LE(3, 16);
  }
  return out;
}
