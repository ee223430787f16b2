/**
 * esptool-js 0.7.0 (Espressif's npm ESPLoader, the reference host the conformance run times esp-station
 * against) over a raw TCP port: a Node stand-in for the Web Serial `SerialPort` on a socket. A TCP link has no
 * reset lines and no baud of its own, so signals and the host baud are no-ops (the emulated UART follows the
 * chip's CHANGE_BAUDRATE).
 *
 *   node --import tsx scripts/conformance/esptool-js-tcp.ts HOST:PORT BAUD OFFSET=FILE ...
 *
 * Prints one JSON line: { ms, ok, message? }.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { ESPLoader, Transport } from 'esptool-js';

class TcpSerialPort {
  readable: ReadableStream<Uint8Array> | null = null;
  writable: WritableStream<Uint8Array> | null = null;
  private socket: net.Socket | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  getInfo(): Record<string, never> {
    return {};
  }

  async open(): Promise<void> {
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    this.socket = socket;
    let closed = false;
    this.readable = new ReadableStream<Uint8Array>({
      start(controller) {
        socket.on('data', (chunk: Buffer) => {
          if (!closed) controller.enqueue(new Uint8Array(chunk));
        });
        socket.on('close', () => {
          if (!closed) {
            closed = true;
            controller.close();
          }
        });
      },
      cancel() {
        closed = true;
      },
    });
    this.writable = new WritableStream<Uint8Array>({
      write(chunk) {
        return new Promise<void>((resolve, reject) =>
          socket.write(Buffer.from(chunk), (err) => (err ? reject(err) : resolve())),
        );
      },
    });
  }

  async setSignals(): Promise<void> {}

  async setBaudRate(): Promise<void> {}

  async close(): Promise<void> {
    this.socket?.destroy();
    this.socket = undefined;
    this.readable = null;
    this.writable = null;
  }
}

async function main(): Promise<void> {
  const [where, baudText, ...pairs] = process.argv.slice(2);
  const m = /^(.+):(\d+)$/.exec(where ?? '');
  const baud = Number(baudText);
  if (!m || !baud || pairs.length === 0) {
    console.error('usage: esptool-js-tcp.ts HOST:PORT BAUD OFFSET=FILE ...');
    process.exit(2);
  }
  const fileArray = pairs.map((p) => {
    const [offset, file] = p.split('=');
    return { address: Number(offset), data: new Uint8Array(readFileSync(file!)) };
  });
  const transport = new Transport(new TcpSerialPort(m[1]!, Number(m[2])) as never, false);
  const t0 = performance.now();
  // ESPTOOL_JS_TIMELINE=1: every line esptool-js prints, stamped with ms since start, on stderr (the QEMU
  // per-phase comparison in docs/performance.md reads it); stdout keeps its one JSON line.
  const stamp = process.env.ESPTOOL_JS_TIMELINE
    ? (line: string) => process.stderr.write(`${(performance.now() - t0).toFixed(0).padStart(7)} ${line}\n`)
    : () => undefined;
  const terminal = { clean() {}, writeLine: stamp, write: stamp };
  try {
    const loader = new ESPLoader({ transport, baudrate: baud, romBaudrate: 115200, terminal });
    // No reset lines: the emulated chip waits in download mode already.
    await loader.main('no_reset');
    await loader.writeFlash({
      fileArray,
      flashMode: 'keep',
      flashFreq: 'keep',
      flashSize: 'keep',
      eraseAll: false,
      compress: true,
      calculateMD5Hash: (d: Uint8Array) => createHash('md5').update(d).digest('hex'),
    });
    console.log(JSON.stringify({ ms: performance.now() - t0, ok: true }));
  } catch (err) {
    console.log(JSON.stringify({ ms: performance.now() - t0, ok: false, message: (err as Error).message }));
  } finally {
    await transport.disconnect().catch(() => undefined);
  }
}

await main();
