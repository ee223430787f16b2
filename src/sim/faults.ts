/**
 * Fault injection: each fault is a name with an optional argument, written `NAME[:ARG]`, usable from tests,
 * `esp-station sim --fault` and the demo. Wrong chip variants are not a fault: use the `chip` option.
 */
export type FaultSpec =
  /** The board never enters download mode (IO0 strap stuck high): it boots the app, SYNC goes unanswered. */
  | { name: 'no-sync' }
  /** Each byte on the wire (either direction) is lost with probability `rate` (only inside `window` if given). */
  | { name: 'drop-bytes'; rate: number; window?: ByteWindow }
  /** Each byte on the wire (either direction) has one bit flipped with probability `rate` (inside `window`). */
  | { name: 'bit-flip'; rate: number; window?: ByteWindow }
  /** Programming the sector at `offset` (default: the first sector programmed) fails, and the chip says so. */
  | { name: 'write-error'; offset?: number }
  /** Programming the sector at `offset` (default: the first sector programmed) stores wrong data silently. */
  | { name: 'silent-corruption'; offset?: number }
  /** The link (USB) drops after `bytes` bytes crossed it in either direction. */
  | { name: 'disconnect'; bytes: number }
  /** Erase and program take `factor` times longer. */
  | { name: 'slow-flash'; factor: number }
  /** The chip resets (brown-out) once, after it received `bytes` bytes. */
  | { name: 'brownout'; bytes: number }
  /**
   * The ROM answers flash data block number `block` (FLASH_DATA or FLASH_DEFL_DATA, counted from 0 since power-up)
   * with an error status (0x05, what a ROM says of a block it refuses) and writes nothing.
   */
  | { name: 'rom-error'; block: number }
  /**
   * Data block number `block` (MEM_DATA, FLASH_DATA or FLASH_DEFL_DATA, to the ROM or the stub, counted from 0 since
   * power-up) arrives with one payload byte damaged by line noise the SLIP framing did not see: its checksum fails.
   */
  | { name: 'garbled-block'; block: number }
  /** Secure boot is enabled in eFuse. */
  | { name: 'secure-boot' }
  /** Flash encryption is enabled in eFuse (FLASH_CRYPT_CNT odd). */
  | { name: 'flash-encryption' }
  /** The app panics right after it starts and the chip reboots into it again and again (a crash loop). */
  | { name: 'app-crash' }
  /** ESP-AT's AT port is silent: the module's TX line (GPIO17 on WROOM-32) reaches nothing. */
  | { name: 'at-dead' }
  /** The ESP-AT app that runs reports an older firmware version than the one flashed and verified. */
  | { name: 'at-old-firmware' }
  /** ESP-AT cannot read its mfg_nvs partition (nvs init fails): defaults, no factory parameters, no SYSMFG. */
  | { name: 'at-bad-mfg' }
  /** No access point in range: AT+CWLAP lists nothing. */
  | { name: 'at-no-ap' }
  /** The app needs `ms` longer (default 12000) until ESP-AT's `ready`. */
  | { name: 'slow-boot'; ms?: number };

export type FaultName = FaultSpec['name'];

/**
 * A burst of line noise instead of noise all along: wire bytes number `from` .. `from + bytes - 1`, counted in
 * both directions from power-up (as `SimBoard.stats` counts them). Written `RATE@FROM+BYTES`, e.g.
 * `bit-flip:1@20000+8`; lets a test aim the noise at one protocol phase.
 */
export interface ByteWindow {
  from: number;
  bytes: number;
}

interface FaultDoc {
  arg?: 'rate' | 'bytes' | 'factor' | 'offset' | 'block' | 'ms';
  required?: boolean;
  text: string;
}

export const FAULT_DOCS: Readonly<Record<FaultName, FaultDoc>> = {
  'no-sync': { text: 'wrong boot mode: the reset never enters download mode, SYNC is not answered' },
  'drop-bytes': {
    arg: 'rate',
    required: true,
    text: 'drop each wire byte with probability RATE (0..1); RATE@FROM+BYTES: only wire bytes FROM.. (a burst)',
  },
  'bit-flip': {
    arg: 'rate',
    required: true,
    text: 'flip one bit of each wire byte with probability RATE; RATE@FROM+BYTES: a burst',
  },
  'write-error': { arg: 'offset', text: 'a sector (default: first programmed) reports a program failure' },
  'silent-corruption': {
    arg: 'offset',
    text: 'a sector programs wrong data without error; only MD5 sees it',
  },
  disconnect: { arg: 'bytes', required: true, text: 'the link drops after BYTES bytes' },
  'slow-flash': { arg: 'factor', required: true, text: 'erase/program take FACTOR times longer' },
  brownout: { arg: 'bytes', required: true, text: 'the chip resets once after receiving BYTES bytes' },
  'rom-error': {
    arg: 'block',
    text: 'the ROM answers flash data block BLOCK (from 0 since power-up; default 0) with error 0x05',
  },
  'garbled-block': {
    arg: 'block',
    text: 'data block BLOCK (MEM/FLASH/FLASH_DEFL_DATA, from 0 since power-up; default 0) arrives damaged: bad checksum',
  },
  'secure-boot': { text: 'secure boot enabled in eFuse' },
  'flash-encryption': { text: 'flash encryption enabled in eFuse' },
  'app-crash': { text: 'the app panics right after it starts and the chip reboots, again and again' },
  'at-dead': { text: "ESP-AT's AT port is silent (its TX line reaches nothing)" },
  'at-old-firmware': { text: 'the ESP-AT app that runs reports an older version than was flashed' },
  'at-bad-mfg': { text: 'ESP-AT cannot read its mfg_nvs partition (defaults, no SYSMFG)' },
  'at-no-ap': { text: 'no Wi-Fi access point in range (AT+CWLAP lists nothing)' },
  'slow-boot': { arg: 'ms', text: "ESP-AT needs MS longer (default 12000) to say 'ready'" },
};

