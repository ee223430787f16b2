import { createHash } from 'node:crypto';
import { BlockInflater } from './inflater.ts';
import { securityInfo, type Loader, type LoaderContext } from './loader-context.ts';
import { buildResponse, dataChecksum, OP, parseRequest, STUB_ERR, SYNC_PAYLOAD, words } from './protocol.ts';
import type { StubBehaviour } from './stub-releases.ts';

const MAX_BLOCK = 0x4000;
const SECTOR = 0x1000;
const BLOCK = 0x10000;

interface StubWrite {
  compressed: boolean;
  offset: number;
  /** Exact number of (uncompressed) bytes to write: the stub's FLASH_BEGIN size word (§2.2). */
  total: number;
  written: number;
  /** First byte not yet erased (or found blank): the stub erases just in time, sector by sector. */
  erasedTo: number;
  /** v1.1.0+: a sector of this write read non-blank; from here on everything is erased without reading. */
  dirtySeen: boolean;
  inflater?: BlockInflater;
}

/**
 * The flasher stub (esp-flasher-stub semantics, §2.2, §6): 2 status bytes `[error, 0]`, 0x4000 blocks,
 * FLASH_DATA acknowledged on receipt and written while the next block arrives, errors of that deferred write
 * reported on the next command, ERASE_FLASH/ERASE_REGION, READ_FLASH with acks and an MD5 trailer. What differs
 * between releases (blank-sector skipping) follows the release recognised from the uploaded code.
 */
export class StubLoader implements Loader {
  readonly kind = 'stub';
  private write: StubWrite | undefined;
  /** The flash work of the last acknowledged block. */
  private work: Promise<void> = Promise.resolve();
  private pendingError = 0;

  /**
   * The flash size the stub works with: at start-up esp-stub-lib reads RDID and takes the size its capacity byte
   * names (`stub_target_flash_id_to_flash_size`); SPI_SET_PARAMS replaces it. Writes and reads past it go
   * through the ROM's flash functions, which refuse them (FAILED_SPI_OP); erases are raw SPI commands, unchecked.
   */
  private flashSize: number;

  constructor(
    private readonly ctx: LoaderContext,
    private readonly behaviour: StubBehaviour,
  ) {
    this.flashSize = ctx.flashSizeFromId();
  }

  private readable(addr: number, size: number): boolean {
    return addr + size <= Math.min(this.flashSize, this.ctx.flash.flash.size);
  }

  dispose(): void {
    this.write?.inflater?.close();
  }

  /** Back at the receive loop once the last acknowledged block is in flash (esp-flasher-stub's post-process). */
  idle(): Promise<void> {
    return this.work;
  }

  private reply(op: number, err = 0, data: Uint8Array = Buffer.alloc(0), value = 0): void {
    this.ctx.sendFrame(buildResponse(op, value, Buffer.concat([data, Buffer.from([err, 0])])));
  }

