/**
 * The simulated ESP-AT app on the AT port: it configures the port at the rate its factory_param says, prints
 * `ready` once up, then answers commands one at a time — from what is in flash (AtFirmware), the chip's MAC and
 * the access points in the air. Like the real one it needs CR LF after each command, echoes input until
 * ATE0, ignores input before `ready`, answers `busy p...` while a command is still running and `ERROR` to
 * anything it does not know. Responses follow ESP-AT v3.x's documented formats (Basic and Wi-Fi AT commands).
 */
import type { NvsEntry, NvsValue } from '../nvs/index.ts';
import type { AtFirmware } from './at-firmware.ts';
import type { AtUart } from './at-uart.ts';

/** An access point the simulated radio can hear. */
export interface SimAccessPoint {
  ssid: string;
  rssi: number;
  mac: string;
  channel: number;
  /** 0 open … 3 WPA2_PSK (ESP-AT's <ecn>). */
  ecn: number;
}

export interface AtAppOptions {
  firmware: AtFirmware;
  uart: AtUart;
  /** The chip's base MAC (the Wi-Fi station MAC). */
  mac: Uint8Array;
  /** 'ESP32', 'ESP32-C3', … as the AT core prints its target. */
  target: string;
  airwaves: readonly SimAccessPoint[];
  /** From the app's start until `ready` (Wi-Fi and BT initialisation). */
  readyDelayMs: number;
  /** How long a scan of all channels takes. */
  scanMs: number;
  /** Runs `fn` after `ms` unless the chip resets first. */
  later(ms: number, fn: () => void): void;
  /** AT+RST: the chip restarts. */
  restart(): void;
}

/**
 * What the simulated radio hears unless a board is given its own: the simulated line's test access point (the
 * demo profile scans for it) and a neighbour's network.
 */
export const SIM_AIRWAVES: readonly SimAccessPoint[] = [
  { ssid: 'esp-station-test', rssi: -48, mac: '02:e5:7a:00:00:01', channel: 6, ecn: 3 },
  { ssid: 'Warehouse-Guest', rssi: -79, mac: '02:e5:7a:00:00:02', channel: 11, ecn: 4 },
];

const OK = '\r\nOK\r\n';
const ERROR = '\r\nERROR\r\n';
const SYSMFG_TYPE: Readonly<Record<NvsValue['type'], number | undefined>> = {
  u8: 1,
  i8: 2,
  u16: 3,
  i16: 4,
  u32: 5,
  i32: 6,
  u64: undefined,
  i64: undefined,
  string: 7,
  blob: 8,
};

export class AtApp {
  private echo = true;
  private ready = false;
  private running = false;
  private input = Buffer.alloc(0);

  constructor(private readonly o: AtAppOptions) {}

  start(): void {
    this.o.uart.open(this.o.firmware.baud, (bytes) => this.receive(bytes));
    this.o.later(this.o.readyDelayMs, () => {
      this.ready = true;
      this.o.uart.transmit('\r\nready\r\n');
    });
  }

  private receive(bytes: Buffer): void {
    if (!this.ready) return;
    if (this.echo) this.o.uart.transmit(Buffer.from(bytes));
    this.input = Buffer.concat([this.input, bytes]);
    let end: number;
    while ((end = this.input.indexOf('\r\n')) >= 0) {
      const line = this.input.subarray(0, end).toString('latin1');
      this.input = this.input.subarray(end + 2);
      if (this.running) this.o.uart.transmit('busy p...\r\n');
      else this.command(line);
    }
    // A line too long for the AT parser's buffer is dropped.
    if (this.input.length > 1024) this.input = Buffer.alloc(0);
  }

  private reply(lines: readonly string[], final = OK): void {
    this.o.uart.transmit(lines.map((l) => `${l}\r\n`).join('') + final);
  }

  private command(line: string): void {
    const fw = this.o.firmware;
    switch (line) {
      case 'AT':
        return this.reply([]);
      case 'ATE0':
      case 'ATE1':
        this.echo = line === 'ATE1';
        return this.reply([]);
      case 'AT+GMR':
        return this.reply(this.gmr());
      case 'AT+CIPSTAMAC?':
        return this.reply([
          `+CIPSTAMAC:"${[...this.o.mac].map((b) => b.toString(16).padStart(2, '0')).join(':')}"`,
        ]);
      case 'AT+CWMODE?':
        return this.reply(['+CWMODE:1']);
      case 'AT+SYSMFG?':
        if (!fw.mfg) return this.reply([], ERROR);
        return this.reply(this.namespaces().map((ns) => `+SYSMFG:"${ns}"`));
      case 'AT+RST':
        this.reply([]);
        return this.o.later(20, () => this.o.restart());
    }
    if (line.startsWith('AT+SYSMFG=')) return this.sysmfg(line.slice('AT+SYSMFG='.length));
    if (line === 'AT+CWLAP' || line.startsWith('AT+CWLAP=')) return this.scan(line);
    this.reply([], ERROR);
  }

