/**
 * The board's second UART, ESP-AT's command port (UART1 on ESP32-WROOM-32: TX GPIO17, RX GPIO16), and the wire
 * to whatever host end is attached (the second channel of a dual bridge, a second bridge, a TCP port). It is
 * silent until the app configures it (the chip in reset or download mode drives no UART1), runs at the rate
 * the app set, and garbles bytes both ways when the host's rate differs, like any UART. Bytes sent while no
 * host is attached are lost: a host that opens the port after `ready` never sees it.
 */
import { DEFAULT_BAUD } from '../serial/link-errors.ts';
import type { HostHandlers, HostLink } from './host-link.ts';
import type { SeededRandom } from './rng.ts';
import { wireMs, type TimingModel } from './timing.ts';
import { ratesMismatch } from './uart-rates.ts';
import { WireQueue } from './wire-queue.ts';

export class AtUart {
  private host: { handlers: HostHandlers; baud: number | undefined } | undefined;
  private readonly rx: WireQueue;
  private readonly tx: WireQueue;
  /** The rate the app configured; undefined while no app drives the UART. */
  private chipBaud: number | undefined;
  private receiver: ((bytes: Buffer) => void) | undefined;

  constructor(
    private readonly timing: TimingModel,
    private readonly rng: SeededRandom,
    /** The at-dead fault: the module's TX line is broken, nothing it sends arrives. */
    private readonly txDead: boolean,
  ) {
    this.rx = new WireQueue(() => timing.realistic);
    this.tx = new WireQueue(() => timing.realistic);
  }

  /** The app configures the UART at `baud` and reads what arrives. */
  open(baud: number, receiver: (bytes: Buffer) => void): void {
    this.chipBaud = baud;
    this.receiver = receiver;
  }

  /** Chip reset or power off: the UART is unconfigured, bytes on the wire are lost. */
  reset(): void {
    this.chipBaud = undefined;
    this.receiver = undefined;
    this.rx.clear();
    this.tx.clear();
  }

  get baud(): number | undefined {
    return this.chipBaud;
  }

  /** App → host, at the app's rate. */
  transmit(text: string | Buffer): void {
    const baud = this.chipBaud;
    if (baud === undefined || this.txDead) return;
    const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
    this.tx.push(wireMs(this.timing, bytes.length, baud), () => {
      const host = this.host;
      if (!host) return;
      const out = host.baud !== undefined && ratesMismatch(host.baud, baud) ? this.garble(bytes) : bytes;
      if (out.length > 0) host.handlers.onData(out);
    });
  }

  /** Connect the host end (one at a time; a new one replaces the old). */
  attachHost(handlers: HostHandlers, opts: { baud?: number } = {}): HostLink {
    const host = { handlers, baud: opts.baud };
    this.host = host;
    const live = () => this.host === host;
    return {
      write: (data, writeOpts) =>
        new Promise<void>((resolve, reject) => {
          if (!live()) return reject(new Error('EIO: device disconnected'));
          const baud = host.baud ?? this.chipBaud ?? DEFAULT_BAUD;
          const bytes = writeOpts?.transfer
            ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
            : Buffer.from(data);
          this.rx.push(wireMs(this.timing, bytes.length, baud), () => {
            const chipBaud = this.chipBaud;
            if (live() && chipBaud !== undefined && this.receiver) {
              this.receiver(ratesMismatch(baud, chipBaud) ? this.garble(bytes) : bytes);
            }
            resolve();
          });
        }),
      setBaud: (baud) => {
        host.baud = baud;
      },
      // DTR/RTS of the AT channel reach no strapping pin (at most the module's CTS): nothing happens.
      setLines: () => undefined,
      close: () => {
        if (live()) this.host = undefined;
      },
    };
  }

  /** The USB link dropped: the host end sees a disconnect. */
  loseHost(err: Error): void {
    const host = this.host;
    this.host = undefined;
    host?.handlers.onLost(err);
  }

  private garble(bytes: Buffer): Buffer {
    return Buffer.from(bytes.map(() => this.rng.int(256)));
  }
}
