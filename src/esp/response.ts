/**
 * Decoding replies (§1.3): header, payload, and the status pair — ROM `[1, code, 0, 0]`
 * (2 bytes on ESP8266) versus stub `[code, 0]` — read the way esptool's `check_command` does.
 */
import { opName } from './commands.ts';
import {
  EspError,
  kindForRomError,
  kindForStubError,
  ROM_FLASH_LAYER_ERRORS,
  romErrorMessage,
  stubErrorMessage,
} from './errors.ts';

export interface Response {
  op: number;
  /** Header value word: READ_REG result, SYNC marker; junk otherwise. */
  value: number;
  /** Everything after the 8-byte header, status bytes included. */
  data: Buffer;
}

/** Parses a SLIP frame as a response; undefined for frames that are not responses (esptool skips them). */
export function decodeResponse(frame: Buffer): Response | undefined {
  if (frame.length < 8 || frame[0] !== 0x01) return undefined;
  const size = frame.readUInt16LE(2);
  // Trust the frame over the size field when they disagree; esptool does the same.
  const data = frame.subarray(8, 8 + Math.min(size, frame.length - 8));
  return { op: frame[1], value: frame.readUInt32LE(4), data };
}

/**
 * The two status bytes: right after `payloadLen` bytes of payload, or at data[0..2] when the reply is
 * shorter than that (how errors arrive for commands that normally carry a payload).
 */
export function statusBytes(resp: Response, payloadLen: number): [number, number] {
  const at = resp.data.length >= payloadLen + 2 ? payloadLen : 0;
  return [resp.data[at] ?? 0xff, resp.data[at + 1] ?? 0xff];
}

/** Throws the matching EspError when the status says the command failed. */
export function statusError(resp: Response, payloadLen: number): EspError | undefined {
  if (resp.data.length < 2) {
    return new EspError('protocol', `${opName(resp.op)} reply has no status bytes`, {
      op: resp.op,
    });
  }
  const [b0, b1] = statusBytes(resp, payloadLen);
  if (b0 === 0) return undefined;
  const cmd = opName(resp.op);
  if (b0 === 0x01) {
    return new EspError(kindForRomError(b1), `${cmd} failed: ${romErrorMessage(b1)}`, {
      op: resp.op,
      code: b1,
    });
  }
  if (b0 === 0x60) {
    return new EspError(
      'write-error',
      `${cmd} failed: ROM flash error 0x60${b1.toString(16).padStart(2, '0')}: ${ROM_FLASH_LAYER_ERRORS[b1] ?? 'unknown'}`,
      { op: resp.op, code: (0x60 << 8) | b1 },
    );
  }
  if (b0 >= 0xc0) {
    return new EspError(kindForStubError(b0), `${cmd} failed: ${stubErrorMessage(b0)}`, {
      op: resp.op,
      code: b0,
    });
  }
  return new EspError('protocol', `${cmd} failed with unknown status ${b0.toString(16)} ${b1.toString(16)}`, {
    op: resp.op,
    code: b0,
  });
}

/**
 * A reply to a different opcode with status `[≠0, 0x05]` is the ROM's "invalid message":
 * the command we sent is not supported by this loader (esptool `command()`).
 */
export function isUnsupportedReply(resp: Response, requestOp: number): boolean {
  return resp.op !== requestOp && resp.data.length >= 2 && resp.data[0] !== 0 && resp.data[1] === 0x05;
}