  private gmr(): string[] {
    const fw = this.o.firmware;
    const core = fw.binVersion?.replace(/^v/, '').replace(/-.*$/, '') ?? '0.0.0.0';
    const built = fw.compileTime.replace(/^\([^)]*\):/, '');
    return [
      `AT version:${core}(sim - ${this.o.target} - ${built})`,
      `SDK version:${fw.sdkVersion}`,
      `compile time${fw.compileTime}`,
      ...(fw.binVersion !== undefined ? [`Bin version:${fw.binVersion}(${fw.moduleName})`] : []),
    ];
  }

  private namespaces(): string[] {
    const seen = new Set<string>();
    for (const e of this.entries()) seen.add(e.namespace);
    return [...seen];
  }

  private entries(): NvsEntry[] {
    return (this.o.firmware.mfg?.items ?? []).filter((i): i is NvsEntry => i.kind === 'entry');
  }

  /** AT+SYSMFG=1[,"ns"[,"key"[,offset,length]]] reads; erase and write are not part of a factory test. */
  private sysmfg(args: string): void {
    const p = params(args);
    if (!p || p[0] !== '1' || !this.o.firmware.mfg) return this.reply([], ERROR);
    const [, ns, key, offset, length] = p;
    if (ns === undefined) return this.reply(this.namespaces().map((n) => `+SYSMFG:"${n}"`));
    const inNs = this.entries().filter((e) => e.namespace === ns);
    if (inNs.length === 0) return this.reply([], ERROR);
    if (key === undefined) {
      return this.reply(
        inNs.flatMap((e) => {
          const t = SYSMFG_TYPE[e.value.type];
          return t === undefined ? [] : [`+SYSMFG:"${ns}","${e.key}",${t}`];
        }),
      );
    }
    const e = inNs.find((x) => x.key === key);
    const type = e && SYSMFG_TYPE[e.value.type];
    if (!e || type === undefined) return this.reply([], ERROR);
    let bytes = valueBytes(e.value);
    if (offset !== undefined) {
      const from = Number(offset);
      const n = Number(length);
      if (!Number.isInteger(from) || !Number.isInteger(n) || from < 0 || n < 1 || from + n > bytes.length)
        return this.reply([], ERROR);
      bytes = bytes.subarray(from, from + n);
    }
    const head = Buffer.from(`+SYSMFG:"${ns}","${key}",${type},${bytes.length},`, 'latin1');
    this.o.uart.transmit(Buffer.concat([head, bytes, Buffer.from(`\r\n${OK}`, 'latin1')]));
  }

  private scan(line: string): void {
    let ssid: string | undefined;
    if (line !== 'AT+CWLAP') {
      const p = params(line.slice('AT+CWLAP='.length));
      if (!p || p.length === 0) return this.reply([], ERROR);
      ssid = p[0];
    }
    this.running = true;
    this.o.later(this.o.scanMs, () => {
      this.running = false;
      const heard = this.o.airwaves.filter((ap) => ssid === undefined || ap.ssid === ssid);
      this.reply(
        [...heard]
          .sort((a, b) => b.rssi - a.rssi)
          .map((ap) => `+CWLAP:(${ap.ecn},"${ap.ssid}",${ap.rssi},"${ap.mac}",${ap.channel},-1,-1,4,4,7,0)`),
      );
    });
  }
}

/** What AT+SYSMFG prints for a value: numbers in decimal, strings and blobs as their bytes. */
function valueBytes(v: NvsValue): Buffer {
  if (v.type === 'string') return Buffer.from(v.value, 'utf8');
  if (v.type === 'blob') return Buffer.from(v.value);
  return Buffer.from(String(v.value), 'latin1');
}

/** Set-command parameters: strings in double quotes (backslash escapes), numbers bare; undefined if malformed. */
function params(text: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"') {
      let v = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i++;
        v += text[i++] ?? '';
      }
      if (text[i] !== '"') return undefined;
      out.push(v);
      i++;
    } else {
      const m = /^-?\d+/.exec(text.slice(i));
      if (!m) return undefined;
      out.push(m[0]);
      i += m[0].length;
    }
    if (i < text.length) {
      if (text[i] !== ',') return undefined;
      i++;
      if (i === text.length) return undefined;
    }
  }
  return out;
}