  async handle(frame: Buffer): Promise<void> {
    // The previous block's erase/write must finish before the stub looks at the next command.
    await this.work;
    const req = parseRequest(frame);
    if (!req) {
      if (frame.length >= 2 && frame[0] !== 0x00) this.reply(frame[1], STUB_ERR.INVALID_COMMAND);
      return;
    }
    const { op, data } = req;
    if (this.pendingError !== 0 && op !== OP.SYNC) {
      const err = this.pendingError;
      this.pendingError = 0;
      return this.reply(op, err);
    }
    const { ctx } = this;
    const flash = ctx.flash.flash;
    switch (op) {
      case OP.SYNC:
        if (!data.equals(SYNC_PAYLOAD)) return;
        for (let i = 0; i < 8; i++) this.reply(op);
        return;
      case OP.READ_REG:
        if (data.length !== 4) return this.reply(op, STUB_ERR.BAD_DATA_LEN);
        return this.reply(op, 0, Buffer.alloc(0), ctx.regs.read(data.readUInt32LE(0)));
      case OP.WRITE_REG:
        if (data.length === 0 || data.length % 16 !== 0) return this.reply(op, STUB_ERR.BAD_DATA_LEN);
        for (let i = 0; i < data.length; i += 16) {
          const [addr, value, mask, delayUs] = words(data.subarray(i), 4);
          if (delayUs > 0 && ctx.timing.realistic) await ctx.delay(delayUs / 1000);
          ctx.regs.write(addr, value, mask);
        }
        return this.reply(op);
      case OP.SPI_ATTACH:
        return this.reply(op, data.length === 4 ? 0 : STUB_ERR.BAD_DATA_LEN);
      case OP.SPI_SET_PARAMS:
        if (data.length !== 24) return this.reply(op, STUB_ERR.BAD_DATA_LEN);
        this.flashSize = data.readUInt32LE(4);
        return this.reply(op);
      case OP.CHANGE_BAUDRATE: {
        if (data.length !== 8) return this.reply(op, STUB_ERR.BAD_DATA_LEN);
        const [baud] = words(data, 1);
        this.reply(op);
        ctx.setChipBaud(baud);
        return;
      }
      case OP.MEM_BEGIN:
        return this.reply(op, data.length === 16 ? 0 : STUB_ERR.BAD_DATA_LEN);
      case OP.MEM_DATA:
        if (data.length < 16 || words(data, 1)[0] !== data.length - 16)
          return this.reply(op, STUB_ERR.BAD_DATA_LEN);
        return this.reply(
          op,
          !ctx.garbledDataBlock() && dataChecksum(data.subarray(16)) === (req.checksum & 0xff)
            ? 0
            : STUB_ERR.BAD_DATA_CHECKSUM,
        );
      case OP.MEM_END:
        return this.reply(op, data.length === 8 ? 0 : STUB_ERR.BAD_DATA_LEN);
      case OP.FLASH_BEGIN:
      case OP.FLASH_DEFL_BEGIN:
        return this.flashBegin(op, data);
      case OP.FLASH_DATA:
      case OP.FLASH_DEFL_DATA:
        return this.flashData(op, data, req.checksum);
      case OP.FLASH_END:
      case OP.FLASH_DEFL_END: {
        if (data.length !== 4) return this.reply(op, STUB_ERR.BAD_DATA_LEN);
        const w = this.write;
        if (!w) return this.reply(op, STUB_ERR.NOT_IN_FLASH_MODE);
        w.inflater?.close();
        this.write = undefined;
        // esp-flasher-stub: END with bytes outstanding is BAD_DATA_LEN; its reboot path does nothing.
        return this.reply(op, w.written < w.total ? STUB_ERR.BAD_DATA_LEN : 0);
      }
      case OP.SPI_FLASH_MD5: {
        if (data.length !== 16) return this.reply(op, STUB_ERR.BAD_DATA_LEN);
        const [addr, size] = words(data, 2);
        if (!this.readable(addr, size)) return this.reply(op, STUB_ERR.FAILED_SPI_OP);
        await ctx.delay((size / 0x100000) * ctx.timing.md5MsPerMiB);
        return this.reply(op, 0, flash.md5(addr, size));
      }
      case OP.GET_SECURITY_INFO:
        if (ctx.chip.romSecurityInfoBytes === 0) return this.reply(op, STUB_ERR.CMD_NOT_IMPLEMENTED);
        return this.reply(op, 0, securityInfo(ctx, ctx.chip.romSecurityInfoBytes));
      case OP.ERASE_FLASH:
        await ctx.flash.eraseChip(ctx.delay);
        return this.reply(op);
      case OP.ERASE_REGION: {
        if (data.length !== 8) return this.reply(op, STUB_ERR.BAD_DATA_LEN);
        const [offset, size] = words(data, 2);
        if (offset % 0x1000 !== 0 || size % 0x1000 !== 0 || offset + size > flash.size) {
          return this.reply(op, STUB_ERR.BAD_DATA_LEN);
        }
        await ctx.flash.erase(offset, size, ctx.delay);
        return this.reply(op);
      }
      case OP.READ_FLASH:
        return this.readFlash(op, data);
      case OP.RUN_USER_CODE:
        // esp-flasher-stub: no reply, nothing happens (its handler is a TODO) (§2.1).
        return;
      default:
        return this.reply(op, STUB_ERR.INVALID_COMMAND);
    }
  }

  private flashBegin(op: number, data: Buffer): void {
    if (data.length !== 16 && data.length !== 20) return this.reply(op, STUB_ERR.BAD_DATA_LEN);
    const [total, , blockSize, offset] = words(data, 4);
    if (blockSize > MAX_BLOCK) return this.reply(op, STUB_ERR.BAD_BLOCKSIZE);
    if (offset + total > this.ctx.flash.flash.size) return this.reply(op, STUB_ERR.FAILED_SPI_OP);
    this.write?.inflater?.close();
    const compressed = op === OP.FLASH_DEFL_BEGIN;
    this.write = {
      compressed,
      offset,
      total,
      written: 0,
      // The erase covers whole sectors from the one holding `offset` (ALIGN_DOWN in the stub).
      erasedTo: Math.floor(offset / SECTOR) * SECTOR,
      dirtySeen: false,
      inflater: compressed ? new BlockInflater() : undefined,
    };
    this.reply(op);
  }

