/**
 * Turning whatever went wrong into exactly one FailureCode and a sentence an operator can act on.
 */
import type { FailureCode } from '../ledger/failure-codes.ts';
import type { EspErrorKind } from '../esp/errors.ts';

/** A failure the pipeline decided on itself (guards, boot check): code and message are already final. */
export class StationFailure extends Error {
  constructor(
    readonly code: FailureCode,
    message: string,
  ) {
    super(message);
    this.name = 'StationFailure';
  }
}

/** Why the station aborted a board's pipeline: the board left, it took too long, or the station is stopping. */
export type AbortWhy = 'unplugged' | 'board-timeout' | 'station-stop';

export class StationAbort extends Error {
  constructor(
    readonly why: AbortWhy,
    message: string,
  ) {
    super(message);
    this.name = 'StationAbort';
  }
}

/** What the operator reads for each code when the underlying error gives nothing better. */
export const OPERATOR_ADVICE: Readonly<Record<FailureCode, string>> = {
  'no-sync':
    'The board did not answer the bootloader. Check the cable and power; if it has no auto-reset, hold BOOT while plugging it in.',
  'wrong-boot-mode':
    'The board started its application instead of download mode. Check the BOOT/EN auto-reset circuit, or hold BOOT while plugging it in.',
  'wrong-chip': 'This board has a different chip than the profile flashes. Set it aside for another product.',
  'flash-too-small':
    'The flash on this board is smaller than the image set needs. Use a module with more flash.',
  'chip-revision':
    "This board's chip revision is outside what the firmware accepts; it would not boot. Set it aside for engineering.",
  'security-enabled':
    'Secure boot or flash encryption is enabled on this board and the profile does not allow it. Set it aside for engineering.',
  'write-error':
    'Writing the flash failed even after retries at lower speeds. Re-seat the board and retest; if it fails again the module is faulty.',
  'verify-mismatch':
    'The flash content did not match the image after writing (MD5 differs). Retest once; a repeat means bad flash.',
  timeout:
    'The board stopped answering. Re-plug it and retest; a repeat points at the cable, hub or board power.',
  disconnected:
    'The board was unplugged or its USB link dropped before it was done. Plug it in again to retest.',
  'link-error':
    'The link to the board lost or garbled bytes even after retries at lower speeds, or could not be reached. Check the cable, the hub or the serial server, then retest; the board itself is probably fine.',
  'boot-check-failed':
    'After the reset the firmware did not start cleanly (its boot log on the download port). Retest once; a repeat means the board or image is wrong.',
  'at-no-channel':
    "This slot's AT port could not be used, so the board was flashed but not tested. Check the slot's AT cable and bridge, then retest.",
  'at-no-ready':
    "The firmware never said 'ready' on the AT port after the reset. Check the AT wiring of the slot; retest once, a repeat means the board does not start.",
  'at-slow-ready':
    "The firmware said 'ready' on the AT port, but later than allowed. Retest once; a board that is always slow has a power or flash problem.",
  'at-no-answer':
    'The firmware stopped answering AT commands on the AT port. Check the AT wiring (both directions); retest once.',
  'at-command-error':
    'The firmware refused a test command (ERROR): it is not the firmware the recipe flashes. Set the board aside for engineering.',
  'at-version-mismatch':
    "The firmware running is not the recipe's version, although the flash verified. Set the board aside for engineering; do not ship it.",
  'at-module-mismatch':
    "The firmware reports another module name than the recipe's factory parameters. Set the board aside for engineering.",
  'at-mac-mismatch':
    'The AT port answers with another MAC than the board flashed: the AT cable goes to another board. Fix the slot wiring and retest.',
  'at-mfg-mismatch':
    'The firmware cannot read back its manufacturing data (mfg_nvs) as written. Retest once; a repeat means the flash or the image is wrong.',
  'at-no-ap':
    "The radio did not find the line's test access point. Check the access point; if other boards find it, set this board aside (radio or antenna).",
  'identity-unavailable':
    'No serial number or credential could be reserved for this board, so nothing was written to it. Refill the identity pool (see the message), then retest.',
  internal:
    'esp-station hit an internal error. Retest the board and report the message to the station engineer.',
};

/**
 * Map the flasher's EspError kinds (src/esp/errors.ts) to the fixed list. Every kind is listed, so a new
 * kind does not compile until it is placed; `undefined` means "an internal error" (the flasher's own fault).
 */
