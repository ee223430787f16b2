/**
 * The simulated board (SimBoard below). Over 400 lines on purpose: power, straps, reset circuit, UART timing,
 * faults and the loader hand-over are one device's state machine, kept together; the parts that stand alone
 * (flash, registers, loaders, boot log, wire queue) are their own files.
 */
import { EventEmitter } from 'node:events';
import type { ChipFacts, ChipName } from '../esp/chips/chip.ts';
import { chipByName } from '../esp/chips/index.ts';
import { DEFAULT_BAUD } from '../serial/link-errors.ts';
import { AtApp, SIM_AIRWAVES, type SimAccessPoint } from './at-app.ts';
import type { AtFirmware } from './at-firmware.ts';
import { AtUart } from './at-uart.ts';
import { flashBootLog, type FlashBootResult } from './boot-log.ts';
import { formatRevision } from '../esp/identity-text.ts';
import { DEFAULT_REVISIONS, simChipExtras, type SimChipExtras } from './chip-extras.ts';
import { ARMABLE_FAULTS, findFault, parseFault, type FaultSpec } from './faults.ts';
import { FlashController } from './flash-controller.ts';
import { FrameQueue } from './frame-queue.ts';
import type { Loader, LoaderContext } from './loader-context.ts';
import { formatMac, parseMac } from './mac.ts';
import { NorFlash } from './nor-flash.ts';
import { RegisterFile } from './registers.ts';
import { SeededRandom } from './rng.ts';
import { RomLoader } from './rom-loader.ts';
import { SlipDecoder, slipEncode } from './slip.ts';
import { defaultJedecId, type SpiFlashIdentity } from './spi-flash-commands.ts';
import { StubLoader } from './stub-loader.ts';
import type { StubBehaviour } from './stub-releases.ts';
import { timingModel, wireMs, type TimingModel, type TimingName } from './timing.ts';
import { UsbLatencyBuffer } from './usb-latency.ts';
import { ChipClock } from './chip-clock.ts';
import { ratesMismatch } from './uart-rates.ts';
import { WireQueue } from './wire-queue.ts';
import type { HostHandlers, HostLink } from './host-link.ts';

export type { HostHandlers, HostLink } from './host-link.ts';

export interface SimBoardOptions {
  /** Chip variant (default esp32). */
  chip?: ChipName | ChipFacts;
  /** Base MAC 'AA:BB:CC:DD:EE:FF' (default: Espressif OUI + a per-board number). */
  mac?: string | Uint8Array;
  /** Chip revision major*100+minor (default: what ships today, chip-extras.ts DEFAULT_REVISIONS). */
  revision?: number;
  /** Crystal in MHz (default: the chip's). */
  crystalMhz?: number;
  /** JEDEC id as RDID returns it in W0 (manufacturer | type << 8 | capacity << 16); default from flashSize. */
  flashId?: number;
  /** Flash size in bytes or '4MB' (default 4 MB). */
  flashSize?: number | string;
  /**
   * Secure boot eFuses: 'v1' (ESP32 only: ABS_DONE_0), 'v2' (ESP32 from v3.0: ABS_DONE_1; S2 and later), or true
   * for the newest the chip and revision have. The 'secure-boot' fault means true.
   */
  secureBoot?: boolean | 'v1' | 'v2';
  flashEncryption?: boolean;
  /** Secure Download Mode (ESP32-S2 and later ROMs only; ignored elsewhere): most ROM commands refused, no stub. */
  secureDownloadMode?: boolean;
  timing?: TimingName;
  timingOverrides?: Partial<TimingModel>;
  /** Faults, as specs or `NAME[:ARG]` strings. */
  faults?: ReadonlyArray<FaultSpec | string>;
  /** Seed of the fault RNG (default 1): same seed, same faults. */
  seed?: number;
  /**
   * How DTR/RTS reach EN/IO0. 'auto-reset' is the DevKit two-transistor circuit; 'usb-jtag' is the
   * USB-Serial/JTAG peripheral, which latches a download request and applies it at the next reset.
   */
  resetCircuit?: 'auto-reset' | 'usb-jtag';
  /**
   * USB-Serial/JTAG boards: the firmware on the board runs its own USB device (TinyUSB, USB-OTG) or uses the USB
   * pins, so when the chip is reset out of it the tty disappears and comes back as the ROM enumerates again.
   */
  appOwnsUsb?: boolean;
  /**
   * USB-Serial/JTAG boards: the firmware leaves the RTC watchdog armed (default true). A reset through the
   * USB-Serial/JTAG peripheral does not reset the RTC domain, so it fires in download mode unless disabled.
   */
  appLeavesWatchdogArmed?: boolean;
  /**
   * ESP32-S3: the firmware sets RTC_CNTL_FORCE_DOWNLOAD_BOOT (as apps that reboot into the ROM over USB do). The
   * ROM never clears it: every reset but a power-on enters download mode until a host clears it.
   */
  appSetsForceDownloadBoot?: boolean;
  /**
   * ESP32: the flash sits on other pins than the default SPI pins and eFuse SPI_PAD_CONFIG names them (in-package
   * flash, e.g. ESP32-PICO-D4). The ROM reaches it only when SPI_ATTACH passes those pins.
   */
  spiPads?: SpiPads;
  /** USB latency timer of the bridge, ms (FTDI default 16): chip → host bytes wait for a full packet or the timer. */
  usbLatencyMs?: number;
  /** Wi-Fi access points the board's radio hears (default: the simulated line's test AP and a neighbour). */
  airwaves?: readonly SimAccessPoint[];
  /** The highest baud the USB bridge holds (its datasheet); above it every byte is garbled. Absent: no limit. */
  bridgeMaxBaud?: number;
}

