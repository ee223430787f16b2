import { connect, type Socket } from 'node:net';
import { DEFAULT_BAUD, DisconnectedError, type OpenTransportOptions, type Transport } from './transport.ts';

/** Parses socket://host:port (IPv6 hosts in brackets). */
export function parseSocketUrl(url: string): { host: string; port: number } {
  const m = /^socket:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(url);
  if (!m) throw new RangeError(`not a socket://host:port URL: ${url}`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new RangeError(`port out of range in ${url}`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/** Raw TCP: no control lines; a baud change only updates what we report (the far end sets its own). */
class SocketTransport implements Transport {
  readonly path: string;
  readonly supportsControlLines = false;
  readonly closed: Promise<Error | undefined>;
  private readonly socket: Socket;
  private baud: number;
  private ended: Error | undefined | null = null;
  private resolveClosed!: (e: Error | undefined) => void;
  /** Rejecters of writes in flight: a vanished link must end them at once. */
  private readonly pendingWrites = new Set<(e: Error) => void>();
  /** Always reading (flowing mode), so a vanished device is noticed even when nobody listens. */
  private readonly listeners = new Set<(chunk: Buffer) => void>();
  private closing = false;

  constructor(path: string, socket: Socket, baud: number) {
    this.path = path;
    this.socket = socket;
    this.baud = baud;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    socket.on('data', (chunk: Buffer) => {
      for (const cb of this.listeners) cb(chunk);
    });
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

  get baudRate(): number {
    return this.baud;
  }

  private finish(err: Error | undefined): void {
    if (this.ended !== null) return;
    this.ended = err;
    this.resolveClosed(err);
    for (const reject of this.pendingWrites) reject(this.deadError());
    this.pendingWrites.clear();
  }

  private deadError(): Error {
    return this.ended ?? new DisconnectedError(`${this.path} is closed`);
  }

  write(data: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.ended !== null || this.socket.destroyed) return Promise.reject(this.deadError());
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(abortError(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pendingWrites.add(reject);
      this.socket.write(data, (err) => {
        signal?.removeEventListener('abort', onAbort);
        this.pendingWrites.delete(reject);
        if (err) reject(new DisconnectedError(`${this.path}: write failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
  }

  onData(cb: (chunk: Buffer) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  setSignals(): Promise<void> {
    return this.ended !== null ? Promise.reject(this.deadError()) : Promise.resolve();
  }

  setBaudRate(baud: number): Promise<void> {
    if (this.ended !== null) return Promise.reject(this.deadError());
    this.baud = baud;
    return Promise.resolve();
  }

  flushInput(): void {
    // Bytes are delivered as they arrive; the reader drops its own buffer.
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