const KIND_TO_CODE: Readonly<Record<EspErrorKind, FailureCode | undefined>> = {
  'no-sync': 'no-sync',
  'wrong-boot-mode': 'wrong-boot-mode',
  timeout: 'timeout',
  disconnected: 'disconnected',
  'rom-error': 'write-error',
  'stub-error': 'write-error',
  checksum: 'write-error',
  'write-error': 'write-error',
  'verify-mismatch': 'verify-mismatch',
  aborted: undefined,
  unsupported: undefined,
  // A reply that lost or gained a byte on the way (line noise, a flaky bridge or serial server).
  protocol: 'link-error',
};

/** Error kinds worth retrying a region (and then the board at a lower baud) for. */
const RETRYABLE_KINDS = new Set([
  'rom-error',
  'stub-error',
  'checksum',
  'write-error',
  'verify-mismatch',
  'timeout',
  'protocol',
]);

export function errorKind(err: unknown): string | undefined {
  if (
    err &&
    typeof err === 'object' &&
    'kind' in err &&
    typeof (err as { kind: unknown }).kind === 'string'
  ) {
    return (err as { kind: string }).kind;
  }
  return undefined;
}

/** Why a step is tried again, in the few words a slot tile has room for. */
const RETRY_REASONS: Readonly<Record<string, string>> = {
  timeout: 'no reply',
  checksum: 'garbled data',
  'verify-mismatch': 'MD5 mismatch',
  'write-error': 'write error',
  'rom-error': 'write error',
  'stub-error': 'write error',
  'no-sync': 'no sync',
  'wrong-boot-mode': 'not in download mode',
  protocol: 'unexpected reply',
  disconnected: 'link lost',
};

export function retryReason(err: unknown): string {
  return RETRY_REASONS[errorKind(err) ?? ''] ?? 'error';
}

export function isRetryableWriteError(err: unknown): boolean {
  const kind = errorKind(err);
  return kind !== undefined && RETRYABLE_KINDS.has(kind);
}

export interface Classified {
  code: FailureCode;
  message: string;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One code and one sentence for any error; `abortReason` wins because it says why the signal fired. */
export function classifyFailure(err: unknown, abortReason?: unknown): Classified {
  if (abortReason instanceof StationAbort) {
    if (abortReason.why === 'unplugged')
      return { code: 'disconnected', message: OPERATOR_ADVICE.disconnected };
    if (abortReason.why === 'board-timeout') return { code: 'timeout', message: abortReason.message };
    return { code: 'internal', message: 'The station was stopped before this board was done. Retest it.' };
  }
  if (err instanceof StationFailure) return { code: err.code, message: err.message };
  const unreachable = unreachablePort(err);
  if (unreachable) return { code: 'link-error', message: unreachable };
  const portProblem = portOpenProblem(err);
  if (portProblem) return { code: 'internal', message: portProblem };
  const kind = errorKind(err);
  const code =
    kind !== undefined && Object.hasOwn(KIND_TO_CODE, kind) ? KIND_TO_CODE[kind as EspErrorKind] : undefined;
  if (code) {
    // The flasher's own sentence says what it saw (e.g. the boot mode it found); the advice says what to do.
    const detail = errMessage(err).trim();
    return { code, message: detail ? `${OPERATOR_ADVICE[code]} (${detail})` : OPERATOR_ADVICE[code] };
  }
  return { code: 'internal', message: `${OPERATOR_ADVICE.internal} (${errMessage(err)})` };
}

/** Network errors of a TCP link that never came up: the serial server is not there. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** A remote port (socket://) that cannot be reached: a link failure, not the board's and not esp-station's. */
function unreachablePort(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (!code || !UNREACHABLE.has(code)) return undefined;
  return `The remote serial port cannot be reached (${errMessage(err)}). Check that the serial server (ser2net, esp-station sim) is running and listens on that address, then retest the board.`;
}

/** Opening the tty failed for a reason the station engineer fixes (not the board): say which. */
function portOpenProblem(err: unknown): string | undefined {
  const text = `${(err as { code?: unknown })?.code ?? ''} ${errMessage(err)}`;
  if (/EACCES|Permission denied/i.test(text)) {
    return `The station may not open the serial port (${errMessage(err)}). Add the station user to the dialout group (or a udev rule) and restart the station.`;
  }
  if (/EBUSY|Resource busy|Cannot lock port/i.test(text)) {
    return `The serial port is in use by another program (${errMessage(err)}), e.g. ModemManager or a terminal. Close it, then retest the board.`;
  }
  return undefined;
}