/** 'halted': the CPU runs uploaded code the simulator cannot model; silent until reset (see `haltReason`). */
export type BoardMode = 'off' | 'reset' | 'download' | 'stub' | 'halted' | 'app';

/** The baud the ROM has on record (UartDev.baud_rate): what a stub ≥ v1.1.0 re-programs UART0 for. */
const ROM_BAUD_ON_RECORD = 115200;
/** esp-flasher-stub: two frame buffers, one being handled, so one complete frame can wait (frame_buffer.c). */
export const STUB_RX_FRAMES_WHILE_BUSY = 1;

/** GPIO numbers of the flash's SPI pins, as eFuse SPI_PAD_CONFIG holds them (ESP32). */
export interface SpiPads {
  clk: number;
  q: number;
  d: number;
  hd: number;
  cs: number;
}

export interface BoardEvents {
  mode: [mode: BoardMode];
  /** The chip jumped into code it cannot run; the sentence says what and why. */
  halted: [reason: string];
  boot: [result: FlashBootResult];
  'link-lost': [];
  /** A request frame reached the loader: its opcode, which loader (ROM or stub) takes it, and its payload. */
  request: [op: number, mode: BoardMode, payload: Uint8Array];
  /** A native-USB board dropped off the bus (its chip reset) and is re-enumerating; the board keeps running. */
  'usb-gone': [];
  /** It is back on the bus. */
  'usb-back': [];
}

let boardCounter = 0;

/** What ESP-IDF's panic handler prints on UART0 before it resets the chip. */
const APP_PANIC =
  "Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.\r\n" +
  'Backtrace: 0x400d1a2b:0x3ffb1f50 0x400d2c3d:0x3ffb1f70\r\n\r\nRebooting...\r\n';
const APP_PANIC_REBOOT_MS = 20;

export function parseFlashSize(size: number | string): number {
  if (typeof size === 'number') return size;
  const m = /^(\d+)\s*(KB|MB)$/i.exec(size.trim());
  if (!m) throw new Error(`'${size}' is not a flash size; use e.g. 4MB or 16MB`);
  return Number(m[1]) * (m[2].toUpperCase() === 'KB' ? 1024 : 1024 * 1024);
}

/** The secure boot version `asked` means on this chip, or an error naming what the chip has. */
function secureBootOf(
  chip: ChipFacts,
  revision: number,
  asked: boolean | 'v1' | 'v2' | undefined,
): 1 | 2 | undefined {
  if (!asked) return undefined;
  const have = (chip.secureBootFuses ?? [])
    .filter((f) => f.fromRevision === undefined || revision >= f.fromRevision)
    .map((f) => f.version);
  if (asked === true) return have.length > 0 ? (Math.max(...have) as 1 | 2) : undefined;
  const version = asked === 'v1' ? 1 : 2;
  if (!have.includes(version)) {
    throw new Error(
      `${chip.displayName} ${formatRevision(revision)} has no Secure Boot V${version} ` +
        `(it has ${have.length > 0 ? have.map((v) => `V${v}`).join(' and ') : 'no secure boot'})`,
    );
  }
  return version;
}

/** eFuse words holding `pads` (ESP32 BLK0: CLK, Q, D, CS in RDATA5 bits 0-19; HD in RDATA3 bits 4-8). */
function spiPadWords(chip: ChipFacts, pads: SpiPads): [number, number][] {
  const at = chip.spiPadConfig!;
  return [
    [
      at.clkQDCs,
      (pads.clk & 0x1f) | ((pads.q & 0x1f) << 5) | ((pads.d & 0x1f) << 10) | ((pads.cs & 0x1f) << 15),
    ],
    [at.hd, (pads.hd & 0x1f) << 4],
  ];
}

/** Pins as the ROM's SPI_ATTACH takes them (esptool `attach_flash`). */
function packSpiPins(p: SpiPads): number {
  return ((p.hd << 24) | (p.cs << 18) | (p.d << 12) | (p.q << 6) | p.clk) >>> 0;
}

/** esp-stub-lib `stub_target_flash_id_to_flash_size`, with its 16 MB fallback for an unknown capacity byte. */
function stubFlashSize(jedecId: number): number {
  const capacity = (jedecId >>> 16) & 0xff;
  if (capacity >= 0x12 && capacity <= 0x1c) return 2 ** capacity;
  if (capacity === 0x39) return 32 * 1024 * 1024;
  return 16 * 1024 * 1024;
}

