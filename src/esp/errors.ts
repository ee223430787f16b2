/** Every failure of the protocol engine, with a sentence an operator can act on (§3). */
export type EspErrorKind =
  | 'no-sync'
  | 'wrong-boot-mode'
  | 'timeout'
  | 'disconnected'
  | 'aborted'
  | 'rom-error'
  | 'stub-error'
  | 'checksum'
  | 'write-error'
  | 'verify-mismatch'
  | 'unsupported'
  | 'protocol';

export interface EspErrorDetails {
  /** Opcode of the command that failed, when there was one. */
  op?: number;
  /** Raw status code: ROM error byte (0x00-0x69) or stub code (0xC0-0xFF). */
  code?: number;
  /** Boot log lines seen while connecting (wrong-boot-mode, no-sync). */
  bootLog?: readonly string[];
  cause?: unknown;
}

export class EspError extends Error {
  readonly kind: EspErrorKind;
  readonly op?: number;
  readonly code?: number;
  readonly bootLog?: readonly string[];

  constructor(kind: EspErrorKind, message: string, details: EspErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'EspError';
    this.kind = kind;
    this.op = details.op;
    this.code = details.code;
    this.bootLog = details.bootLog;
  }
}

export function isEspError(e: unknown, kind?: EspErrorKind): e is EspError {
  return e instanceof EspError && (kind === undefined || e.kind === kind);
}

/** ROM error byte → meaning (esptool docs / util.py, §3.1). */
export const ROM_ERRORS: Readonly<Record<number, string>> = {
  0x00: 'undefined error',
  0x01: 'the input parameter is invalid',
  0x02: 'failed to allocate memory',
  0x03: 'failed to send a message',
  0x04: 'failed to receive a message',
  0x05: 'the format of the received message is invalid (command not supported?)',
  0x06: 'message is ok, but the running result is wrong',
  0x07: 'checksum error',
  0x08: 'flash write error (read-back did not match)',
  0x09: 'flash read error',
  0x0a: 'flash read length error',
  0x0b: 'deflate failed',
  0x0c: 'deflate Adler-32 error',
  0x0d: 'deflate parameter error',
  0x0e: 'invalid RAM binary size',
  0x0f: 'invalid RAM binary address',
  0x64: 'invalid parameter',
  0x65: 'invalid format',
  0x66: 'description too long',
  0x67: 'bad encoding description',
  0x69: 'insufficient storage',
};

/** ROM flash-layer errors reported with first byte 0x60 (esptool issue #952). */
export const ROM_FLASH_LAYER_ERRORS: Readonly<Record<number, string>> = {
  0x01: 'flash operation failed',
  0x02: 'flash operation timed out',
  0x03: 'flash not initialised',
};

/** Stub error code (first status byte) → meaning (§3.2). */
export const STUB_ERRORS: Readonly<Record<number, string>> = {
  0xc0: 'bad data length',
  0xc1: 'bad data checksum',
  0xc2: 'bad block size',
  0xc3: 'invalid command',
  0xc4: 'SPI flash operation failed',
  0xc5: 'could not unlock the SPI flash (write protection)',
  0xc6: 'not in flash mode (data without begin)',
  0xc7: 'inflate error (bad compressed data)',
  0xc8: 'not enough data',
  0xc9: 'too much data',
  0xca: 'NAND program failed',
  0xcb: 'NAND erase failed',
  0xff: 'command not implemented',
};

function hex(n: number, width = 2): string {
  return `0x${n.toString(16).padStart(width, '0')}`;
}

export function romErrorMessage(code: number): string {
  return `ROM error ${hex(code)}: ${ROM_ERRORS[code] ?? 'unknown error'}`;
}

export function stubErrorMessage(code: number): string {
  return `stub error ${hex(code)}: ${STUB_ERRORS[code] ?? 'unknown error'}`;
}

/** The kind a status code maps to: checksum and flash failures get their own kinds for retry logic. */
export function kindForRomError(code: number): EspErrorKind {
  if (code === 0x07) return 'checksum';
  if (code === 0x08 || code === 0x09) return 'write-error';
  if (code === 0x05) return 'unsupported';
  return 'rom-error';
}

export function kindForStubError(code: number): EspErrorKind {
  if (code === 0xc1) return 'checksum';
  if (code === 0xc4 || code === 0xc5) return 'write-error';
  if (code === 0xff || code === 0xc3) return 'unsupported';
  return 'stub-error';
}
