/**
 * Remote serial ports as fixed slots: ser2net-style `socket://host:port` links (or the simulator's
 * `esp-station sim`) have no USB to watch, so each configured port is attached once when detection starts and
 * stays attached until the station stops. The slot is keyed by the URL (the "physical" place of the board)
 * and named by the given name, or by the URL.
 */
import type { DeviceListener, DeviceSource, DeviceSourceStartOptions } from './bridge-device.ts';

export interface StaticPort {
  /** socket://host:port */
  url: string;
  /** Slot name shown to the operator and written to the ledger (default: the URL). */
  name?: string;
}

const SOCKET_URL = /^socket:\/\/(\[[^\]]+\]|[^:/\s]+):(\d{1,5})\/?$/;

/** Parses `socket://host:port` or `NAME=socket://host:port`; throws a sentence saying what is wrong. */
export function parseStaticPort(text: string): StaticPort {
  const eq = text.indexOf('=');
  const named = eq > 0 && !text.slice(0, eq).includes('://');
  const name = named ? text.slice(0, eq).trim() : undefined;
  const url = (named ? text.slice(eq + 1) : text).trim();
  if (/^(tcp|telnet|raw):\/\//i.test(url)) {
    throw new Error(
      `'${text}': a raw TCP serial port (ser2net raw mode, esp-station sim) is written socket://HOST:PORT; use ${url.replace(/^[a-z]+:\/\//i, 'socket://')}`,
    );
  }
  const m = SOCKET_URL.exec(url);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    throw new Error(
      `'${text}' is not socket://HOST:PORT (or NAME=socket://HOST:PORT), e.g. socket://10.0.0.5:4001`,
    );
  }
  if (named && !name) throw new Error(`'${text}': the slot name before '=' is empty`);
  return { url, ...(name && { name }) };
}

export class StaticPortSource implements DeviceSource {
  readonly mode = 'static' as const;
  private listener: DeviceListener | undefined;

  constructor(readonly ports: readonly StaticPort[]) {
    const seen = new Set<string>();
    for (const p of ports) {
      if (seen.has(p.url)) throw new Error(`${p.url} is given twice; each remote port is one slot`);
      seen.add(p.url);
    }
  }

  /** Slot names for the station (keyed like its USB port paths: by URL). */
  slotNames(): { name: string; usbPath: string }[] {
    return this.ports.map((p) => ({ name: p.name ?? p.url, usbPath: p.url }));
  }

  async start(listener: DeviceListener, _opts: DeviceSourceStartOptions): Promise<void> {
    this.listener = listener;
    // A remote port cannot be "plugged in later": it is there from the start, whatever offerPresent says.
    for (const p of this.ports) listener.attach({ portPath: p.url, tty: p.url, vid: '', pid: '' });
  }

  async stop(): Promise<void> {
    this.listener = undefined;
  }
}