  private flashData(op: number, data: Buffer, checksum: number): void {
    const w = this.write;
    if (!w || w.compressed !== (op === OP.FLASH_DEFL_DATA)) return this.reply(op, STUB_ERR.NOT_IN_FLASH_MODE);
    if (data.length < 16) return this.reply(op, STUB_ERR.NOT_ENOUGH_DATA);
    const [len] = words(data, 1);
    // The frame is ours alone (the decoder builds a fresh buffer per frame): no copy needed.
    const payload = data.subarray(16);
    if (len !== payload.length) return this.reply(op, STUB_ERR.TOO_MUCH_DATA);
    // The stub checks the checksum before anything else and keeps no block count (esp-flasher-stub's
    // command_handler.c): a refused block changes nothing, and the same block may come again.
    if (this.ctx.garbledDataBlock() || dataChecksum(payload) !== (checksum & 0xff))
      return this.reply(op, STUB_ERR.BAD_DATA_CHECKSUM);
    // Acknowledge now; erase + write happen while the host sends the next block, from the chip's time of the ack.
    this.reply(op);
    this.work = this.store(w, payload, this.ctx.chipNow()).catch((err: unknown) => {
      if (!this.ctx.signal.aborted) throw err;
    });
  }

  private async store(w: StubWrite, payload: Buffer, startedAt: number): Promise<void> {
    const { ctx } = this;
    let out = payload;
    let ms = 0;
    if (w.compressed) {
      try {
        out = await w.inflater!.push(payload);
      } catch {
        this.pendingError = STUB_ERR.INFLATE_ERROR;
        return;
      }
      ms += (out.length / 0x100000) * ctx.timing.inflateMsPerMiB;
    }
    // Padding beyond the declared size is discarded.
    const n = Math.min(out.length, w.total - w.written);
    if (n <= 0) return;
    const addr = w.offset + w.written;
    w.written += n;
    const end = addr + n;
    if (end > this.flashSize) {
      this.pendingError = STUB_ERR.FAILED_SPI_OP;
      return;
    }
    if (end > w.erasedTo) ms += this.eraseUpTo(w, end);
    const result = ctx.flash.programNow(addr, out.subarray(0, n));
    ms += result.ms;
    if (!result.ok) this.pendingError = STUB_ERR.FAILED_SPI_OP;
    // One timer for inflate + erase + program: the chip is busy that long before it looks at the next command.
    await ctx.delay(ms, startedAt);
  }

  /**
   * Erase just in time up to `end`, a whole 64 KB block ahead when the write covers it (one block erase is far
   * quicker than 16 sector erases), never past the declared size. v1.1.0+ first reads each sector and leaves a
   * blank one alone, until the first non-blank sector of this write (esp-flasher-stub `s_conditional_erase_next`).
   * Returns the flash chip's busy time (ms).
   */
  private eraseUpTo(w: StubWrite, end: number): number {
    const { ctx } = this;
    const totalEnd = Math.min(Math.ceil((w.offset + w.total) / SECTOR) * SECTOR, ctx.flash.flash.size);
    let ms = 0;
    while (w.erasedTo < end) {
      if (this.behaviour.skipsBlankSectors && !w.dirtySeen) {
        ms += ctx.flash.readMs(SECTOR);
        if (ctx.flash.flash.isSectorErased(w.erasedTo)) {
          w.erasedTo += SECTOR;
          continue;
        }
        w.dirtySeen = true;
      }
      const eraseEnd = Math.min(Math.ceil(end / BLOCK) * BLOCK, totalEnd);
      ms += ctx.flash.eraseNow(w.erasedTo, eraseEnd - w.erasedTo);
      w.erasedTo = eraseEnd;
    }
    return ms;
  }

  private async readFlash(op: number, data: Buffer): Promise<void> {
    const { ctx } = this;
    if (data.length !== 16) return this.reply(op, STUB_ERR.BAD_DATA_LEN);
    const [offset, length, packetSize] = words(data, 3);
    if (packetSize === 0 || packetSize > 0x1000) return this.reply(op, STUB_ERR.BAD_DATA_LEN);
    if (!this.readable(offset, length)) return this.reply(op, STUB_ERR.FAILED_SPI_OP);
    this.reply(op);
    const md5Input = ctx.flash.flash.read(offset, length);
    // esp-flasher-stub keeps one packet in flight whatever the host asks for (§2.3 step 5).
    for (let sent = 0; sent < length;) {
      const n = Math.min(packetSize, length - sent);
      ctx.sendFrame(md5Input.subarray(sent, sent + n));
      sent += n;
      await ctx.frames.next(ctx.signal);
    }
    ctx.sendFrame(createHash('md5').update(md5Input).digest());
  }
}
