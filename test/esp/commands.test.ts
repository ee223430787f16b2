import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Op,
  beginPayload,
  changeBaudPayload,
  checksum,
  dataBlockPayload,
  encodeRequest,
  flashEndPayload,
  md5Payload,
  memEndPayload,
  opName,
  spiAttachPayload,
  spiSetParamsPayload,
  syncPayload,
  writeRegPayload,
} from '../../src/esp/commands.ts';
import { slipEncode } from '../../src/esp/slip.ts';

test('SYNC on the wire is 46 bytes as in §1.2', () => {
  const wire = slipEncode(encodeRequest(Op.SYNC, syncPayload()));
  assert.equal(wire.length, 46);
  assert.equal(wire.subarray(0, 13).toString('hex'), 'c000082400000000000707122055'.slice(0, 26));
  assert.ok(wire.subarray(13, 45).every((b) => b === 0x55));
  assert.equal(wire[45], 0xc0);
});

test('checksum is XOR seeded with 0xEF over the data only (§1.4)', () => {
  assert.equal(checksum(new Uint8Array([])), 0xef);
  assert.equal(checksum(new Uint8Array([0xef])), 0);
  assert.equal(checksum(new Uint8Array([1, 2, 4])), 0xef ^ 7);
  const data = new Uint8Array([0x10, 0x20, 0x30]);
  const req = encodeRequest(Op.FLASH_DATA, dataBlockPayload(data, 5), checksum(data));
  assert.equal(req.readUInt32LE(4), 0xef ^ 0x10 ^ 0x20 ^ 0x30);
  assert.equal(req.readUInt16LE(2), 16 + 3);
  assert.equal(req.readUInt32LE(8), 3); // data_len
  assert.equal(req.readUInt32LE(12), 5); // seq
  assert.deepEqual([...req.subarray(24)], [0x10, 0x20, 0x30]);
});

test('FLASH_BEGIN has 16 bytes for the ESP32 ROM and 20 with the encrypted word', () => {
  const rom = beginPayload(0x2000, 8, 0x400, 0x10000);
  assert.equal(rom.length, 16);
  assert.deepEqual(
    [0, 4, 8, 12].map((o) => rom.readUInt32LE(o)),
    [0x2000, 8, 0x400, 0x10000],
  );
  const s2 = beginPayload(0x2000, 8, 0x400, 0x10000, false);
  assert.equal(s2.length, 20);
  assert.equal(s2.readUInt32LE(16), 0);
});

test('SPI_ATTACH is 8 bytes to the ROM, 4 to the stub', () => {
  assert.equal(spiAttachPayload(0, true).length, 8);
  assert.equal(spiAttachPayload(0, false).length, 4);
});

test('SPI_SET_PARAMS carries the esptool constants (§10.3)', () => {
  const p = spiSetParamsPayload(4 * 1024 * 1024);
  assert.deepEqual(
    [0, 4, 8, 12, 16, 20].map((o) => p.readUInt32LE(o)),
    [0, 0x400000, 0x10000, 0x1000, 0x100, 0xffff],
  );
});

test('MEM_END sends flag 0 to execute an entry point, 1 without one', () => {
  const run = memEndPayload(0x400a902c);
  assert.equal(run.readUInt32LE(0), 0);
  assert.equal(run.readUInt32LE(4), 0x400a902c);
  assert.equal(memEndPayload(0).readUInt32LE(0), 1);
});

test('FLASH_END flag 1 means stay in the loader', () => {
  assert.equal(flashEndPayload(false).readUInt32LE(0), 1);
  assert.equal(flashEndPayload(true).readUInt32LE(0), 0);
});

test('WRITE_REG entries are addr, value, mask, delay', () => {
  const p = writeRegPayload([
    { addr: 0x3ff42000, value: 1 << 18 },
    { addr: 4, value: 5, mask: 6, delayUs: 7 },
  ]);
  assert.equal(p.length, 32);
  assert.deepEqual(
    [0, 4, 8, 12, 16, 20, 24, 28].map((o) => p.readUInt32LE(o)),
    [0x3ff42000, 1 << 18, 0xffffffff, 0, 4, 5, 6, 7],
  );
});

test('CHANGE_BAUDRATE and SPI_FLASH_MD5 payloads', () => {
  const b = changeBaudPayload(921600, 0);
  assert.deepEqual([b.readUInt32LE(0), b.readUInt32LE(4)], [921600, 0]);
  const m = md5Payload(0x10000, 0x1234);
  assert.deepEqual(
    [0, 4, 8, 12].map((o) => m.readUInt32LE(o)),
    [0x10000, 0x1234, 0, 0],
  );
});

test('opName names known opcodes and shows unknown ones in hex', () => {
  assert.equal(opName(0x13), 'SPI_FLASH_MD5');
  assert.equal(opName(0x42), '0x42');
});

test('oversize payloads are refused', () => {
  assert.throws(() => encodeRequest(Op.FLASH_DATA, new Uint8Array(0x10000)), RangeError);
});

test('RequestEncoder produces the same wire bytes as encodeRequest + slipEncode, reusing its buffer', async () => {
  const { RequestEncoder } = await import('../../src/esp/request-encoder.ts');
  const enc = new RequestEncoder(16);
  const data = Buffer.from([0xc0, 0xdb, 0x01, 0xc0, 0xdd, 0xdc]);
  const check = checksum(data);
  const viaParts = Buffer.from(enc.encode(Op.FLASH_DATA, [enc.dataBlockHeader(data.length, 7), data], check));
  const reference = slipEncode(encodeRequest(Op.FLASH_DATA, dataBlockPayload(data, 7), check));
  assert.deepEqual(viaParts, reference);
  const big = new Uint8Array(0x4000).fill(0xc0);
  const a = enc.encode(Op.FLASH_DEFL_DATA, [enc.dataBlockHeader(big.length, 1), big], checksum(big));
  assert.deepEqual(
    Buffer.from(a),
    slipEncode(encodeRequest(Op.FLASH_DEFL_DATA, dataBlockPayload(big, 1), checksum(big))),
  );
  const b = enc.encode(Op.SYNC, [syncPayload()]);
  assert.equal(b.buffer, a.buffer, 'the buffer is reused');
  assert.deepEqual(Buffer.from(b), slipEncode(encodeRequest(Op.SYNC, syncPayload())));
});
