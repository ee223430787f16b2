/**
 * The real BoardLink: src/serial opens the slot's tty (a simulated binding when given), src/esp does the
 * protocol. The pipeline only sees BoardLink/BoardSession.
 */
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { EspLoader } from '../esp/loader.ts';
import type { StubRelease } from '../esp/stub.ts';
import { defaultResetStrategies, isUsbJtagSerial } from '../esp/reset.ts';
import { CONNECT_ATTEMPTS } from '../esp/timeouts.ts';
import { writeRegion } from '../esp/write-regions.ts';
import { DEFAULT_BAUD } from '../serial/link-errors.ts';
import { openTransport } from '../serial/transport.ts';
import type { Transport } from '../serial/transport.ts';
import type { ChipIdentity, FlashIdentity } from '../esp/loader.ts';
import type { BoardLink, BoardSession, ImageRegion, RegionOutcome, WriteProgress } from './board-link.ts';
import type { SlotInfo } from './events.ts';

export interface EspBoardLinkOptions {
  /** serialport binding for every port (the simulator's SimBinding); default: the native one. */
  binding?: BindingInterface;
  /** Shrinks reset waits for simulated chips with `fast` timing; 1 on real hardware. */
  resetTimeScale?: number;
  /** Baud the ROM talks at after reset (and the application's boot log). */
  romBaud?: number;
  /**
   * socket:// links: the far end follows the chip's CHANGE_BAUDRATE (the simulator, an autobauding bridge), so
   * the flashing baud is used there too. Default false: a raw TCP port keeps the rate its bridge was set to.
   */
  remoteFollowsBaud?: boolean;
  /** esp-flasher-stub release to upload (default: stub.ts DEFAULT_STUB_RELEASE); benchmarks compare them. */
  stubRelease?: StubRelease;
}

/** Boot output kept for the boot check; the tail is what matters. */
const BOOT_OUTPUT_MAX = 16 * 1024;

export class EspBoardLink implements BoardLink {
  constructor(private readonly opts: EspBoardLinkOptions = {}) {}

  /** Round 0: esptool's order (UnixTight, then Classic); round 1: the same strategies in reverse, long delays first. */
  connectStrategies(): number {
    return 2;
  }

  /** The AT port: a second channel, a second bridge or a socket:// URL, opened like any port of this link. */
  async openAtPort(slot: SlotInfo, o: { baud: number; signal: AbortSignal }): Promise<Transport> {
    if (!slot.atPort) throw new Error(`slot ${slot.name} has no AT port`);
    return openTransport(slot.atPort, {
      baudRate: o.baud,
      ...(this.opts.binding && { binding: this.opts.binding }),
      signal: o.signal,
    });
  }

  async connect(
    slot: SlotInfo,
    o: { attempt: number; signal: AbortSignal; onLog?: (line: string) => void },
  ): Promise<BoardSession> {
    const romBaud = this.opts.romBaud ?? DEFAULT_BAUD;
    const vid = Number.parseInt(slot.vid, 16);
    const pid = Number.parseInt(slot.pid, 16);
    const transport = await openTransport(slot.tty, {
      baudRate: romBaud,
      ...(this.opts.binding && { binding: this.opts.binding }),
      ...(Number.isFinite(vid) && Number.isFinite(pid) && { usbVidPid: { vid, pid } }),
      signal: o.signal,
    });
    try {
      const base = defaultResetStrategies(transport);
      const strategies = o.attempt % 2 === 1 ? [...base].reverse() : base;
      const loader = await EspLoader.connect(transport, {
        signal: o.signal,
        strategies,
        // Bridges: each strategy once per round. Native USB has its one sequence, tried 7 times as esptool does.
        attempts: isUsbJtagSerial(transport) ? CONNECT_ATTEMPTS : strategies.length,
        ...(o.onLog && { onLog: o.onLog }),
        resetTimeScale: this.opts.resetTimeScale ?? 1,
      });
      return new EspBoardSession(
        loader,
        transport,
        romBaud,
        this.opts.resetTimeScale ?? 1,
        this.opts.remoteFollowsBaud ?? false,
        this.opts.stubRelease,
      );
    } catch (err) {
      await transport.close().catch(() => undefined);
      throw err;
    }
  }
}