/** The release before `version` (v3.4.0.0 → v3.3.0.0), as an older ESP-AT on the board would report it. */
function olderVersion(version: string): string {
  const m = /^v(\d+)\.(\d+)\.(\d+)\.(\d+)(.*)$/.exec(version);
  if (!m) return `${version}-old`;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return minor > 0 ? `v${major}.${minor - 1}.0.0` : `v${Math.max(0, major - 1)}.0.0.0`;
}

/**
 * A simulated ESP board: chip (ROM loader, stub), SPI NOR flash, the auto-reset circuit on DTR/RTS, its UART
 * with wire timing and faults. It is a device: it knows the protocol from the spec, not from our flasher.
 */
export class SimBoard extends EventEmitter<BoardEvents> {
  readonly chip: ChipFacts;
  readonly extras: SimChipExtras;
  readonly flash: NorFlash;
  readonly macBytes: Uint8Array;
  readonly timing: TimingModel;
  /** The faults given at power-up, plus any armed since (`armFault`). */
  get faults(): readonly FaultSpec[] {
    return this.faultList;
  }
  private readonly faultList: FaultSpec[];
  readonly crystalMhz: number;
  readonly revision: number;
  readonly resetCircuit: 'auto-reset' | 'usb-jtag';
  readonly appOwnsUsb: boolean;
  readonly appLeavesWatchdogArmed: boolean;
  readonly appSetsForceDownloadBoot: boolean;
  readonly spiPads: SpiPads | undefined;
  /** Latency timer of the USB bridge, ms (0 = bytes pass straight through). */
  readonly usbLatencyMs: number;
  readonly security: { secureBoot: boolean; flashEncryption: boolean; secureDownloadMode: boolean };
  /** Which secure boot the eFuses enable (undefined: off). */
  readonly secureBootVersion: 1 | 2 | undefined;
  readonly spiFlash: SpiFlashIdentity;
  /** Bytes delivered over the wire in each direction (after faults). */
  readonly stats = { toChip: 0, toHost: 0 };
  lastBoot: FlashBootResult | undefined;
  /** ESP-AT's command port (UART1): silent until an ESP-AT app from flash brings it up (attachAtHost). */
  readonly atUart: AtUart;
  readonly airwaves: readonly SimAccessPoint[];
  /** The stub release running now (recognised from the uploaded code), until the next reset. */
  stubRelease: string | undefined;
  /** Why the chip halted (mode 'halted'), until the next reset. */
  haltReason: string | undefined;

  private readonly regs: RegisterFile;
  private readonly flashCtl: FlashController;
  private readonly rng: SeededRandom;
  private readonly rx = new WireQueue(() => this.timing.realistic);
  private readonly tx = new WireQueue(() => this.timing.realistic);
  private readonly frames = new FrameQueue();
  /** The chip's own time: what its loaders send and wait is dated from it, not from late timers. */
  private readonly clock = new ChipClock();
  private readonly decoder = new SlipDecoder(
    (f) => this.frames.push(f),
    () => this.frames.accepting(),
  );
  private host: { handlers: HostHandlers; baud: number | undefined } | undefined;
  private _mode: BoardMode = 'off';
  private lines = { dtr: false, rts: false };
  private enLow = false;
  private downloadLatch = false;
  private strapTimer: NodeJS.Timeout | undefined;
  private bootTimers = new Set<NodeJS.Timeout>();
  private generation = new AbortController();
  private loader: Loader | undefined;
  /** undefined = autobaud (ROM before CHANGE_BAUDRATE): the chip follows whatever rate the host uses. */
  private chipBaudFixed: number | undefined = DEFAULT_BAUD;
  private disconnectArmed: number | undefined;
  private brownoutArmed: number | undefined;
  private readonly usbOut: UsbLatencyBuffer;
  private readonly bridgeMaxBaud: number;
  /** Native USB: off the bus, re-enumerating; the tty is gone until `usb-back`. */
  private usbGone = false;
  private usbBackTimer: NodeJS.Timeout | undefined;
  /** The RTC watchdog the last firmware armed, still counting (the RTC domain has not been reset since). */
  private appWatchdog: NodeJS.Timeout | undefined;
  /** Flash data blocks the ROM received since power-up (the rom-error fault picks one). */
  private romDataBlocks = 0;
  /** Data blocks (MEM and FLASH, ROM and stub) received since power-up (the garbled-block fault picks one). */
  private dataBlocksReceived = 0;
  /** SPI pins the chip drives the flash through (packed as SPI_ATTACH takes them; 0 = the default pins). */
  private spiPinsAttached = 0;

