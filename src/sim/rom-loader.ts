import { createHash } from 'node:crypto';
import { BlockInflater } from './inflater.ts';
import { securityInfo, type Loader, type LoaderContext } from './loader-context.ts';
import { buildResponse, dataChecksum, OP, parseRequest, ROM_ERR, SYNC_PAYLOAD, words } from './protocol.ts';
import { KNOWN_STUB_RELEASES, recogniseStub } from './stub-releases.ts';

/**
 * How the ROM takes data blocks after a MEM_BEGIN, FLASH_BEGIN or FLASH_DEFL_BEGIN, measured on the real ESP32 and
 * ESP32-C3 ROMs under QEMU: it takes only the seq it expects next (any other is 0x05 and changes nothing); a
 * block refused for its checksum stores nothing yet still counts, so the same seq again is 0x05 and the next
 * block lands where the refused one belonged. Only a new BEGIN starts again from seq 0.
 */
interface BlockCount {
  /** The seq the ROM takes next. */
  nextSeq: number;
  /** Blocks stored: where the next one goes. */
  stored: number;
}

interface MemSegment extends BlockCount {
  addr: number;
  size: number;
  blockSize: number;
  blocks: number;
  /** What landed in RAM: the stub is recognised by it, not by what the host claims. */
  bytes: Buffer;
}

interface FlashWrite extends BlockCount {
  compressed: boolean;
  offset: number;
  blockSize: number;
  numBlocks: number;
  inflater?: BlockInflater;
  /** Uncompressed bytes written so far (compressed writes are sequential). */
  written: number;
}

/** The chip is stuck until it is reset. */
function untilReset(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    else signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}

/** Opcodes the ESP8266 ROM knows (§2: only 0x02-0x0A). */
const ESP8266_OPS = new Set([0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a]);
/** ESP32-family ROM opcodes; GET_SECURITY_INFO only where the chip has it. */
const ESP32_OPS = new Set([
  0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13,
]);

/** Secure Download Mode (S2 and later) accepts only these (§2.2); READ_REG, MEM_*, MD5 and DEFL are refused. */
const SECURE_DOWNLOAD_OPS = new Set([0x08, 0x0d, 0x0b, 0x0f, 0x02, 0x03, 0x04, 0x14]);

/**
 * The ROM serial bootloader (§2, §14): 4 status bytes (2 on ESP8266), erase inside FLASH_BEGIN, write before
 * the reply, MD5 as 32 hex characters, "invalid message" ×8 for anything it does not know.
 */
/**
 * The flash size the ROM's SPI flash driver assumes until SPI_SET_PARAMS (its `chip_size`). Measured on the real
 * ESP32 and ESP32-C3 ROMs under QEMU: a FLASH_BEGIN or FLASH_DEFL_BEGIN ending past 2 MB is refused with 0x06,
 * an MD5 or READ_FLASH_SLOW past it with 0x09; SPI_SET_PARAMS moves the limit either way.
 */
const ROM_DEFAULT_FLASH_SIZE = 2 * 1024 * 1024;

export class RomLoader implements Loader {
  readonly kind = 'rom';
  private flashSize = ROM_DEFAULT_FLASH_SIZE;
  /** The value field of most ROM replies is whatever the last command left there (§1.3). */
  private lastValue = 0;
  private attached: boolean;
  private mem: MemSegment[] = [];
  private write: FlashWrite | undefined;

  constructor(private readonly ctx: LoaderContext) {
    // ESP8266 ROM FLASH_BEGIN attaches the flash itself; ESP32-family ROMs need SPI_ATTACH first (§2.2).
    this.attached = !ctx.chip.romHasEsp32Commands;
  }

  dispose(): void {
    this.write?.inflater?.close();
  }

  /** The error byte of the last refusal: the ESP32-family ROMs leave it in later successful replies. */
  private lastError = 0;

  private status(err: number): number[] {
    const ok = err === 0;
    if (this.ctx.chip.romStatusBytes === 2) return [ok ? 0 : 1, err];
    // Measured on the ESP32 and ESP32-C3 ROMs under QEMU: a success after a refusal reads `00 07 00 00`; only
    // the first byte says whether the command worked.
    if (!ok) this.lastError = err;
    return [ok ? 0 : 1, ok ? this.lastError : err, 0, 0];
  }

  private reply(op: number, err = 0, data: Uint8Array = Buffer.alloc(0), value = this.lastValue): void {
    this.ctx.sendFrame(buildResponse(op, value, Buffer.concat([data, Buffer.from(this.status(err))])));
  }

  /** What the ROM sends for an opcode it does not know: "invalid message", 8 times, with another opcode. */
  private unsupported(): void {
    for (let i = 0; i < 8; i++) {
      this.ctx.sendFrame(
        buildResponse(0x00, this.lastValue, Buffer.from(this.status(ROM_ERR.INVALID_MESSAGE))),
      );
    }
  }

