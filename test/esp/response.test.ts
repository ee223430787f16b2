import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeResponse, isUnsupportedReply, statusError } from '../../src/esp/response.ts';
import {
  EspError,
  ROM_ERRORS,
  STUB_ERRORS,
  romErrorMessage,
  stubErrorMessage,
} from '../../src/esp/errors.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('ESP32 ROM READ_REG reply from esptool issue #613 decodes (§1.3)', () => {
  const r = decodeResponse(hex('01 0a 04 00 83 1d f0 00 00 00 00 00'));
  assert.ok(r);
  assert.equal(r.op, 0x0a);
  assert.equal(r.value, 0x00f01d83);
  assert.equal(statusError(r, 0), undefined);
});

test('ESP8266 ROM reply with two status bytes decodes', () => {
  const r = decodeResponse(hex('01 0a 02 00 01 c1 f0 ff 00 00'));
  assert.ok(r);
  assert.equal(r.value, 0xfff0c101);
  assert.equal(statusError(r, 0), undefined);
});

test('ROM checksum error reply from esptool issue #497 is a checksum error', () => {
  const r = decodeResponse(hex('01 03 04 00 07 12 20 07 01 07 00 00'));
  assert.ok(r);
  const err = statusError(r, 0);
  assert.ok(err instanceof EspError);
  assert.equal(err.kind, 'checksum');
  assert.equal(err.code, 7);
  assert.match(err.message, /FLASH_DATA failed: ROM error 0x07: checksum error/);
});

test('stub status is error-code first: C1 00 is a checksum error, C4 a write error', () => {
  const c1 = statusError(decodeResponse(hex('01 11 02 00 00 00 00 00 c1 00'))!, 0);
  assert.equal(c1?.kind, 'checksum');
  const c4 = statusError(decodeResponse(hex('01 11 02 00 00 00 00 00 c4 00'))!, 0);
  assert.equal(c4?.kind, 'write-error');
  assert.match(c4!.message, /stub error 0xc4: SPI flash operation failed/);
  const ff = statusError(decodeResponse(hex('01 d0 02 00 00 00 00 00 ff 00'))!, 0);
  assert.equal(ff?.kind, 'unsupported');
});

test('status sits after the expected payload (stub MD5: 16 raw bytes then 2 status)', () => {
  const md5 = Buffer.alloc(16, 0xab);
  const frame = Buffer.concat([hex('01 13 12 00 00 00 00 00'), md5, hex('00 00')]);
  const r = decodeResponse(frame)!;
  assert.equal(statusError(r, 16), undefined);
  // An error reply to a payload command carries only the status: read it at data[0].
  const bad = decodeResponse(hex('01 13 02 00 00 00 00 00 c4 00'))!;
  assert.equal(statusError(bad, 16)?.kind, 'write-error');
});

test('ROM flash-layer errors with first byte 0x60 are write errors', () => {
  const e = statusError(decodeResponse(hex('01 02 04 00 00 00 00 00 60 02 00 00'))!, 0);
  assert.equal(e?.kind, 'write-error');
  assert.match(e!.message, /timed out/);
});

test('frames that are not responses are ignored', () => {
  assert.equal(decodeResponse(hex('00 0a 04 00 00 00 00 00')), undefined);
  assert.equal(decodeResponse(hex('01 0a 04')), undefined);
  assert.equal(decodeResponse(Buffer.from('OHAI')), undefined);
});

test('a reply with a different opcode and status [x, 05] means unsupported', () => {
  const r = decodeResponse(hex('01 08 04 00 07 07 12 20 01 05 00 00'))!;
  assert.equal(isUnsupportedReply(r, 0x14), true);
  assert.equal(isUnsupportedReply(r, 0x08), false);
  const ok = decodeResponse(hex('01 08 04 00 07 07 12 20 00 00 00 00'))!;
  assert.equal(isUnsupportedReply(ok, 0x14), false);
});

test('every ROM and stub error code from §3 has a readable message', () => {
  const romCodes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0x64, 0x65, 0x66, 0x67, 0x69];
  for (const c of romCodes) {
    assert.ok(ROM_ERRORS[c], `ROM 0x${c.toString(16)}`);
    assert.doesNotMatch(romErrorMessage(c), /unknown/);
  }
  for (const c of [0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xff]) {
    assert.ok(STUB_ERRORS[c], `stub 0x${c.toString(16)}`);
    assert.doesNotMatch(stubErrorMessage(c), /unknown/);
  }
  assert.match(romErrorMessage(0x42), /unknown/);
});
