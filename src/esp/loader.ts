/**
 * The ESP serial bootloader client: reset + SYNC, chip detection, identity, stub upload, baud change and
 * every command a flasher needs (§2), against the ROM or Espressif's stub. One instance per board link.
 * Modelled on esptool's loader.py and espflash's connection/flasher split: the wire (frames, matching,
 * one conversation at a time) is connection.ts; the block-level write flow is in write-regions.ts.
 * Over 400 lines on purpose: every operation reads and changes the same per-board session state (ROM or stub,
 * flash attached, secure download, the chip detected), which one class keeps in one place.
 */
import type { Transport } from '../serial/transport.ts';
import type { ChipFacts, ChipName } from './chips/chip.ts';
import { chipByImageChipId, chipByMagic } from './chips/index.ts';
import {
  Op,
  beginPayload,
  changeBaudPayload,
  checksum,
  encodeRequest,
  eraseRegionPayload,
  flashEndPayload,
  md5Payload,
  memEndPayload,
  readFlashPayload,
  readFlashSlowPayload,
  readRegPayload,
  spiAttachPayload,
  spiSetParamsPayload,
  syncPayload,
  writeRegPayload,
  type RegWrite,
} from './commands.ts';
import { EspError, isEspError } from './errors.ts';
import { decodeResponse, statusError, type Response } from './response.ts';
import { slipEncode } from './slip.ts';
import { EspConnection, type CommandOptions } from './connection.ts';
import {
  defaultResetStrategies,
  hardResetStrategy,
  isUsbJtagSerial,
  runReset,
  type ResetStrategy,
} from './reset.ts';
import { sleep } from './sleep.ts';
import {
  CONNECT_ATTEMPTS,
  SYNC_TRIES_PER_RESET,
  TIMEOUTS,
  WRITE_BLOCK_ATTEMPTS,
  timeoutPerMb,
} from './timeouts.ts';
import { DEFAULT_STUB_RELEASE, loadStub, type StubRelease } from './stub.ts';
import { assembleMac } from './mac.ts';
import { flashSizeFromId } from './flash-size.ts';
import { esp32RomBaudToSend } from './baud-drift.ts';
import { crystalMhz } from './crystal.ts';
import { newestSecureBoot, secureBootFromFuses } from './chips/secure-boot.ts';
import { clearForceDownloadBoot, disableWatchdogs } from './watchdogs.ts';
import { romSpiAttachValue } from './spi-pads.ts';
import { DisconnectedError } from '../serial/link-errors.ts';

export const CHIP_DETECT_MAGIC_REG = 0x40001000;
export const ROM_FLASH_WRITE_SIZE = 0x400;
export const STUB_FLASH_WRITE_SIZE = 0x4000;
export const RAM_BLOCK_SIZE = 0x1800;
const OHAI = Buffer.from('OHAI', 'latin1');
/** A loader answers SYNC this many times (§2.2); esptool reads every one. */
const SYNC_REPLIES = 8;
/** esptool's reset strategies: a port that vanished mid-reset is closed, 0.5 s later opened again; 3 tries. */
const REOPEN_DELAY_MS = 500;
const RESET_TRIES = 3;

export interface ConnectOptions {
  signal?: AbortSignal;
  /** Reset sequences to cycle through; default per §7 (none for socket://, USB-JTAG for 303a:1001). */
  strategies?: readonly ResetStrategy[];
  /** Reset cycles (default 7, as esptool). */
  attempts?: number;
  /** Every text line the board prints outside SLIP frames (boot log), and loader progress notes. */
  onLog?: (line: string) => void;
  /** Shrinks reset waits; only for simulated chips with `fast` timing. Default 1. */
  resetTimeScale?: number;
  /** Skip detection and trust this chip (esptool --chip); detection still runs and must agree. */
  expectChip?: ChipName;
}

export interface SecurityInfo {
  flags: number;
  flashCryptCnt: number;
  keyPurposes: number[];
  chipId?: number;
  apiVersion?: number;
}

/** What the ROM tells about the chip from its registers and eFuses, before any code is uploaded. */
export interface ChipIdentity {
  chip: ChipName;
  displayName: string;
  /** major*100 + minor */
  revision: number;
  mac: string;
  secureBoot: boolean;
  /** Which secure boot is on: V1 (ESP32 only, ABS_DONE_0) or V2; absent when off. */
  secureBootVersion?: 1 | 2;
  flashEncryption: boolean;
  secureDownloadMode: boolean;
  crystalMhz?: number;
}