  constructor(options: SimBoardOptions = {}) {
    super();
    const chip = typeof options.chip === 'object' ? options.chip : chipByName(options.chip ?? 'esp32');
    if (!chip) throw new Error(`unknown chip '${String(options.chip)}'`);
    this.chip = chip;
    this.extras = simChipExtras(chip.name);
    this.faultList = (options.faults ?? []).map((f) => (typeof f === 'string' ? parseFault(f) : f));
    const slow = findFault(this.faults, 'slow-flash');
    this.timing = timingModel(options.timing ?? 'fast', {
      ...options.timingOverrides,
      ...(slow ? { flashSlowdown: slow.factor * (options.timingOverrides?.flashSlowdown ?? 1) } : {}),
    });
    this.rng = new SeededRandom(options.seed ?? 1);
    // Its own generator: garbling on the AT port leaves UART0's fault sequence as the seed gave it.
    this.atUart = new AtUart(
      this.timing,
      new SeededRandom((options.seed ?? 1) ^ 0x5a5a5a5a),
      !!findFault(this.faults, 'at-dead'),
    );
    this.airwaves = findFault(this.faults, 'at-no-ap') ? [] : (options.airwaves ?? SIM_AIRWAVES);
    const n = ++boardCounter;
    this.macBytes =
      options.mac === undefined
        ? Uint8Array.from([0x24, 0x0a, 0xc4, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff])
        : typeof options.mac === 'string'
          ? parseMac(options.mac)
          : Uint8Array.from(options.mac);
    this.crystalMhz = options.crystalMhz ?? chip.crystalMhz;
    this.revision = options.revision ?? DEFAULT_REVISIONS[chip.name];
    this.secureBootVersion = secureBootOf(
      chip,
      this.revision,
      options.secureBoot || (findFault(this.faults, 'secure-boot') ? true : undefined),
    );
    this.resetCircuit = options.resetCircuit ?? 'auto-reset';
    const usbJtag = this.resetCircuit === 'usb-jtag';
    this.appOwnsUsb = usbJtag && !!options.appOwnsUsb;
    this.appLeavesWatchdogArmed = usbJtag && (options.appLeavesWatchdogArmed ?? true) && !!chip.rtcWatchdog;
    this.appSetsForceDownloadBoot = !!options.appSetsForceDownloadBoot && !!chip.forceDownloadBoot;
    if (options.spiPads && !chip.spiPadConfig) {
      throw new Error(`${chip.displayName} has no eFuse SPI pad configuration (spiPads is ESP32 only)`);
    }
    this.spiPads = options.spiPads;
    this.usbLatencyMs = options.usbLatencyMs ?? 0;
    this.bridgeMaxBaud = options.bridgeMaxBaud ?? Number.POSITIVE_INFINITY;
    this.usbOut = new UsbLatencyBuffer(this.usbLatencyMs, (bytes) => {
      if (bytes.length > 0) this.host?.handlers.onData(bytes);
    });
    this.security = {
      secureBoot: this.secureBootVersion !== undefined,
      flashEncryption: !!options.flashEncryption || !!findFault(this.faults, 'flash-encryption'),
      secureDownloadMode: !!options.secureDownloadMode && chip.romSecurityInfoBytes > 0,
    };
    const flashSize = parseFlashSize(options.flashSize ?? 4 * 1024 * 1024);
    this.flash = new NorFlash(flashSize);
    this.flashCtl = new FlashController(this.flash, this.timing, this.faults);
    this.spiFlash = { jedecId: options.flashId ?? defaultJedecId(flashSize), status: [0x00, 0x02, 0x60] };
    this.regs = new RegisterFile({
      chip,
      extras: this.scaledExtras(),
      mac: this.macBytes,
      revision: this.revision,
      magic: chip.magicValues[0],
      secureBootVersion: this.secureBootVersion,
      flashEncryption: this.security.flashEncryption,
      spiFlash: this.spiFlash,
      boardWords: this.spiPads ? spiPadWords(chip, this.spiPads) : [],
      uartClock: () => ({ baud: this.chipBaud, crystalMhz: this.crystalMhz }),
      // esptool's watchdog reset (S2/S3/C3 over USB-OTG): the chip reboots and samples its straps again.
      onWatchdogArmed: (ticks) =>
        this.later(this.timing.realistic ? ticks / 150 : 0, () => this.systemReset()),
      onWatchdogDisabled: () => this.stopAppWatchdog(),
      flashReachable: () => this.flashReachable,
    });
    this.disconnectArmed = findFault(this.faults, 'disconnect')?.bytes;
    this.brownoutArmed = findFault(this.faults, 'brownout')?.bytes;
  }

  /**
   * Arms a byte-counted fault (disconnect, brownout, a bit-flip or drop-bytes burst) on a running board, exactly
   * as if it had been given at power-up: its byte numbers still count from power-up (`stats`). A test aims a
   * fault at a protocol phase this way the moment the phase begins, since how many bytes come before it
   * depends on timing (a SYNC answered late is sent again).
   */
  armFault(fault: string | FaultSpec): void {
    const f = typeof fault === 'string' ? parseFault(fault) : fault;
    if (!ARMABLE_FAULTS.has(f.name)) {
      throw new Error(
        `fault '${f.name}' is fixed when the board is made; only ${[...ARMABLE_FAULTS].join(', ')} can be armed later`,
      );
    }
    if (findFault(this.faultList, f.name)) throw new Error(`the board already has a '${f.name}' fault`);
    this.faultList.push(f);
    if (f.name === 'disconnect') this.disconnectArmed = f.bytes;
    if (f.name === 'brownout') this.brownoutArmed = f.bytes;
  }

