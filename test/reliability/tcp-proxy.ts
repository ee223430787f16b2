/**
 * A TCP proxy between the station (or `esp-station flash`) and a board served by `esp-station sim`, for the
 * neighbourhood tests: it can hold the traffic (a board that is certainly in flight while the test acts) and
 * drop one byte of one chosen reply frame (a byte lost on a long cable or a flaky serial server).
 * Replies are forwarded a whole SLIP frame at a time, so the byte to drop is found by frame, not by chance.
 */
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

const END = 0xc0;
const ESC = 0xdb;

export interface ReplyDrop {
  /** Opcode of the reply to damage, e.g. 0x11 FLASH_DEFL_DATA, 0x13 SPI_FLASH_MD5. */
  op: number;
  /** Damage the n-th reply with that opcode (1-based, counted over all connections). */
  nth: number;
  /** And every one after it too (a link that never gets better). */
  every?: boolean;
}

export interface TcpProxy {
  url: string;
  /** Stop forwarding (both ways); bytes wait in the proxy. */
  hold(): void;
  /** Forward what waited and go on. */
  release(): void;
  /** How many replies were damaged so far. */
  readonly dropped: number;
  /** How many replies with the drop's opcode went through so far (damaged or not). */
  readonly seen: number;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startTcpProxy(
  target: { host: string; port: number },
  opts: { drop?: ReplyDrop; held?: boolean } = {},
): Promise<TcpProxy> {
  let held = opts.held ?? false;
  const waiting: (() => void)[] = [];
  const sockets = new Set<Socket>();
  let seen = 0;
  let dropped = 0;
  let connections = 0;

  const send = (to: Socket, bytes: Buffer): void => {
    if (bytes.length === 0) return;
    const go = (): void => {
      if (!to.destroyed) to.write(bytes);
    };
    if (held) waiting.push(go);
    else go();
  };

  /** Splits the board's bytes into SLIP frames (and the text between them); damages the chosen reply. */
  const replyFilter = (to: Socket): ((chunk: Buffer) => void) => {
    let frame: number[] | undefined;
    return (chunk) => {
      const out: number[] = [];
      for (const b of chunk) {
        if (frame === undefined) {
          if (b === END) frame = [b];
          else out.push(b);
          continue;
        }
        if (b === END && frame.length === 1) {
          // Two ENDs in a row: the first was the end of nothing; this one starts the frame.
          out.push(END);
          continue;
        }
        frame.push(b);
        if (b !== END) continue;
        // frame = END dir op len len val*4 data... END
        if (opts.drop && frame[1] === 0x01 && frame[2] === opts.drop.op) {
          seen++;
          // Drop the last byte of the reply (a status byte), never half of an escape pair.
          const hit = opts.drop.every ? seen >= opts.drop.nth : seen === opts.drop.nth;
          if (hit && frame.length > 10 && frame[frame.length - 3] !== ESC) {
            frame.splice(frame.length - 2, 1);
            dropped++;
          }
        }
        out.push(...frame);
        frame = undefined;
      }
      send(to, Buffer.from(out));
    };
  };

  const server: Server = createServer((client) => {
    connections++;
    sockets.add(client);
    const upstream = connect(target);
    sockets.add(upstream);
    client.on('data', (c: Buffer) => send(upstream, c));
    upstream.on('data', replyFilter(client));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', () => {
        sockets.delete(s);
        end();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `socket://127.0.0.1:${port}`,
    hold() {
      held = true;
    },
    release() {
      held = false;
      for (const go of waiting.splice(0)) go();
    },
    get dropped() {
      return dropped;
    },
    get seen() {
      return seen;
    },
    get connections() {
      return connections;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** host/port of a socket:// URL. */
export function hostPort(url: string): { host: string; port: number } {
  const m = /^socket:\/\/([^:]+):(\d+)/.exec(url);
  if (!m) throw new Error(`not a socket URL: ${url}`);
  return { host: m[1], port: Number(m[2]) };
}