/** The SPI flash behind the chip, read once the loader may talk to it. */
export interface FlashIdentity {
  /** RDID: manufacturer | memory type << 8 | capacity << 16 */
  flashId: number;
  flashSizeBytes: number | undefined;
}

export class EspLoader {
  readonly transport: Transport;
  private chipFacts!: ChipFacts;
  private stub = false;
  private attached = false;
  private secureDownload = false;
  private securityInfo: SecurityInfo | undefined;
  private readonly conn: EspConnection;
  private readonly onLog?: (line: string) => void;

  private constructor(transport: Transport, onLog?: (line: string) => void) {
    this.transport = transport;
    this.onLog = onLog;
    this.conn = new EspConnection(transport, onLog);
  }

  /**
   * Resets the board into download mode and SYNCs, cycling reset strategies (§7), then detects the chip
   * (§8.1). Failure says why: 'wrong-boot-mode' when the boot log shows a non-download boot, 'no-sync'
   * when nothing usable came back.
   */
  static async connect(transport: Transport, opts: ConnectOptions = {}): Promise<EspLoader> {
    const loader = new EspLoader(transport, opts.onLog);
    try {
      await loader.connectAndSync(opts);
      await loader.detectChip(opts.signal);
      if (opts.expectChip && loader.chipFacts.name !== opts.expectChip) {
        throw new EspError(
          'protocol',
          `expected ${opts.expectChip} but the board is ${loader.chipFacts.displayName}`,
        );
      }
      // esptool `_post_connect`: not when a stub from before answered, nor in Secure Download Mode.
      if (isUsbJtagSerial(transport) && !loader.stub && !loader.secureDownload) {
        if (await disableWatchdogs(loader.chipFacts, loader, opts.signal)) {
          loader.onLog?.('[esp] USB-Serial/JTAG: RTC watchdog disabled, super watchdog set to feed itself');
        }
      }
      return loader;
    } catch (e) {
      loader.dispose();
      throw e;
    }
  }

  get chip(): ChipFacts {
    return this.chipFacts;
  }

  get isStub(): boolean {
    return this.stub;
  }

  get isSecureDownloadMode(): boolean {
    return this.secureDownload;
  }

  /** Flash data block size for FLASH_DATA / FLASH_DEFL_DATA (§5). */
  get flashWriteSize(): number {
    return this.stub ? STUB_FLASH_WRITE_SIZE : ROM_FLASH_WRITE_SIZE;
  }

  /** Lines printed outside SLIP frames since connecting (most recent last). */
  get recentText(): readonly string[] {
    return this.conn.recentText;
  }

  /** Stops listening to the transport (the caller owns and closes it). */
  dispose(): void {
    this.conn.dispose();
  }

  /** Drops frames and partial input received so far (esptool `flush_input`). */
  flushInput(): void {
    this.conn.flushInput();
  }

  /** Sends one command and waits for its reply (connection.ts). */
  command(
    op: number,
    payload: Uint8Array | readonly Uint8Array[],
    opts: CommandOptions = {},
  ): Promise<Response> {
    return this.conn.command(op, payload, opts);
  }

  // ---- connect ------------------------------------------------------------------------------------