  private supports(op: number): boolean {
    const { chip } = this.ctx;
    if (this.ctx.security.secureDownloadMode) return SECURE_DOWNLOAD_OPS.has(op);
    if (!chip.romHasEsp32Commands) return ESP8266_OPS.has(op);
    if (op === OP.GET_SECURITY_INFO) return chip.romSecurityInfoBytes > 0;
    return ESP32_OPS.has(op);
  }

  async handle(frame: Buffer): Promise<void> {
    const req = parseRequest(frame);
    if (!req) return;
    const { op, data } = req;
    if (!this.supports(op)) return this.unsupported();
    const { ctx } = this;
    switch (op) {
      case OP.SYNC:
        if (!data.equals(SYNC_PAYLOAD)) return;
        // The ROM measured the host's rate on the first SYNC's 0x55 bytes and keeps it until CHANGE_BAUDRATE.
        ctx.lockAutobaud();
        this.lastValue = 0x20120707;
        for (let i = 0; i < 8; i++) this.reply(op);
        return;
      case OP.READ_REG: {
        if (data.length !== 4) return this.reply(op, ROM_ERR.INVALID_MESSAGE);
        const addr = data.readUInt32LE(0);
        this.lastValue = this.readRam(addr) ?? ctx.regs.read(addr);
        return this.reply(op);
      }
      case OP.WRITE_REG: {
        if (data.length === 0 || data.length % 16 !== 0) return this.reply(op, ROM_ERR.INVALID_MESSAGE);
        for (let i = 0; i < data.length; i += 16) {
          const [addr, value, mask, delayUs] = words(data.subarray(i), 4);
          if (delayUs > 0 && ctx.timing.realistic) await ctx.delay(delayUs / 1000);
          ctx.regs.write(addr, value, mask);
        }
        return this.reply(op);
      }
      case OP.MEM_BEGIN: {
        if (data.length !== 16) return this.reply(op, ROM_ERR.INVALID_MESSAGE);
        const [size, blocks, blockSize, addr] = words(data, 4);
        if (size > 0x80000 || blockSize === 0 || blocks * blockSize < size)
          return this.reply(op, ROM_ERR.BAD_RAM_SIZE);
        if (addr < 0x3f000000 || addr >= 0x60000000) return this.reply(op, ROM_ERR.BAD_RAM_ADDR);
        this.mem.push({ addr, size, blockSize, blocks, nextSeq: 0, stored: 0, bytes: Buffer.alloc(size) });
        return this.reply(op);
      }
      case OP.MEM_DATA: {
        const seg = this.mem.at(-1);
        if (!seg || data.length < 16) return this.reply(op, ROM_ERR.INVALID_MESSAGE);
        const [len, seq] = words(data, 2);
        const payload = data.subarray(16);
        if (len !== payload.length || len > seg.blockSize) return this.reply(op, ROM_ERR.INVALID_MESSAGE);
        const refused = this.countBlock(seg, seq, payload, req.checksum);
        if (refused !== undefined) return this.reply(op, refused);
        // (The real ROM stores blocks past the declared size too; refusing them is stricter, never looser.)
        const at = seg.stored * seg.blockSize;
        if (at + len > seg.size) return this.reply(op, ROM_ERR.BAD_RAM_SIZE);
        payload.copy(seg.bytes, at);
        seg.stored++;
        return this.reply(op);
      }
      case OP.MEM_END: {
        if (data.length !== 8) return this.reply(op, ROM_ERR.INVALID_MESSAGE);
        const [noEntry, entry] = words(data, 2);
        this.reply(op);
        if (noEntry !== 0) return;
        const code = [...this.mem]
          .reverse()
          .find((s) => s.stored === s.blocks && entry >= s.addr && entry < s.addr + s.size);
        // A jump outside the uploaded code crashes the CPU; the watchdog brings the chip back up.
        if (!code) return ctx.softReset('flash');
        const textMd5 = createHash('md5').update(code.bytes).digest('hex');
        const stub = recogniseStub(ctx.chip.name, entry, textMd5);
        if (stub) return ctx.startStub(stub);
        return ctx.halt(
          `the code uploaded to 0x${code.addr.toString(16)} (entry 0x${(entry >>> 0).toString(16)}, text MD5 ` +
            `${textMd5}) is not a known esp-flasher-stub release for ${ctx.chip.name} ` +
            `(known: ${KNOWN_STUB_RELEASES.join(', ')}): the simulated chip cannot run it, no OHAI`,
        );
      }
      case OP.SPI_ATTACH:
        // The ROM takes 8 bytes: hspi_arg and the is_legacy byte + 3 padding bytes (§2.1).
        if (data.length !== 8) return this.reply(op, ROM_ERR.INVALID_MESSAGE);
        // 0 = the default SPI pins (not the eFuse pad configuration), 1 = HSPI, else five packed GPIOs.
        ctx.attachSpi(data.readUInt32LE(0));
        this.attached = true;
        return this.reply(op);
      case OP.SPI_SET_PARAMS:
        if (data.length !== 24) return this.reply(op, ROM_ERR.INVALID_MESSAGE);
        // fl_id, total_size, block, sector, page, status_mask (§10.3): the ROM takes the size as given.
        this.flashSize = data.readUInt32LE(4);
        return this.reply(op);
      case OP.CHANGE_BAUDRATE: {
        if (data.length !== 8) return this.reply(op, ROM_ERR.INVALID_MESSAGE);
        const [baud] = words(data, 1);
        if (baud < 300 || baud > 5_000_000) return this.reply(op, ROM_ERR.INVALID_PARAM);
        this.reply(op);
        ctx.setChipBaud(this.actualBaud(baud));
        return;
      }
      case OP.READ_FLASH_SLOW: {
        if (data.length !== 8) return this.reply(op, ROM_ERR.INVALID_MESSAGE);
        const [offset, length] = words(data, 2);
        if (length > 64) return this.reply(op, ROM_ERR.FLASH_READ_LENGTH);
        // The ROM reads 64 bytes whatever the length; its reply carries them even when the read failed.
        if (!this.attached || offset + 64 > this.readableEnd) {
          return this.reply(op, ROM_ERR.FLASH_READ, Buffer.alloc(64));
        }
        return this.reply(op, 0, this.readFlash(offset, 64));
      }
      case OP.FLASH_BEGIN:
      case OP.FLASH_DEFL_BEGIN:
        return this.flashBegin(op, data);
      case OP.FLASH_DATA:
      case OP.FLASH_DEFL_DATA:
        return this.flashData(op, data, req.checksum);
      case OP.FLASH_END:
      case OP.FLASH_DEFL_END: {
        if (data.length !== 4) return this.reply(op, ROM_ERR.INVALID_MESSAGE);
        this.write?.inflater?.close();
        this.write = undefined;
        this.reply(op);
        // Leaving the loader: 0 reboots (the latched boot mode is download again), 1 runs the app in flash.
        ctx.softReset(data.readUInt32LE(0) === 0 ? 'download' : 'flash');
        return;
      }
      case OP.SPI_FLASH_MD5: {
        if (data.length !== 16) return this.reply(op, ROM_ERR.INVALID_MESSAGE);
        const [addr, size] = words(data, 2);
        if (!this.attached || addr + size > this.readableEnd) {
          return this.reply(op, ROM_ERR.FLASH_READ, Buffer.alloc(32));
        }
        await ctx.delay((size / 0x100000) * ctx.timing.md5MsPerMiB);
        const hex = (
          ctx.flashReachable()
            ? ctx.flash.flash.md5(addr, size)
            : createHash('md5').update(Buffer.alloc(size, 0xff)).digest()
        ).toString('hex');
        return this.reply(op, 0, Buffer.from(hex, 'latin1'));
      }
      case OP.GET_SECURITY_INFO:
        return this.reply(op, 0, securityInfo(ctx, ctx.chip.romSecurityInfoBytes === 12 ? 12 : 20));
      default:
        return this.unsupported();
    }
  }

