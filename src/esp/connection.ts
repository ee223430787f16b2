/**
 * The wire to one board's serial loader: SLIP frames in, requests out, one conversation at a time.
 * Holds the frame queue, the boot-log text seen between frames, and the request/reply matching esptool
 * uses (§1.3). Knows nothing of chips or operations — those are the loader's (loader.ts), as espflash
 * splits its `connection/` from the flasher.
 */
import type { Transport } from '../serial/transport.ts';
import { opName } from './commands.ts';
import { EspError, isEspError } from './errors.ts';
import { decodeResponse, isUnsupportedReply, statusError, type Response } from './response.ts';
import { SlipDecoder } from './slip.ts';
import { RequestEncoder } from './request-encoder.ts';
import { abortedError, sleep } from './sleep.ts';
import { TIMEOUTS } from './timeouts.ts';

/** Frames kept while nobody reads (boot noise, repeated replies); older ones are dropped. */
const MAX_QUEUED_FRAMES = 256;
const BOOT_LOG_LINES = 40;

export interface CommandOptions {
  /** Data checksum for *_DATA commands. */
  check?: number;
  timeoutMs?: number;
  /** Payload bytes expected before the status bytes (READ_REG: 0, MD5: 16/32, security info: 20). */
  payloadLen?: number;
  /** The caller decodes the status itself (replies whose payload length varies). */
  skipStatus?: boolean;
  signal?: AbortSignal;
}

type FrameWaiter = {
  resolve: (frame: Buffer) => void;
  reject: (e: Error) => void;
};

export class EspConnection {
  readonly transport: Transport;
  private readonly decoder: SlipDecoder;
  private readonly frames: Buffer[] = [];
  private waiter: FrameWaiter | undefined;
  private dead: EspError | undefined;
  private readonly unsubscribe: () => void;
  private readonly bootLog: string[] = [];
  private bytesSeen = 0;
  private busy = false;
  private readonly encoder = new RequestEncoder();

  constructor(transport: Transport, onLog?: (line: string) => void) {
    this.transport = transport;
    this.decoder = new SlipDecoder({
      onFrame: (frame) => this.deliver(frame),
      onText: (line) => {
        this.bootLog.push(line);
        if (this.bootLog.length > BOOT_LOG_LINES) this.bootLog.shift();
        onLog?.(line);
      },
    });
    this.unsubscribe = transport.onData((chunk) => {
      this.bytesSeen += chunk.length;
      this.decoder.push(chunk);
    });
    this.watchClosed();
  }

  private watchClosed(): void {
    const closed = this.transport.closed;
    void closed.then((err) => {
      // A reopen replaced the handle meanwhile: this end belongs to the old one.
      if (closed !== this.transport.closed) return;
      this.dead = new EspError(
        'disconnected',
        err ? `board disconnected: ${err.message}` : `${this.transport.path} was closed`,
        { cause: err },
      );
      const w = this.waiter;
      this.waiter = undefined;
      w?.reject(this.dead);
    });
  }

  /**
   * The port vanished around a reset (native USB re-enumerating) and may be opened again, as esptool's reset
   * strategies do: true when it was, and the connection is usable again.
   */
  async reopen(delayMs: number, signal?: AbortSignal): Promise<boolean> {
    if (!this.transport.reopen) return false;
    await this.transport.reopen({ delayMs, signal });
    this.dead = undefined;
    this.flushInput();
    this.watchClosed();
    return true;
  }

  /** Lines printed outside SLIP frames since connecting (most recent last). */
  get recentText(): readonly string[] {
    return [...this.bootLog];
  }

  /** Bytes received since connecting, readable or not (tells "silent" from "wrong baud" after no SYNC). */
  get bytesReceived(): number {
    return this.bytesSeen;
  }

  /** The link is gone (unplugged or closed): nothing more will be sent or received. */
  get isClosed(): boolean {
    return this.dead !== undefined;
  }

  /** Stops listening to the transport (the caller owns and closes it). */
  dispose(): void {
    this.unsubscribe();
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(new EspError('aborted', 'loader disposed'));
  }

