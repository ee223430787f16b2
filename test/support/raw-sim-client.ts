import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { HostLink, SimBoard } from '../../src/sim/board.ts';
import { SlipDecoder, slipEncode } from '../../src/sim/slip.ts';

/**
 * A minimal host written in the test from the protocol document (§1): it frames requests by hand and
 * collects raw reply frames and text, so tests can see exactly what a client would see on the wire.
 */
export class RawSimClient {
  readonly link: HostLink;
  frames: Buffer[] = [];
  text = '';
  lost: Error | undefined;
  private waiters: (() => void)[] = [];
  private readonly decoder = new SlipDecoder((f) => {
    this.frames.push(f);
    this.notify();
  });

  constructor(
    readonly board: SimBoard,
    baud: number | undefined = 115200,
  ) {
    this.link = board.attachHost(
      {
        onData: (bytes) => {
          this.text += bytes.toString('latin1');
          this.decoder.push(bytes);
          this.notify();
        },
        onLost: (err) => {
          this.lost = err;
          this.notify();
        },
      },
      { baud },
    );
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Wait until `cond` holds or `ms` pass; returns whether it held. */
  async until(cond: () => boolean, ms = 10_000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  /** esptool's ClassicReset: D0 R1, 100 ms, D1 R0, 50 ms, D0 (shortened waits; the chip needs only the edges). */
  async classicReset(): Promise<void> {
    this.link.setLines({ dtr: false, rts: true });
    await sleep(5);
    this.link.setLines({ dtr: true, rts: false });
    await sleep(10);
    this.link.setLines({ dtr: false, rts: false });
  }

  /** HardReset as esptool does it: RTS pulse with DTR released. */
  async hardReset(): Promise<void> {
    this.link.setLines({ dtr: false, rts: true });
    await sleep(5);
    this.link.setLines({ dtr: false, rts: false });
  }

  async send(op: number, data: Uint8Array = Buffer.alloc(0), checksum = 0): Promise<void> {
    const pkt = Buffer.alloc(8 + data.length);
    pkt[0] = 0;
    pkt[1] = op;
    pkt.writeUInt16LE(data.length, 2);
    pkt.writeUInt32LE(checksum, 4);
    pkt.set(data, 8);
    await this.link.write(slipEncode(pkt));
  }

  async sendRaw(frame: Uint8Array): Promise<void> {
    await this.link.write(slipEncode(frame));
  }

  /** Send and wait for the first reply frame with this opcode; undefined on timeout. */
  async command(
    op: number,
    data: Uint8Array = Buffer.alloc(0),
    checksum = 0,
    ms = 2000,
  ): Promise<Reply | undefined> {
    this.frames = [];
    await this.send(op, data, checksum);
    let found: Buffer | undefined;
    await this.until(() => {
      found = this.frames.find((f) => f.length >= 8 && f[0] === 1 && f[1] === op);
      return !!found;
    }, ms);
    return found ? toReply(found) : undefined;
  }

  async sync(ms = 500): Promise<Reply[]> {
    this.frames = [];
    await this.send(0x08, Buffer.from([0x07, 0x07, 0x12, 0x20, ...new Array<number>(32).fill(0x55)]));
    await this.until(() => this.frames.filter((f) => f[1] === 0x08).length >= 8, ms);
    return this.frames.filter((f) => f[0] === 1 && f[1] === 0x08).map(toReply);
  }

  async readReg(addr: number): Promise<number | undefined> {
    return (await this.command(0x0a, u32(addr)))?.value;
  }

  close(): void {
    this.link.close();
  }
}

export interface Reply {
  op: number;
  value: number;
  /** Data including the status bytes. */
  data: Buffer;
  raw: Buffer;
}

function toReply(f: Buffer): Reply {
  return { op: f[1], value: f.readUInt32LE(4), data: f.subarray(8), raw: f };
}

export function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32LE(v >>> 0, i * 4));
  return b;
}

export function checksum(data: Uint8Array): number {
  let c = 0xef;
  for (const x of data) c ^= x;
  return c;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A board in ROM download mode with a raw client attached (ClassicReset done, banner consumed). */
export async function romSession(board: SimBoard, baud = 115200): Promise<RawSimClient> {
  board.powerOn();
  const client = new RawSimClient(board, baud);
  await client.classicReset();
  await client.until(() => board.mode === 'download' && client.text.length > 0);
  return client;
}

interface StubJson {
  entry: number;
  text: string;
  text_start: number;
  data?: string;
  data_start?: number;
}

/**
 * Espressif's flasher stub for `stubName` (esp-flasher-stub, Apache-2.0 OR MIT): as esptool-js ships it, or the
 * given release as pinned in src/esp/stubs.
 */
export function loadStubJson(stubName: string, release?: 'v1.0.0' | 'v1.2.2'): StubJson {
  const path = release
    ? new URL(`../../src/esp/stubs/esp-flasher-stub-${release}/${stubName}.json`, import.meta.url)
    : createRequire(import.meta.url).resolve(`esptool-js/lib/targets/stub_flasher/${stubName}.json`);
  return JSON.parse(readFileSync(path, 'utf8')) as StubJson;
}

/** Upload the stub with MEM_BEGIN/MEM_DATA/MEM_END as esptool does (§6.1); true when OHAI arrived. */
export async function uploadStub(
  client: RawSimClient,
  stub = loadStubJson(client.board.chip.stubName),
): Promise<boolean> {
  const parts: [Buffer, number][] = [[Buffer.from(stub.text, 'base64'), stub.text_start]];
  if (stub.data && stub.data_start !== undefined)
    parts.push([Buffer.from(stub.data, 'base64'), stub.data_start]);
  for (const [bytes, addr] of parts) {
    const blocks = Math.ceil(bytes.length / 0x1800);
    await client.command(0x05, u32(bytes.length, blocks, 0x1800, addr));
    for (let seq = 0; seq < blocks; seq++) {
      const chunk = bytes.subarray(seq * 0x1800, (seq + 1) * 0x1800);
      await client.command(0x07, Buffer.concat([u32(chunk.length, seq, 0, 0), chunk]), checksum(chunk));
    }
  }
  client.frames = [];
  await client.send(0x06, u32(0, stub.entry));
  return client.until(() => client.frames.some((f) => f.toString('latin1') === 'OHAI'), 1000);
}