class EspBoardSession implements BoardSession {
  private bootText = '';
  private readonly bootListeners = new Set<() => void>();
  private stopCapture: (() => void) | undefined;

  constructor(
    private readonly loader: EspLoader,
    private readonly transport: Transport,
    private readonly romBaud: number,
    private readonly timeScale: number,
    private readonly remoteFollowsBaud: boolean,
    private readonly stubRelease: StubRelease | undefined,
  ) {}

  get baud(): number {
    return this.transport.baudRate;
  }

  get canReset(): boolean {
    return this.transport.supportsControlLines;
  }

  identify(signal: AbortSignal): Promise<ChipIdentity> {
    return this.loader.identify(signal);
  }

  async prepareWrites(o: { stub: boolean; baud: number; signal: AbortSignal }): Promise<number> {
    // As esptool: the stub goes up at the ROM's rate and the baud is changed through it. A stub ≥ v1.1.0
    // re-programs UART0 at start-up (ESP32/S2) for the rate the ROM has on record, not one a ROM
    // CHANGE_BAUDRATE set, so uploading it at a raised ROM baud loses its OHAI.
    if (o.stub) await this.loader.runStub(o.signal, { release: this.stubRelease });
    const baud = await this.loader.changeBaud(o.baud, o.signal, {
      rawTcp: this.remoteFollowsBaud ? 'change' : 'keep',
    });
    await this.loader.attachFlash(o.signal);
    return baud;
  }

  detectFlash(signal: AbortSignal): Promise<FlashIdentity> {
    return this.loader.detectFlash(signal);
  }

  setFlashSize(bytes: number, signal: AbortSignal): Promise<void> {
    return this.loader.spiSetParams(bytes, signal);
  }

  eraseFlash(signal: AbortSignal): Promise<void> {
    return this.loader.eraseFlash(signal);
  }

  async writeRegion(
    region: ImageRegion,
    o: {
      signal: AbortSignal;
      skipUnchanged: boolean;
      compress: boolean;
      onProgress: (p: WriteProgress) => void;
    },
  ): Promise<RegionOutcome> {
    return writeRegion(this.loader, region, {
      signal: o.signal,
      skipUnchanged: o.skipUnchanged,
      compress: o.compress,
      // Blank (all-0xFF) sectors are left alone when the board reads them erased: fresh boards flash faster.
      skipErasedSectors: true,
      onProgress: (p) => o.onProgress({ done: p.done, total: p.total }),
    });
  }

  flashMd5(offset: number, size: number, signal: AbortSignal): Promise<string> {
    return this.loader.flashMd5(offset, size, signal);
  }

  get bootOutput(): string {
    return this.bootText;
  }

  onBootOutput(listener: () => void): () => void {
    this.bootListeners.add(listener);
    return () => this.bootListeners.delete(listener);
  }

  async hardReset(signal: AbortSignal): Promise<void> {
    // The application prints its boot log at the ROM's baud, not at the flashing baud.
    if (this.transport.baudRate !== this.romBaud) await this.transport.setBaudRate(this.romBaud);
    this.bootText = '';
    this.stopCapture?.();
    this.stopCapture = this.transport.onData((chunk) => {
      this.bootText = (this.bootText + chunk.toString('latin1')).slice(-BOOT_OUTPUT_MAX);
      for (const l of this.bootListeners) l();
    });
    await this.loader.hardReset(signal, this.timeScale);
  }

  async close(): Promise<void> {
    this.stopCapture?.();
    this.loader.dispose();
    await this.transport.close();
  }
}