  /** The 16-byte sub-header of a data block, from the shared request buffer. */
  dataBlockHeader(dataLength: number, seq: number): Buffer {
    return this.encoder.dataBlockHeader(dataLength, seq);
  }

  private deliver(frame: Buffer): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w.resolve(frame);
      return;
    }
    this.frames.push(frame);
    if (this.frames.length > MAX_QUEUED_FRAMES) this.frames.shift();
  }

  /** Drops frames and partial input received so far (esptool `flush_input`). */
  flushInput(): void {
    this.frames.length = 0;
    this.decoder.reset();
    this.transport.flushInput();
  }

  /**
   * esptool's flush before each SYNC try: frames and any partial frame go, so nothing of an earlier try is read
   * as this one's answer; a boot-log line still arriving is kept for the diagnosis.
   */
  flushFrames(): void {
    this.frames.length = 0;
    this.decoder.dropFrame();
    this.transport.flushInput();
  }

  /** Drops queued frames but keeps partial input and the text already seen (for a diagnosis). */
  flushInputKeepLog(): void {
    this.frames.length = 0;
  }

  readFrame(timeoutMs: number, signal?: AbortSignal, what = 'reply'): Promise<Buffer> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued);
    if (this.dead) return Promise.reject(this.dead);
    if (signal?.aborted) return Promise.reject(abortedError(signal));
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiter = undefined;
      };
      const onAbort = () => {
        done();
        reject(abortedError(signal!));
      };
      const timer = setTimeout(() => {
        done();
        reject(new EspError('timeout', `no ${what} within ${Math.round(timeoutMs)} ms`));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = {
        resolve: (f) => {
          done();
          resolve(f);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
    });
  }

  async writeRaw(data: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (this.dead) throw this.dead;
    try {
      await this.transport.write(data, signal);
    } catch (e) {
      if (signal?.aborted) throw abortedError(signal);
      if (this.dead) throw this.dead;
      throw new EspError('disconnected', `write failed: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Sends one command and waits for its reply, matching as esptool does (§1.3). */
  async command(
    op: number,
    payload: Uint8Array | readonly Uint8Array[],
    opts: CommandOptions = {},
  ): Promise<Response> {
    return this.exclusive(() => this.commandUnlocked(op, payload, opts));
  }

  /**
   * One board link carries one conversation: a second operation while one is running would steal its
   * replies, so it is refused rather than queued (callers run their steps in order).
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.busy) throw new EspError('protocol', 'two operations at once on one loader');
    this.busy = true;
    try {
      return await fn();
    } finally {
      this.busy = false;
    }
  }

  /** `command` for a caller already inside `exclusive` (a multi-frame exchange such as READ_FLASH). */
  async commandUnlocked(
    op: number,
    payload: Uint8Array | readonly Uint8Array[],
    opts: CommandOptions = {},
  ): Promise<Response> {
    const timeoutMs = opts.timeoutMs ?? TIMEOUTS.default;
    this.frames.length = 0;
    const parts = payload instanceof Uint8Array ? [payload] : payload;
    await this.writeRaw(this.encoder.encode(op, parts, opts.check ?? 0), opts.signal);
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 100; i++) {
      let frame: Buffer;
      try {
        frame = await this.readFrame(Math.max(1, deadline - Date.now()), opts.signal);
      } catch (e) {
        if (isEspError(e, 'timeout')) {
          throw new EspError('timeout', `${opName(op)}: no reply within ${Math.round(timeoutMs)} ms`, {
            op,
          });
        }
        throw e;
      }
      const resp = decodeResponse(frame);
      if (!resp) continue;
      if (resp.op === op) {
        const err = opts.skipStatus ? undefined : statusError(resp, opts.payloadLen ?? 0);
        if (err) throw err;
        return resp;
      }
      if (isUnsupportedReply(resp, op)) {
        // The ROM repeats this reply several times; let the repeats arrive and drop them.
        await sleep(200, opts.signal);
        this.flushInput();
        throw new EspError('unsupported', `${opName(op)} is not supported by this loader`, { op });
      }
    }
    throw new EspError('protocol', `${opName(op)}: no matching reply among 100 frames`, { op });
  }
}