  /**
   * ESP32 ROM: the UART divider comes from the ROM's calibrated idea of the crystal, which is slightly off;
   * esptool pre-scales the requested baud to compensate (§2.2). Other ROMs run exactly at the requested rate.
   */
  private actualBaud(requested: number): number {
    const cal = this.ctx.extras.romClockCal;
    if (!cal) return requested;
    const romHz = (cal.caliValue * 15625 * cal.ck8mFreq) / 40;
    return Math.round((requested * this.ctx.crystalMhz * 1e6) / romHz);
  }

  /** Reads past the size the ROM assumes fail; so do reads past the simulated chip's end. */
  private get readableEnd(): number {
    const physical = this.ctx.flash.flash.size;
    return this.ctx.chip.romHasEsp32Commands ? Math.min(this.flashSize, physical) : physical;
  }

  /** With the flash on other pins, MISO floats high: every byte reads 0xFF. */
  private readFlash(offset: number, length: number): Buffer {
    return this.ctx.flashReachable() ? this.ctx.flash.flash.read(offset, length) : Buffer.alloc(length, 0xff);
  }

  private romEraseLength(offset: number, size: number): number {
    if (!this.ctx.extras.romEraseCountsHeadTwice || size === 0) return size;
    const r = Math.ceil(size / 0x1000);
    const head = 16 - (Math.floor(offset / 0x1000) % 16);
    const sectors = r + Math.min(head, r);
    return Math.min(sectors * 0x1000, this.ctx.flash.flash.size - offset);
  }