export const FAULT_NAMES = Object.keys(FAULT_DOCS) as FaultName[];

/** The byte-counted faults: the only ones a running board can be given later (`SimBoard.armFault`). */
export const ARMABLE_FAULTS: ReadonlySet<FaultName> = new Set([
  'disconnect',
  'brownout',
  'bit-flip',
  'drop-bytes',
]);

/** Parse `NAME[:ARG]`; throws an Error whose message says what is wrong and what is allowed. */
export function parseFault(text: string): FaultSpec {
  const colon = text.indexOf(':');
  const name = (colon < 0 ? text : text.slice(0, colon)).trim();
  const arg = colon < 0 ? undefined : text.slice(colon + 1).trim();
  if (!Object.hasOwn(FAULT_DOCS, name)) {
    throw new Error(`unknown fault '${name}'; known faults: ${FAULT_NAMES.join(', ')}`);
  }
  const doc = FAULT_DOCS[name as FaultName];
  if (doc.arg === 'rate' && arg?.includes('@')) {
    const m = /^([^@]+)@(\d+)\+(\d+)$/.exec(arg);
    if (!m || Number(m[3]) < 1) {
      throw new Error(`fault '${name}': write RATE@FROM+BYTES for a burst, e.g. ${name}:0.5@20000+16`);
    }
    const spec = parseFault(`${name}:${m[1]}`) as Extract<FaultSpec, { name: 'drop-bytes' | 'bit-flip' }>;
    return { ...spec, window: { from: Number(m[2]), bytes: Number(m[3]) } };
  }
  if (!doc.arg && arg !== undefined) throw new Error(`fault '${name}' takes no argument`);
  if (doc.required && (arg === undefined || arg === '')) {
    throw new Error(`fault '${name}' needs an argument: ${name}:${doc.arg?.toUpperCase()}`);
  }
  const n = arg === undefined || arg === '' ? undefined : Number(arg);
  if (arg !== undefined && arg !== '' && (n === undefined || !Number.isFinite(n))) {
    throw new Error(`fault '${name}': '${arg}' is not a number`);
  }
  switch (doc.arg) {
    case 'rate':
      if (n === undefined || n < 0 || n > 1) throw new Error(`fault '${name}': RATE must be between 0 and 1`);
      return { name: name as 'drop-bytes' | 'bit-flip', rate: n };
    case 'bytes':
      if (n === undefined || !Number.isInteger(n) || n < 0) {
        throw new Error(`fault '${name}': BYTES must be a whole number >= 0`);
      }
      return { name: name as 'disconnect' | 'brownout', bytes: n };
    case 'factor':
      if (n === undefined || n < 1) throw new Error(`fault '${name}': FACTOR must be >= 1`);
      return { name: 'slow-flash', factor: n };
    case 'offset':
      if (n !== undefined && (!Number.isInteger(n) || n < 0)) {
        throw new Error(`fault '${name}': OFFSET must be a flash address such as 0x10000`);
      }
      return n === undefined
        ? { name: name as 'write-error' | 'silent-corruption' }
        : { name: name as 'write-error' | 'silent-corruption', offset: n };
    case 'block':
      if (n !== undefined && (!Number.isInteger(n) || n < 0)) {
        throw new Error(`fault '${name}': BLOCK must be a whole number >= 0`);
      }
      return { name: name as 'rom-error' | 'garbled-block', block: n ?? 0 };
    case 'ms':
      if (n !== undefined && (!Number.isInteger(n) || n < 0)) {
        throw new Error(`fault '${name}': MS must be a whole number of milliseconds >= 0`);
      }
      return n === undefined ? { name: 'slow-boot' } : { name: 'slow-boot', ms: n };
    default:
      return { name } as FaultSpec;
  }
}

export function formatFault(f: FaultSpec): string {
  if ('rate' in f && f.window) return `${f.name}:${f.rate}@${f.window.from}+${f.window.bytes}`;
  if ('rate' in f) return `${f.name}:${f.rate}`;
  if ('bytes' in f) return `${f.name}:${f.bytes}`;
  if ('factor' in f) return `${f.name}:${f.factor}`;
  if ('offset' in f && f.offset !== undefined) return `${f.name}:0x${f.offset.toString(16)}`;
  if ('block' in f) return `${f.name}:${f.block}`;
  if ('ms' in f && f.ms !== undefined) return `${f.name}:${f.ms}`;
  return f.name;
}

/** Find the first fault of a kind. */
export function findFault<N extends FaultName>(
  faults: readonly FaultSpec[],
  name: N,
): Extract<FaultSpec, { name: N }> | undefined {
  return faults.find((f) => f.name === name) as Extract<FaultSpec, { name: N }> | undefined;
}