  get mac(): string {
    return formatMac(this.macBytes);
  }

  get mode(): BoardMode {
    return this._mode;
  }

  /** Bytes the flash chip erased since power-up and the time that took (ms), for tests of the stub releases. */
  /** Frames the chip's receiver lost because they began while every buffer was taken. */
  get framesDropped(): number {
    return this.frames.dropped;
  }

  get flashStats(): { readonly erasedBytes: number; readonly eraseMs: number } {
    return this.flashCtl.stats;
  }

  /** The chip's current UART rate (following the host while the ROM autobauds). */
  get chipBaud(): number {
    return this.chipBaudFixed ?? this.host?.baud ?? DEFAULT_BAUD;
  }

  /** ESP32: scale the RTC calibration to the actual crystal, keeping the ROM's small clock error. */
  private scaledExtras(): SimChipExtras {
    const cal = this.extras.romClockCal;
    if (!cal || this.crystalMhz === 40) return this.extras;
    const caliValue = Math.round((cal.caliValue * this.crystalMhz) / 40);
    return {
      ...this.extras,
      romClockCal: { ...cal, caliValue },
      constantRegs: this.extras.constantRegs.map(
        ([a, v]) => [a, a === cal.rtcCaliReg ? caliValue << 7 : v] as const,
      ),
    };
  }

  // ---- power and reset -------------------------------------------------------------------------------

  /** Power the board (USB plugged). `download: true` holds IO0 low during power-up (TCP: no reset lines). */
  powerOn(opts: { download?: boolean } = {}): void {
    if (this._mode !== 'off') return;
    this.enLow = false;
    this.boot(!!opts.download, 'poweron');
  }

  /** Power removed: everything stops, flash keeps its contents. */
  powerOff(): void {
    this.stopChip();
    this.stopAppWatchdog();
    if (this.usbBackTimer) clearTimeout(this.usbBackTimer);
    this.usbBackTimer = undefined;
    this.usbGone = false;
    this.rx.clear();
    this.tx.clear();
    this.usbOut.clear();
    this.setMode('off');
  }

  /** DTR/RTS as the host's serial port drives them (true = asserted = pin pulled low through the circuit). */
  setLines(lines: { dtr: boolean; rts: boolean }): void {
    this.lines = { ...lines };
    if (this._mode === 'off') return;
    const enLow = lines.rts && !lines.dtr;
    const io0Low = lines.dtr && !lines.rts;
    if (this.resetCircuit === 'usb-jtag' && io0Low) this.downloadLatch = true;
    if (enLow && !this.enLow) {
      this.enLow = true;
      const leftApp = this._mode === 'app';
      this.stopChip();
      this.setMode('reset');
      if (this.resetCircuit === 'usb-jtag' && leftApp) this.leaveAppThroughUsbJtag();
    } else if (!enLow && this.enLow) {
      this.enLow = false;
      // The straps are sampled a moment after EN rises (RC delay), not at the edge.
      this.strapTimer = setTimeout(() => {
        this.strapTimer = undefined;
        if (this.enLow || this._mode === 'off') return;
        const download = this.io0Low() || this.downloadLatch;
        this.downloadLatch = false;
        this.boot(download, 'en');
      }, this.timing.strapSampleMs);
    }
  }

  private io0Low(): boolean {
    return this.lines.dtr && !this.lines.rts;
  }

  private stopChip(): void {
    this.atUart.reset();
    if (this.strapTimer) clearTimeout(this.strapTimer);
    this.strapTimer = undefined;
    for (const t of this.bootTimers) clearTimeout(t);
    this.bootTimers.clear();
    this.generation.abort(new Error('chip reset'));
    this.generation = new AbortController();
    this.loader?.dispose();
    this.loader = undefined;
    this.stubRelease = undefined;
    this.haltReason = undefined;
    this.frames.clear();
    this.decoder.clear();
  }