  private async connectAndSync(opts: ConnectOptions): Promise<void> {
    const strategies = opts.strategies?.length ? opts.strategies : defaultResetStrategies(this.transport);
    const attempts = opts.attempts ?? CONNECT_ATTEMPTS;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const strategy = strategies[attempt % strategies.length];
      this.flushInput();
      await this.resetReopening(strategy, opts);
      for (let tryNo = 0; tryNo < SYNC_TRIES_PER_RESET; tryNo++) {
        try {
          await this.sync(opts.signal);
          this.onLog?.(`[esp] synced after reset ${strategy.name}`);
          return;
        } catch (e) {
          // As esptool (any FatalError in sync): a garbled frame may read as an "unsupported" reply.
          if (!isEspError(e, 'timeout') && !isEspError(e, 'protocol') && !isEspError(e, 'unsupported'))
            throw e;
          lastError = e;
          // esptool flushes before every SYNC try: nothing of a failed try is read as the next one's answer.
          this.conn.flushFrames();
          await sleep(50, opts.signal);
        }
      }
    }
    throw this.connectFailure(lastError);
  }

  /**
   * Runs a reset sequence. Native USB may re-enumerate in the middle of it (the chip left firmware that owned
   * the USB): then, as esptool's reset strategies do, the dead port is closed, opened again after 0.5 s and the
   * sequence run once more, up to 3 tries.
   */
  private async resetReopening(strategy: ResetStrategy, opts: ConnectOptions): Promise<void> {
    const scale = opts.resetTimeScale ?? 1;
    let reopen = false;
    for (let tryNo = 1; ; tryNo++) {
      try {
        if (reopen) await this.conn.reopen(REOPEN_DELAY_MS * scale, opts.signal);
        await runReset(this.transport, strategy, opts.signal, scale);
        return;
      } catch (e) {
        if (!(e instanceof DisconnectedError) || tryNo >= RESET_TRIES || !this.transport.reopen) throw e;
        this.onLog?.(
          `[esp] ${this.transport.path} vanished during the reset (USB re-enumeration); reopening`,
        );
        reopen = true;
      }
    }
  }

  private connectFailure(cause: unknown): EspError {
    const log = [...this.conn.recentText];
    const bootLine = log.find((l) => /boot:0x[0-9a-f]+/i.test(l));
    // The boot mode's own name says DOWNLOAD too, should the "waiting for download" line be lost on a bad line.
    const waiting =
      log.some((l) => /waiting for download/i.test(l)) ||
      log.some((l) => /boot:0x[0-9a-f]+\s*\(DOWNLOAD/i.test(l));
    if (bootLine && waiting) {
      return new EspError(
        'no-sync',
        'the board is in download mode but does not answer SYNC: the serial TX path (board RX) seems to be down',
        { bootLog: log, cause },
      );
    }
    if (bootLine) {
      const mode = /boot:(0x[0-9a-f]+)(\s*\([^)]*\)+)?/i.exec(bootLine);
      return new EspError(
        'wrong-boot-mode',
        `${mode ? mode[0].trim() : bootLine} — the board did not enter download mode; check BOOT/EN wiring (or hold BOOT while resetting)`,
        { bootLog: log, cause },
      );
    }
    const bytesSeen = this.conn.bytesReceived;
    if (bytesSeen > 0) {
      return new EspError(
        'no-sync',
        `no reply to SYNC; the board sent ${bytesSeen} unreadable bytes (wrong baud rate, or an application is running)`,
        { bootLog: log, cause },
      );
    }
    return new EspError(
      'no-sync',
      'no reply to SYNC and no data at all from the board: check the cable, the port, power and the BOOT/EN auto-reset circuit',
      { bootLog: log, cause },
    );
  }

  /**
   * One SYNC (§2.2), read as esptool does: the loader answers 8 times and all 8 are read, so none is left to
   * meet a later command; a stub already running answers with value 0 in every one.
   */
  async sync(signal?: AbortSignal): Promise<void> {
    this.stub = await this.conn.exclusive(async () => {
      const first = await this.conn.commandUnlocked(Op.SYNC, syncPayload(), {
        timeoutMs: TIMEOUTS.sync,
        signal,
      });
      let allZero = first.value === 0;
      let replies = 1;
      for (let frames = 0; replies < SYNC_REPLIES && frames < 100; frames++) {
        const resp = decodeResponse(await this.conn.readFrame(TIMEOUTS.sync, signal, 'SYNC reply'));
        if (resp?.op !== Op.SYNC) continue;
        allZero &&= resp.value === 0;
        replies++;
      }
      if (replies < SYNC_REPLIES) throw new EspError('protocol', 'SYNC: fewer than 8 replies');
      return allZero;
    });
  }

  private async detectChip(signal?: AbortSignal): Promise<void> {
    let chip = await this.chipWithoutSecurityInfo(signal);
    if (chip) {
      this.securityInfo = undefined;
      this.chipFacts = chip;
      this.onLog?.(`[esp] detected ${chip.displayName}${this.stub ? ' (stub already running)' : ''}`);
      return;
    }
    try {
      this.securityInfo = await this.getSecurityInfo(signal);
      this.secureDownload = (this.securityInfo.flags & (1 << 2)) !== 0;
      const byId =
        this.securityInfo.chipId === undefined ? undefined : chipByImageChipId(this.securityInfo.chipId);
      if (byId?.detectByChipId) chip = byId;
    } catch (e) {
      // ESP8266 and ESP32 ROMs do not know the command; anything but a dead link means "use the magic".
      if (isEspError(e, 'disconnected') || isEspError(e, 'aborted')) throw e;
      this.securityInfo = undefined;
    }
    if (!chip) {
      const magic = await this.readReg(CHIP_DETECT_MAGIC_REG, signal);
      chip = chipByMagic(magic);
      if (!chip) {
        throw new EspError(
          'unsupported',
          `unknown chip (magic 0x${magic.toString(16).padStart(8, '0')} at 0x40001000)`,
        );
      }
    }
    this.chipFacts = chip;
    this.onLog?.(`[esp] detected ${chip.displayName}${this.stub ? ' (stub already running)' : ''}`);
  }

  /**
   * The magic word first: when it names a chip whose ROM has no GET_SECURITY_INFO (ESP32, ESP8266), that is
   * the chip, and the command is never sent — its error reply costs a 200 ms wait for the ROM's repeats on
   * every board. Anything else (newer chips, or a READ_REG refused in Secure Download Mode) takes the
   * GET_SECURITY_INFO path as esptool does.
   */
  private async chipWithoutSecurityInfo(signal?: AbortSignal): Promise<ChipFacts | undefined> {
    try {
      const chip = chipByMagic(await this.readReg(CHIP_DETECT_MAGIC_REG, signal));
      return chip && chip.romSecurityInfoBytes === 0 ? chip : undefined;
    } catch (e) {
      if (isEspError(e, 'disconnected') || isEspError(e, 'aborted')) throw e;
      return undefined;
    }
  }

  // ---- register and info commands -------------------------------------------------------------

  async readReg(addr: number, signal?: AbortSignal): Promise<number> {
    const resp = await this.command(Op.READ_REG, readRegPayload(addr), { signal });
    return resp.value >>> 0;
  }

  async writeReg(
    addr: number,
    value: number,
    mask = 0xffffffff,
    delayUs = 0,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.command(Op.WRITE_REG, writeRegPayload([{ addr, value, mask, delayUs }]), { signal });
  }

  async writeRegs(entries: readonly RegWrite[], signal?: AbortSignal): Promise<void> {
    await this.command(Op.WRITE_REG, writeRegPayload(entries), { signal });
  }

  /** GET_SECURITY_INFO (§8.3): 20 bytes, or 12 on ESP32-S2 (no chip id). */
  async getSecurityInfo(signal?: AbortSignal): Promise<SecurityInfo> {
    // A chip that knows the command answers at once; do not wait the full default timeout on one that doesn't.
    const resp = await this.command(Op.GET_SECURITY_INFO, new Uint8Array(0), {
      skipStatus: true,
      timeoutMs: 1000,
      signal,
    });
    const d = resp.data;
    // esptool tries a 20-byte payload, then 12 (ESP32-S2); an error reply carries only status bytes.
    const len = d.length >= 22 ? 20 : d.length >= 14 ? 12 : 0;
    const err = statusError(resp, len);
    if (err) throw err;
    if (len === 0) {
      throw new EspError('protocol', `GET_SECURITY_INFO reply too short (${d.length} bytes)`);
    }
    return {
      flags: d.readUInt32LE(0),
      flashCryptCnt: d[4],
      keyPurposes: [...d.subarray(5, 12)],
      chipId: len === 20 ? d.readUInt32LE(12) : undefined,
      apiVersion: len === 20 ? d.readUInt32LE(16) : undefined,
    };
  }

  /**
   * Revision, MAC, security state and crystal, from registers the ROM reads without touching the SPI flash —
   * esptool's order: the flash is attached and identified only after the stub runs (`detectFlash`), so the ROM
   * is asked nothing a board in the field has not answered for esptool before the stub takes over.
   */
  async identify(signal?: AbortSignal): Promise<ChipIdentity> {
    const chip = this.chipFacts;
    if (this.secureDownload) {
      throw new EspError(
        'unsupported',
        'the chip is in Secure Download Mode: registers (MAC, revision, flash id) cannot be read',
      );
    }
    const read = (addr: number) => this.readReg(addr, signal);
    const revision = await chip.readRevision(read);
    const words: number[] = [];
    for (const addr of chip.macRegisters) words.push(await read(addr));
    const mac = assembleMac(chip.macLayout, words);
    let secureBootVersion: 1 | 2 | undefined;
    let flashEncryption = false;
    if (this.securityInfo) {
      // Flag bit 0 (SECURE_BOOT_EN) of a chip that has only one kind: S2 and later know only V2.
      if ((this.securityInfo.flags & 1) !== 0) secureBootVersion = newestSecureBoot(chip, revision);
      flashEncryption = popcount(this.securityInfo.flashCryptCnt) % 2 === 1;
    } else {
      if (chip.flashCryptCnt) {
        const f = chip.flashCryptCnt;
        flashEncryption = popcount(((await read(f.addr)) >>> f.shift) & f.mask) % 2 === 1;
      }
      secureBootVersion = await secureBootFromFuses(chip, revision, read);
    }
    // The divider is the ROM's; once the stub runs (or the rate changed) it says nothing about the crystal.
    const crystal = this.stub ? undefined : await crystalMhz(chip, this.transport.baudRate, read);
    return {
      chip: chip.name,
      displayName: chip.displayName,
      revision,
      mac,
      secureBoot: secureBootVersion !== undefined,
      ...(secureBootVersion !== undefined && { secureBootVersion }),
      flashEncryption,
      secureDownloadMode: this.secureDownload,
      ...(crystal !== undefined && { crystalMhz: crystal }),
    };
  }

  /** The flash's JEDEC id and the size it names (attaching the flash first on the ROM). */
  async detectFlash(signal?: AbortSignal): Promise<FlashIdentity> {
    const flashId = await this.flashId(signal);
    return { flashId, flashSizeBytes: flashSizeFromId(flashId) };
  }

  /** RDID (0x9F) through the SPI peripheral's user-command registers (§10.1). */
  async flashId(signal?: AbortSignal): Promise<number> {
    await this.attachFlash(signal);
    return (await this.runSpiflashCommand(0x9f, 24, signal)) & 0xffffff;
  }

  /** esptool `run_spiflash_command` for a command without address or data out; readBits 0 reads nothing. */
  async runSpiflashCommand(cmd: number, readBits: number, signal?: AbortSignal): Promise<number> {
    if (readBits < 0 || readBits > 32) throw new RangeError('readBits must be 0..32');
    const spi = this.chipFacts.spi;
    const reg = (off: number) => spi.base + off;
    const read = (addr: number) => this.readReg(addr, signal);
    const write = (addr: number, value: number) => this.writeReg(addr, value, 0xffffffff, 0, signal);
    const SPI_USR_COMMAND = 1 << 31;
    const SPI_USR_MISO = 1 << 28;
    const SPI_CMD_USR = 1 << 18;
    const oldUsr = await read(reg(spi.usr));
    const oldUsr2 = await read(reg(spi.usr2));
    try {
      if (spi.misoDlen !== undefined) {
        if (readBits > 0) await write(reg(spi.misoDlen), readBits - 1);
      } else {
        // ESP8266: bit lengths live in USR1 (MISO at bit 8, MOSI at bit 17).
        await write(reg(spi.usr1), Math.max(0, readBits - 1) << 8);
      }
      await write(reg(spi.usr), (SPI_USR_COMMAND | (readBits > 0 ? SPI_USR_MISO : 0)) >>> 0);
      await write(reg(spi.usr2), ((7 << 28) | cmd) >>> 0);
      await write(reg(spi.w0), 0);
      await write(reg(0), SPI_CMD_USR);
      let done = false;
      for (let i = 0; i < 10 && !done; i++) {
        done = ((await read(reg(0))) & SPI_CMD_USR) === 0;
      }
      if (!done) throw new EspError('protocol', 'SPI command did not complete in time');
      return await read(reg(spi.w0));
    } finally {
      if (!this.conn.isClosed && !signal?.aborted) {
        await write(reg(spi.usr), oldUsr);
        await write(reg(spi.usr2), oldUsr2);
      }
    }
  }

  /**
   * esptool `attach_flash`: the ROM needs SPI_ATTACH before flash commands (ESP8266: FLASH_BEGIN(0,0), §2.2),
   * on ESP32 with the pins eFuse names; then the flash chip is reset (0x66, 0x99) out of whatever state the
   * firmware left it in. The stub attaches by itself.
   */
  async attachFlash(signal?: AbortSignal): Promise<void> {
    if (this.attached) return;
    if (!this.stub) {
      if (!this.chipFacts.romHasEsp32Commands) {
        await this.flashBegin(0, 0, ROM_FLASH_WRITE_SIZE, 0, signal);
      } else {
        const pins = this.secureDownload
          ? 0
          : await romSpiAttachValue(this.chipFacts, (a) => this.readReg(a, signal));
        if (pins !== 0) this.onLog?.(`[esp] attaching flash on the eFuse SPI pins (0x${pins.toString(16)})`);
        await this.command(Op.SPI_ATTACH, spiAttachPayload(pins, true), { signal });
      }
    }
    if (!this.secureDownload) {
      await this.runSpiflashCommand(0x66, 0, signal); // reset enable
      await this.runSpiflashCommand(0x99, 0, signal); // reset
    }
    this.attached = true;
  }

  async spiSetParams(totalSize: number, signal?: AbortSignal): Promise<void> {
    if (!this.stub && !this.chipFacts.romHasEsp32Commands) return; // ESP8266 ROM: unsupported, skipped
    await this.command(Op.SPI_SET_PARAMS, spiSetParamsPayload(totalSize), { signal });
  }

  // ---- RAM and stub ------------------------------------------------------------------------------

  async memBegin(size: number, blocks: number, blockSize: number, addr: number, signal?: AbortSignal) {
    await this.command(Op.MEM_BEGIN, beginPayload(size, blocks, blockSize, addr), { signal });
  }

  async memData(data: Uint8Array, seq: number, signal?: AbortSignal): Promise<void> {
    await this.command(Op.MEM_DATA, [this.conn.dataBlockHeader(data.length, seq), data], {
      check: checksum(data),
      signal,
    });
  }

  /**
   * Uploads and starts Espressif's flasher stub (§6.1; default release in stub.ts) and waits for its OHAI.
   * Call it at the ROM's own baud, as esptool does, and change baud afterwards through the stub: a release
   * ≥ v1.1.0 re-programs UART0 on ESP32/S2 for the ROM's baud on record, not one a ROM CHANGE_BAUDRATE set.
   */
  async runStub(signal?: AbortSignal, opts: { release?: StubRelease } = {}): Promise<void> {
    if (this.stub) return;
    if (this.secureDownload) {
      throw new EspError('unsupported', 'no stub in Secure Download Mode');
    }
    const image = await loadStub(this.chipFacts, opts.release ?? DEFAULT_STUB_RELEASE);
    for (const seg of [image.text, image.data]) {
      if (!seg) continue;
      const blocks = Math.ceil(seg.data.length / RAM_BLOCK_SIZE);
      // A block damaged on the wire is refused for its checksum, and the ROM counts it anyway: the same seq
      // again is refused (0x05). So the segment goes again from its MEM_BEGIN, which starts the count anew.
      for (let attempt = 1; ; attempt++) {
        try {
          await this.memBegin(seg.data.length, blocks, RAM_BLOCK_SIZE, seg.addr, signal);
          for (let seq = 0; seq < blocks; seq++) {
            const block = seg.data.subarray(seq * RAM_BLOCK_SIZE, (seq + 1) * RAM_BLOCK_SIZE);
            await this.memData(block, seq, signal);
          }
          break;
        } catch (e) {
          if (!isEspError(e, 'checksum') || attempt >= WRITE_BLOCK_ATTEMPTS) throw e;
          this.onLog?.(`[esp] stub upload: a block was damaged on the wire; uploading the segment again`);
        }
      }
    }
    await this.conn.exclusive(() => this.memEndAndOhai(image.entry, signal));
    this.stub = true;
    this.onLog?.(`[esp] stub running (esp-flasher-stub ${image.release})`);
  }

  /**
   * MEM_END's reply may be lost when the stub takes over the UART, so read frames ourselves:
   * a MEM_END error fails, anything else but OHAI is skipped.
   */
  private async memEndAndOhai(entry: number, signal?: AbortSignal): Promise<void> {
    this.conn.flushInputKeepLog();
    await this.conn.writeRaw(slipEncode(encodeRequest(Op.MEM_END, memEndPayload(entry))), signal);
    const deadline = Date.now() + TIMEOUTS.memEndRom + TIMEOUTS.ohai;
    for (;;) {
      let frame: Buffer;
      try {
        frame = await this.conn.readFrame(Math.max(1, deadline - Date.now()), signal, 'OHAI from the stub');
      } catch (e) {
        if (isEspError(e, 'timeout')) {
          throw new EspError('timeout', 'the flasher stub did not start (no OHAI)', { cause: e });
        }
        throw e;
      }
      if (frame.equals(OHAI)) break;
      const resp = decodeResponse(frame);
      if (resp?.op === Op.MEM_END) {
        const err = statusError(resp, 0);
        if (err) throw err;
      }
    }
  }

  /**
   * CHANGE_BAUDRATE (§2.2); returns the baud now in use. Not possible on the ESP8266 ROM, and skipped on
   * links without a host-side baud (socket://) — changing only the chip's side would cut the link.
   */
  async changeBaud(
    baud: number,
    signal?: AbortSignal,
    opts: { rawTcp?: 'keep' | 'change' } = {},
  ): Promise<number> {
    const current = this.transport.baudRate;
    if (baud === current) return current;
    // 'change': the far end follows the chip's rate (a simulator, or a bridge that autobauds).
    if (!this.transport.supportsControlLines && opts.rawTcp !== 'change') {
      this.onLog?.(`[esp] ${this.transport.path}: keeping the link's baud rate (raw TCP)`);
      return current;
    }
    if (!this.stub && !this.chipFacts.romHasEsp32Commands) {
      this.onLog?.('[esp] ESP8266 ROM cannot change baud rate; staying at ' + current);
      return current;
    }
    let sent = baud;
    if (!this.stub && this.chipFacts.name === 'esp32') {
      sent = await esp32RomBaudToSend(baud, (a) => this.readReg(a, signal));
    }
    await this.command(Op.CHANGE_BAUDRATE, changeBaudPayload(sent, this.stub ? current : 0), {
      signal,
    });
    await this.transport.setBaudRate(baud);
    await sleep(50, signal);
    this.flushInput();
    this.onLog?.(`[esp] baud rate ${baud}${sent !== baud ? ` (sent ${sent} to the ROM)` : ''}`);
    return baud;
  }

  // ---- flash commands ---------------------------------------------------------------------------

  /** Whether BEGIN commands carry the 5th `encrypted` word: stubs and S2+ ROMs (§2.1). */
  private get beginHasEncryptedWord(): boolean {
    return this.stub || this.chipFacts.romFlashBeginHasEncryptedWord;
  }

  /** FLASH_BEGIN. The ROM erases here, so the timeout scales with the size (§4). */
  async flashBegin(
    eraseSize: number,
    numBlocks: number,
    blockSize: number,
    offset: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const timeoutMs = this.stub ? TIMEOUTS.default : timeoutPerMb(TIMEOUTS.eraseRegionPerMb, eraseSize);
    const enc = this.beginHasEncryptedWord ? false : undefined;
    await this.command(Op.FLASH_BEGIN, beginPayload(eraseSize, numBlocks, blockSize, offset, enc), {
      timeoutMs,
      signal,
    });
  }

  async flashData(data: Uint8Array, seq: number, timeoutMs: number, signal?: AbortSignal) {
    await this.dataBlock(Op.FLASH_DATA, data, seq, timeoutMs, signal);
  }

  /**
   * One data block. Its BEGIN was accepted, so "invalid message" (0x05) here is the ROM refusing this block,
   * not a command it lacks: a ROM error that ends the region, never a reason to try another way of writing.
   */
  private async dataBlock(
    op: number,
    data: Uint8Array,
    seq: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ) {
    try {
      await this.command(op, [this.conn.dataBlockHeader(data.length, seq), data], {
        check: checksum(data),
        timeoutMs,
        signal,
      });
    } catch (e) {
      if (isEspError(e, 'unsupported') && e.op === op) {
        throw new EspError('rom-error', `block ${seq}: ${e.message}`, { op, code: e.code, cause: e });
      }
      throw e;
    }
  }

  async flashEnd(reboot: boolean, timeoutMs: number = TIMEOUTS.default, signal?: AbortSignal) {
    await this.command(Op.FLASH_END, flashEndPayload(reboot), { timeoutMs, signal });
  }

  /** FLASH_DEFL_BEGIN; `size` = exact uncompressed bytes (stub) or rounded to the block size (ROM) (§5.2). */
  async flashDeflBegin(
    size: number,
    numBlocks: number,
    blockSize: number,
    offset: number,
    signal?: AbortSignal,
  ): Promise<void> {
    this.requireEsp32Commands('compressed writes');
    const timeoutMs = this.stub ? TIMEOUTS.default : timeoutPerMb(TIMEOUTS.eraseRegionPerMb, size);
    const enc = this.beginHasEncryptedWord ? false : undefined;
    await this.command(Op.FLASH_DEFL_BEGIN, beginPayload(size, numBlocks, blockSize, offset, enc), {
      timeoutMs,
      signal,
    });
  }

  async flashDeflData(data: Uint8Array, seq: number, timeoutMs: number, signal?: AbortSignal) {
    await this.dataBlock(Op.FLASH_DEFL_DATA, data, seq, timeoutMs, signal);
  }

  async flashDeflEnd(reboot: boolean, timeoutMs: number = TIMEOUTS.default, signal?: AbortSignal) {
    await this.command(Op.FLASH_DEFL_END, flashEndPayload(reboot), { timeoutMs, signal });
  }

  /** SPI_FLASH_MD5 → lowercase hex. ROM answers 32 ASCII hex chars, the stub 16 raw bytes (§2.1). */
  async flashMd5(addr: number, size: number, signal?: AbortSignal): Promise<string> {
    this.requireEsp32Commands('MD5 verification');
    const payloadLen = this.stub ? 16 : 32;
    const resp = await this.command(Op.SPI_FLASH_MD5, md5Payload(addr, size), {
      timeoutMs: timeoutPerMb(TIMEOUTS.md5PerMb, size),
      payloadLen,
      signal,
    });
    if (resp.data.length < payloadLen) {
      throw new EspError('protocol', `SPI_FLASH_MD5 reply too short (${resp.data.length} bytes)`);
    }
    const body = resp.data.subarray(0, payloadLen);
    return this.stub ? body.toString('hex') : body.toString('latin1').toLowerCase();
  }

  /** ERASE_FLASH (stub only). */
  async eraseFlash(signal?: AbortSignal): Promise<void> {
    this.requireStub('chip erase');
    await this.command(Op.ERASE_FLASH, new Uint8Array(0), { timeoutMs: TIMEOUTS.chipErase, signal });
  }

  /** ERASE_REGION (stub only); offset and size must be multiples of 4096. */
  async eraseRegion(offset: number, size: number, signal?: AbortSignal): Promise<void> {
    this.requireStub('region erase');
    if (offset % 0x1000 || size % 0x1000) {
      throw new RangeError('erase offset and size must be multiples of 4096');
    }
    await this.command(Op.ERASE_REGION, eraseRegionPayload(offset, size), {
      timeoutMs: timeoutPerMb(TIMEOUTS.eraseRegionPerMb, size),
      signal,
    });
  }

  /** Reads flash: READ_FLASH streaming with acks on the stub (§2.3), READ_FLASH_SLOW on the ROM (§2.4). */
  async readFlash(
    offset: number,
    length: number,
    opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<Buffer> {
    return this.stub ? this.readFlashStub(offset, length, opts) : this.readFlashSlow(offset, length, opts);
  }

  private readFlashStub(
    offset: number,
    length: number,
    opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
  ): Promise<Buffer> {
    return this.conn.exclusive(() => this.readFlashStubUnlocked(offset, length, opts));
  }

  private async readFlashStubUnlocked(
    offset: number,
    length: number,
    opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
  ): Promise<Buffer> {
    const packet = 0x1000;
    await this.conn.commandUnlocked(Op.READ_FLASH, readFlashPayload(offset, length, packet, 64), {
      signal: opts.signal,
    });
    const out = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const frame = await this.conn.readFrame(TIMEOUTS.readFlashFrame, opts.signal, 'READ_FLASH data');
      if (frame.length < Math.min(packet, length - got)) {
        throw new EspError('protocol', `READ_FLASH: short data frame (${frame.length} bytes)`);
      }
      frame.copy(out, got, 0, Math.min(frame.length, length - got));
      got += Math.min(frame.length, length - got);
      const ack = Buffer.alloc(4);
      ack.writeUInt32LE(got, 0);
      await this.conn.writeRaw(slipEncode(ack), opts.signal);
      opts.onProgress?.(got, length);
    }
    const digest = await this.conn.readFrame(TIMEOUTS.readFlashFrame, opts.signal, 'READ_FLASH MD5');
    const { createHash } = await import('node:crypto');
    if (digest.length !== 16 || !digest.equals(createHash('md5').update(out).digest())) {
      throw new EspError('verify-mismatch', 'READ_FLASH: data does not match the MD5 the stub sent');
    }
    return out;
  }

  private async readFlashSlow(
    offset: number,
    length: number,
    opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
  ): Promise<Buffer> {
    this.requireEsp32Commands('reading flash');
    const out = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const n = Math.min(64, length - got);
      const resp = await this.command(Op.READ_FLASH_SLOW, readFlashSlowPayload(offset + got, n), {
        payloadLen: 64,
        signal: opts.signal,
      });
      if (resp.data.length < 64) throw new EspError('protocol', 'READ_FLASH_SLOW reply too short');
      resp.data.copy(out, got, 0, n);
      got += n;
      opts.onProgress?.(got, length);
    }
    return out;
  }

  /** Pulses EN with the boot strap released so the board runs its firmware (§7 HardReset). */
  async hardReset(signal?: AbortSignal, timeScale = 1): Promise<void> {
    if (!this.transport.supportsControlLines) {
      this.onLog?.('[esp] no control lines on this link; board not reset');
      return;
    }
    await clearForceDownloadBoot(this.chipFacts, this, signal);
    await runReset(this.transport, hardResetStrategy(isUsbJtagSerial(this.transport)), signal, timeScale);
    this.stub = false;
    this.attached = false;
  }

  private requireStub(what: string): void {
    if (!this.stub) throw new EspError('unsupported', `${what} needs the flasher stub`);
  }

  private requireEsp32Commands(what: string): void {
    if (!this.stub && !this.chipFacts.romHasEsp32Commands) {
      throw new EspError('unsupported', `the ${this.chipFacts.displayName} ROM does not support ${what}`);
    }
  }
}

function popcount(n: number): number {
  let c = 0;
  for (let v = n >>> 0; v; v >>>= 1) c += v & 1;
  return c;
}
