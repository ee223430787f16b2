import { connect, type Socket } from 'node:net';
import { abortError, StreamTransport } from './stream-transport.ts';
import { DEFAULT_BAUD, DisconnectedError } from './link-errors.ts';
import type { OpenTransportOptions, Transport } from './transport-types.ts';

/** Parses socket://host:port (IPv6 hosts in brackets). */
export function parseSocketUrl(url: string): { host: string; port: number } {
  const m = /^socket:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(url);
  if (!m) throw new RangeError(`not a socket://host:port URL: ${url}`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new RangeError(`port out of range in ${url}`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

/** Raw TCP: no control lines; a baud change only updates what we report (the far end sets its own). */
class SocketTransport extends StreamTransport {
  readonly supportsControlLines = false;
  private readonly socket: Socket;
  private closing = false;

  constructor(path: string, socket: Socket, baud: number) {
    super(path, baud);
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.deliver(chunk));
    socket.setNoDelay(true);
    let lastError: Error | undefined;
    socket.on('error', (err) => (lastError = err));
    socket.on('close', () => {
      this.finish(
        this.closing
          ? undefined
          : new DisconnectedError(
              `${path}: connection ${lastError ? `lost: ${lastError.message}` : 'closed by the remote end'}`,
              { cause: lastError },
            ),
      );
    });
    // A half-close from the server means the board is gone; do not wait for our side.
    socket.on('end', () => socket.destroy());
  }

  protected streamIsOpen(): boolean {
    return !this.socket.destroyed;
  }

  protected writeToStream(data: Uint8Array, done: (err: Error | null | undefined) => void): void {
    this.socket.write(data, done);
  }

  setSignals(): Promise<void> {
    return this.ended !== null ? Promise.reject(this.deadError()) : Promise.resolve();
  }

  setBaudRate(baud: number): Promise<void> {
    if (this.ended !== null) return Promise.reject(this.deadError());
    this.baud = baud;
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.ended !== null) return;
    this.closing = true;
    this.socket.destroy();
    await this.closed;
  }
}

export async function openSocketTransport(url: string, opts: OpenTransportOptions): Promise<Transport> {
  const { host, port } = parseSocketUrl(url);
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host, port });
    const onAbort = () => {
      s.destroy();
      reject(abortError(opts.signal!));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    s.once('connect', () => {
      opts.signal?.removeEventListener('abort', onAbort);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err) => {
      opts.signal?.removeEventListener('abort', onAbort);
      reject(new DisconnectedError(`${url}: ${err.message}`, { cause: err }));
    });
  });
  return new SocketTransport(url, socket, opts.baudRate ?? DEFAULT_BAUD);
}