  private async flashBegin(op: number, data: Buffer): Promise<void> {
    const { ctx } = this;
    const want = ctx.chip.romFlashBeginHasEncryptedWord ? 20 : 16;
    // ESP32 and ESP8266 ROMs take 16 bytes, S2 and later 20 (the `encrypted` word) (§2.1).
    if (data.length !== want) return this.reply(op, ROM_ERR.INVALID_MESSAGE);
    if (!this.attached) return this.reply(op, ROM_ERR.FAILED);
    if (!ctx.chip.romHasEsp32Commands) this.attached = true;
    const [eraseSize, numBlocks, blockSize, offset] = words(data, 4);
    if (ctx.chip.romHasEsp32Commands && offset + eraseSize > this.flashSize) {
      return this.reply(op, ROM_ERR.FAILED);
    }
    if (offset + eraseSize > ctx.flash.flash.size || blockSize === 0 || blockSize > 0x10000) {
      return this.reply(op, ROM_ERR.INVALID_PARAM);
    }
    this.write?.inflater?.close();
    // A flash on other pins never reports its erase done (its status reads 0xFF, busy): the ROM polls forever.
    if (!ctx.flashReachable()) await untilReset(ctx.signal);
    // The ROM erases the whole region inside FLASH_BEGIN, before it answers.
    await ctx.flash.erase(offset, this.romEraseLength(offset, eraseSize), ctx.delay);
    const compressed = op === OP.FLASH_DEFL_BEGIN;
    this.write = {
      compressed,
      offset,
      blockSize,
      numBlocks,
      written: 0,
      nextSeq: 0,
      stored: 0,
      inflater: compressed ? new BlockInflater() : undefined,
    };
    this.reply(op);
  }

  /** A word of RAM the host uploaded with MEM_DATA (READ_REG reads any address), if the address is in one. */
  private readRam(addr: number): number | undefined {
    const seg = [...this.mem].reverse().find((m) => addr >= m.addr && addr + 4 <= m.addr + m.size);
    return seg?.bytes.readUInt32LE(addr - seg.addr);
  }

  /** The ROM's seq rule (see BlockCount); an error status when it refuses the block, undefined to store it. */
  private countBlock(count: BlockCount, seq: number, payload: Buffer, checksum: number): number | undefined {
    if (seq !== count.nextSeq) return ROM_ERR.INVALID_MESSAGE;
    count.nextSeq++;
    const garbled = this.ctx.garbledDataBlock();
    if (garbled || dataChecksum(payload) !== (checksum & 0xff)) return ROM_ERR.CHECKSUM;
    return undefined;
  }

  private async flashData(op: number, data: Buffer, checksum: number): Promise<void> {
    const { ctx } = this;
    const w = this.write;
    if (data.length < 16) return this.reply(op, ROM_ERR.INVALID_MESSAGE);
    const [len, seq] = words(data, 2);
    const payload = data.subarray(16);
    if (len !== payload.length) return this.reply(op, ROM_ERR.INVALID_MESSAGE);
    if (!w || w.compressed !== (op === OP.FLASH_DEFL_DATA)) return this.reply(op, ROM_ERR.INVALID_MESSAGE);
    const refused = this.countBlock(w, seq, payload, checksum);
    if (refused !== undefined) return this.reply(op, refused);
    if (seq >= w.numBlocks) return this.reply(op, ROM_ERR.INVALID_PARAM);
    w.stored++;
    // The rom-error fault: the block takes its place and stays unwritten.
    if (ctx.romErrorOnDataBlock()) return this.reply(op, ROM_ERR.INVALID_MESSAGE);
    let ok: boolean;
    if (!w.compressed) {
      const addr = w.offset + (w.stored - 1) * w.blockSize;
      const n = Math.min(payload.length, ctx.flash.flash.size - addr);
      ok = await ctx.flash.program(addr, payload.subarray(0, Math.max(0, n)), ctx.delay);
    } else {
      let out: Buffer;
      try {
        out = await w.inflater!.push(payload);
      } catch {
        return this.reply(op, ROM_ERR.DEFLATE);
      }
      await ctx.delay((out.length / 0x100000) * ctx.timing.inflateMsPerMiB);
      const addr = w.offset + w.written;
      const n = Math.max(0, Math.min(out.length, ctx.flash.flash.size - addr));
      ok = await ctx.flash.program(addr, out.subarray(0, n), ctx.delay);
      w.written += out.length;
    }
    // The ROM reads the block back and compares (§3.1 0x08).
    this.reply(op, ok ? 0 : ROM_ERR.FLASH_WRITE);
  }
}