  private setMode(mode: BoardMode): void {
    if (this._mode === mode) return;
    this._mode = mode;
    this.emit('mode', mode);
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.bootTimers.delete(t);
      fn();
    }, ms);
    this.bootTimers.add(t);
  }

  /**
   * The chip resets through its USB-Serial/JTAG peripheral out of running firmware. That reset spares the RTC
   * domain: a watchdog the firmware armed keeps counting. Firmware that owned the USB pins drops off the bus.
   */
  private leaveAppThroughUsbJtag(): void {
    if (this.appLeavesWatchdogArmed && this.lastBoot?.app && !this.appWatchdog) {
      const wdt = this.chip.rtcWatchdog!;
      this.regs.set(wdt.config0, 0x80000000, 0x80000000);
      this.appWatchdog = setTimeout(() => {
        this.appWatchdog = undefined;
        this.systemReset();
      }, this.timing.appWatchdogMs);
    }
    if (this.appOwnsUsb) {
      this.dropUsb();
      // The ROM's USB-Serial/JTAG starts with its DTR/RTS released: EN comes back up, the latched mode boots.
      this.setLines({ dtr: false, rts: false });
    }
  }

  private stopAppWatchdog(): void {
    if (this.appWatchdog) clearTimeout(this.appWatchdog);
    this.appWatchdog = undefined;
  }

  /** A watchdog resets the whole digital system: straps sampled again, native USB re-enumerates. */
  private systemReset(): void {
    if (this._mode === 'off') return;
    this.stopAppWatchdog();
    if (this.resetCircuit === 'usb-jtag') this.dropUsb();
    this.boot(this.io0Low(), 'wdt');
  }

  /** Native USB leaves the bus and comes back after re-enumeration; the chip runs on meanwhile. */
  private dropUsb(): void {
    if (this.usbGone) return;
    this.usbGone = true;
    const host = this.host;
    this.host = undefined;
    this.rx.clear();
    this.tx.clear();
    this.usbOut.clear();
    this.emit('usb-gone');
    host?.handlers.onLost(new Error('EIO: device disconnected (USB re-enumeration)'));
    this.usbBackTimer = setTimeout(() => {
      this.usbBackTimer = undefined;
      this.usbGone = false;
      if (this._mode !== 'off') this.emit('usb-back');
    }, this.timing.usbReenumerateMs);
  }

  /** Whether the SPI pins the chip drives are the ones the flash is wired to. */
  private get flashReachable(): boolean {
    return this.spiPinsAttached === (this.spiPads ? packSpiPins(this.spiPads) : 0);
  }

  private boot(download: boolean, cause: 'poweron' | 'en' | 'sw' | 'brownout' | 'wdt'): void {
    this.stopChip();
    this.clock.restart();
    this.chipBaudFixed = this.extras.bootLogBaud;
    // EN on an auto-reset board, power and watchdogs reset the RTC domain too; USB-JTAG and software resets do not.
    if (cause !== 'sw' && !(cause === 'en' && this.resetCircuit === 'usb-jtag')) this.stopAppWatchdog();
    const force = this.chip.forceDownloadBoot;
    if (force) {
      if (cause === 'poweron' || cause === 'brownout') this.regs.set(force.addr, 0, force.mask);
      else if (this.regs.read(force.addr) & force.mask) download = true;
    }
    this.spiPinsAttached = 0;
    if (download && !findFault(this.faults, 'no-sync')) {
      this.setMode('download');
      const banner = this.chip.romBanner.map((l) =>
        cause === 'sw' ? l.replace(/rst:0x[0-9a-f]+ \([^)]*\)/, 'rst:0xc (SW_CPU_RESET)') : l,
      );
      this.transmit(Buffer.from(`${banner.join('\r\n')}\r\n`, 'latin1'));
      // After the banner the ROM autobauds on the host's SYNC.
      this.chipBaudFixed = undefined;
      this.loader = new RomLoader(this.context());
      void this.runLoader(this.generation.signal);
      return;
    }
    this.setMode('app');
    const resetLine =
      cause === 'wdt'
        ? this.extras.flashBootLine.replace(/rst:0x[0-9a-f]+ \([^)]*\)/, 'rst:0x10 (RTCWDT_RTC_RESET)')
        : cause === 'brownout'
          ? this.extras.flashBootLine.replace(/rst:0x[0-9a-f]+ \([^)]*\)/, 'rst:0xf (BROWNOUT_RST)')
          : cause === 'sw'
            ? this.extras.flashBootLine.replace(/rst:0x[0-9a-f]+ \([^)]*\)/, 'rst:0xc (SW_CPU_RESET)')
            : undefined;
    const result = flashBootLog(this.flash, this.chip, this.extras, {
      resetLine,
      ...this.security,
      revision: this.revision,
      mfgUnreadable: !!findFault(this.faults, 'at-bad-mfg'),
    });
    this.lastBoot = result;
    // Firmware that starts owns its watchdogs again (the one left from before is reconfigured).
    this.stopAppWatchdog();
    if (result.app && this.appSetsForceDownloadBoot) {
      this.regs.set(this.chip.forceDownloadBoot!.addr, 0xffffffff, this.chip.forceDownloadBoot!.mask);
    }
    this.transmit(Buffer.from(`${result.bootLines.join('\r\n')}\r\n`, 'latin1'));
    this.chipBaudFixed = DEFAULT_BAUD;
    const printApp = () => {
      if (result.appLines.length > 0)
        this.transmit(Buffer.from(`${result.appLines.join('\r\n')}\r\n`, 'latin1'));
      this.emit('boot', result);
      if (result.app && findFault(this.faults, 'app-crash')) {
        this.transmit(Buffer.from(APP_PANIC, 'latin1'));
        // A real panic handler prints, then resets; never synchronously, or a fast board would spin.
        this.later(Math.max(APP_PANIC_REBOOT_MS, this.timing.appStartMs), () => this.boot(false, 'sw'));
      } else if (result.atFirmware) {
        this.startAtApp(result.atFirmware);
      }
    };
    if (this.timing.appStartMs > 0) this.later(this.timing.appStartMs, printApp);
    else printApp();
  }

  /** ESP-AT brings up its AT port from what it read in flash; faults change what it finds or how fast. */
  private startAtApp(found: AtFirmware): void {
    const firmware =
      findFault(this.faults, 'at-old-firmware') && found.binVersion !== undefined
        ? { ...found, binVersion: olderVersion(found.binVersion) }
        : found;
    const slow = findFault(this.faults, 'slow-boot');
    new AtApp({
      firmware,
      uart: this.atUart,
      mac: this.macBytes,
      target: this.chip.displayName,
      airwaves: this.airwaves,
      readyDelayMs: this.timing.atReadyMs + (slow ? (slow.ms ?? 12_000) : 0),
      scanMs: this.timing.wifiScanMs,
      later: (ms, fn) => this.later(ms, fn),
      restart: () => this.boot(false, 'sw'),
    }).start();
  }

  private context(): LoaderContext {
    const signal = this.generation.signal;
    return {
      chip: this.chip,
      extras: this.extras,
      regs: this.regs,
      flash: this.flashCtl,
      timing: this.timing,
      security: this.security,
      signal,
      frames: this.frames,
      crystalMhz: this.crystalMhz,
      sendFrame: (payload) => {
        if (!signal.aborted) this.transmit(slipEncode(payload), this.clock.now());
      },
      chipNow: () => this.clock.now(),
      delay: (ms, from) => this.clock.delay(ms, signal, from),
      chipBaud: () => this.chipBaud,
      setChipBaud: (baud) => {
        this.chipBaudFixed = baud;
      },
      lockAutobaud: () => {
        this.chipBaudFixed ??= this.chipBaud;
      },
      attachSpi: (pins) => {
        this.spiPinsAttached = pins >>> 0;
      },
      flashReachable: () => this.flashReachable,
      flashSizeFromId: () => stubFlashSize(this.spiFlash.jedecId),
      romErrorOnDataBlock: () => this.romDataBlocks++ === findFault(this.faults, 'rom-error')?.block,
      garbledDataBlock: () => this.dataBlocksReceived++ === findFault(this.faults, 'garbled-block')?.block,
      startStub: (stub: StubBehaviour) => {
        // esp-stub-lib's flash init attaches the pins eFuse names (SPI_PAD_CONFIG) before the stub says OHAI.
        this.spiPinsAttached = this.spiPads ? packSpiPins(this.spiPads) : 0;
        this.loader?.dispose();
        const ctx = this.context();
        this.loader = new StubLoader(ctx, stub);
        // esp-flasher-stub receives into one of two frame buffers while it handles the other (frame_buffer.c):
        // while it works, one more complete frame can wait; a frame beginning after that is lost.
        this.frames.limit(STUB_RX_FRAMES_WHILE_BUSY);
        this.stubRelease = stub.release;
        // v1.1.0+ on ESP32/S2: the clock boost re-programs UART0 for the ROM's baud on record, not the current one.
        if (stub.reprogramsUartAtStart) this.chipBaudFixed = ROM_BAUD_ON_RECORD;
        this.setMode('stub');
        // esp-flasher-stub greets with an unsolicited OHAI frame (§6.1).
        ctx.sendFrame(Buffer.from('OHAI', 'latin1'));
      },
      halt: (reason) => {
        this.loader?.dispose();
        this.loader = undefined;
        this.haltReason = reason;
        this.setMode('halted');
        this.emit('halted', reason);
      },
      softReset: (kind) => {
        setImmediate(() => {
          if (!signal.aborted) this.boot(kind === 'download', 'sw');
        });
      },
    };
  }

  private async runLoader(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let frame: Buffer;
      try {
        frame = await this.frames.next(signal);
      } catch {
        return;
      }
      if (frame[0] === 0x00 && frame.length >= 8)
        this.emit('request', frame[1]!, this.mode, frame.subarray(8));
      try {
        await this.loader?.handle(frame);
        await this.loader?.idle?.();
      } catch (err) {
        if (signal.aborted) return;
        // A loader bug must not kill the process: the chip goes quiet, as a crashed chip would.
        process.emitWarning(`simulated ${this.chip.name} loader error: ${(err as Error).message}`);
      }
    }
  }

  // ---- the UART ---------------------------------------------------------------------------------------

  /** Connect the host end of the UART (one host at a time; a new one replaces the old). */
  attachHost(handlers: HostHandlers, opts: { baud?: number } = {}): HostLink {
    this.rx.clear();
    this.tx.clear();
    this.usbOut.clear();
    const host = { handlers, baud: opts.baud };
    this.host = host;
    const live = () => this.host === host;
    return {
      write: (data, writeOpts) =>
        new Promise<void>((resolve, reject) => {
          if (!live()) return reject(new Error('EIO: device disconnected'));
          const baud = host.baud ?? this.chipBaud;
          // The bytes arrive later (after their wire time): copy unless the caller handed the buffer over.
          const bytes = writeOpts?.transfer
            ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
            : Buffer.from(data);
          this.rx.push(wireMs(this.timing, bytes.length, baud), (at) => {
            if (live()) this.deliverToChip(bytes, baud, at);
            resolve();
          });
        }),
      setBaud: (baud) => {
        host.baud = baud;
      },
      setLines: (lines) => {
        if (live()) this.setLines(lines);
      },
      close: () => {
        if (live()) this.host = undefined;
      },
    };
  }

  /** Connect the host end of the AT port (the second channel of a dual bridge, a second bridge, a TCP port). */
  attachAtHost(handlers: HostHandlers, opts: { baud?: number } = {}): HostLink {
    return this.atUart.attachHost(handlers, opts);
  }

  /**
   * Chip → host at the chip's current rate, starting at `from` (a loader's reply: the chip's time; default now)
   * or once the bytes before it are out.
   */
  private transmit(bytes: Buffer, from?: number): void {
    const baud = this.chipBaud;
    this.tx.push(wireMs(this.timing, bytes.length, baud), (at) => this.deliverToHost(bytes, baud, at), from);
  }

  private wireFaults(bytes: Buffer): Buffer {
    const dropFault = findFault(this.faults, 'drop-bytes');
    const flipFault = findFault(this.faults, 'bit-flip');
    const drop = dropFault?.rate ?? 0;
    const flip = flipFault?.rate ?? 0;
    if (drop === 0 && flip === 0) return bytes;
    // A windowed fault only strikes wire bytes inside its window (bytes offered, both directions, from `stats`).
    let pos = this.stats.toChip + this.stats.toHost;
    const inside = (w: { from: number; bytes: number } | undefined): boolean =>
      !w || (pos >= w.from && pos < w.from + w.bytes);
    const out: number[] = [];
    for (const b of bytes) {
      const dropHere = drop > 0 && inside(dropFault?.window);
      const flipHere = flip > 0 && inside(flipFault?.window);
      pos++;
      if (dropHere && this.rng.next() < drop) continue;
      out.push(flipHere && this.rng.next() < flip ? b ^ (1 << this.rng.int(8)) : b);
    }
    return Buffer.from(out);
  }

  private garble(bytes: Buffer): Buffer {
    return Buffer.from(bytes.map(() => this.rng.int(256)));
  }

  private deliverToChip(sent: Buffer, hostBaud: number, at: number): void {
    if (this._mode === 'off') return;
    // The last byte arrived at `at` (the pump may run later): the chip reacts from then.
    this.clock.reached(at);
    let bytes = this.wireFaults(sent);
    if (
      hostBaud > this.bridgeMaxBaud ||
      (this.chipBaudFixed !== undefined && ratesMismatch(hostBaud, this.chipBaudFixed))
    )
      bytes = this.garble(bytes);
    this.stats.toChip += bytes.length;
    if (this.countForDisconnect(bytes.length)) return;
    if (this.brownoutArmed !== undefined && this.stats.toChip >= this.brownoutArmed) {
      this.brownoutArmed = undefined;
      this.boot(this.io0Low(), 'brownout');
      return;
    }
    if (this._mode === 'download' || this._mode === 'stub') this.decoder.push(bytes);
  }

  private deliverToHost(sent: Buffer, chipBaud: number, at: number): void {
    const host = this.host;
    if (!host || this._mode === 'off') return;
    let bytes = this.wireFaults(sent);
    if (chipBaud > this.bridgeMaxBaud || (host.baud !== undefined && ratesMismatch(host.baud, chipBaud)))
      bytes = this.garble(bytes);
    this.stats.toHost += bytes.length;
    if (this.countForDisconnect(bytes.length)) return;
    if (bytes.length > 0) this.usbOut.push(bytes, at);
  }

  /** True when the disconnect fault just fired. */
  private countForDisconnect(n: number): boolean {
    if (this.disconnectArmed === undefined || n === 0) return false;
    if (this.stats.toChip + this.stats.toHost < this.disconnectArmed) return false;
    this.disconnectArmed = undefined;
    this.loseLink();
    return true;
  }

  /** The USB link drops: the host sees a disconnect, the board loses power. */
  loseLink(): void {
    this.atUart.loseHost(new Error('EIO: device disconnected'));
    const host = this.host;
    this.host = undefined;
    this.rx.clear();
    this.tx.clear();
    this.usbOut.clear();
    this.powerOff();
    host?.handlers.onLost(new Error('EIO: device disconnected'));
    this.emit('link-lost');
  }
}
