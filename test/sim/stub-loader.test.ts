import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { SimBoard, type SimBoardOptions } from '../../src/sim/board.ts';
import {
  checksum,
  loadStubJson,
  romSession,
  u32,
  uploadStub,
  type RawSimClient,
} from '../support/raw-sim-client.ts';

async function stubSession(t: { after(fn: () => void): void }, opts: SimBoardOptions = {}) {
  const board = new SimBoard({ chip: 'esp32', ...opts });
  t.after(() => board.powerOff());
  const client = await romSession(board);
  assert.equal(await uploadStub(client), true, 'OHAI');
  assert.equal(board.mode, 'stub');
  return { board, client };
}

function stubStatus(reply: { data: Buffer } | undefined): number[] {
  assert.ok(reply, 'no reply');
  return [...reply.data.subarray(reply.data.length - 2)];
}

async function writeBlocks(client: RawSimClient, offset: number, image: Buffer, compressed = false) {
  const payload = compressed ? deflateSync(image, { level: 9 }) : image;
  const blocks = Math.ceil(payload.length / 0x4000);
  const statuses: number[][] = [];
  statuses.push(
    stubStatus(await client.command(compressed ? 0x10 : 0x02, u32(image.length, blocks, 0x4000, offset, 0))),
  );
  for (let seq = 0; seq < blocks; seq++) {
    let chunk = payload.subarray(seq * 0x4000, (seq + 1) * 0x4000);
    if (!compressed && chunk.length < 0x4000)
      chunk = Buffer.concat([chunk, Buffer.alloc(0x4000 - chunk.length, 0xff)]);
    statuses.push(
      stubStatus(
        await client.command(
          compressed ? 0x11 : 0x03,
          Buffer.concat([u32(chunk.length, seq, 0, 0), chunk]),
          checksum(chunk),
        ),
      ),
    );
  }
  return statuses;
}

test('MEM_END into the uploaded stub: OHAI, then 2 status bytes and SYNC value 0', async (t) => {
  const { client } = await stubSession(t);
  const replies = await client.sync();
  assert.equal(replies.length, 8);
  for (const r of replies) assert.equal(r.value, 0);
  const reg = await client.command(0x0a, u32(0x40001000));
  assert.equal(reg?.value, 0x00f01d83);
  assert.deepEqual([...reg!.data], [0, 0]);
  assert.deepEqual(stubStatus(await client.command(0xee)), [0xc3, 0]);
  assert.deepEqual(
    stubStatus(await client.command(0x14)),
    [0xff, 0],
    'ESP32: no GET_SECURITY_INFO in the stub',
  );
});

test('MEM_END to an entry outside the uploaded code crashes the chip back into the app: no OHAI, no SYNC', async (t) => {
  const board = new SimBoard({ chip: 'esp32' });
  t.after(() => board.powerOff());
  const client = await romSession(board);
  const stub = loadStubJson('esp32');
  assert.equal(await uploadStub(client, { ...stub, entry: 0x40000000 }), false);
  await client.until(() => board.mode === 'app');
  assert.equal((await client.sync(200)).length, 0);
});

test('stub writes 0x4000 blocks (plain and compressed), MD5 is 16 raw bytes, END with data missing fails', async (t) => {
  const { board, client } = await stubSession(t);
  const image = Buffer.alloc(0x9000);
  for (let i = 0; i < image.length; i++) image[i] = (i * 7 + (i >> 8)) & 0xff;
  board.flash.program(0x40000, Buffer.alloc(0x10000, 0)); // dirty: the stub must erase before writing
  for (const s of await writeBlocks(client, 0x40000, image)) assert.deepEqual(s, [0, 0]);
  assert.deepEqual(stubStatus(await client.command(0x04, u32(1))), [0, 0]);
  assert.deepEqual(board.flash.read(0x40000, image.length), image);
  const md5 = await client.command(0x13, u32(0x40000, image.length, 0, 0));
  assert.deepEqual(md5?.data.subarray(0, 16), createHash('md5').update(image).digest());
  for (const s of await writeBlocks(client, 0x80000, image, true)) assert.deepEqual(s, [0, 0]);
  assert.deepEqual(stubStatus(await client.command(0x12, u32(1))), [0, 0]);
  assert.deepEqual(board.flash.read(0x80000, image.length), image);
  // Announce 0x9000 bytes, send one block, END: bytes are missing.
  await client.command(0x02, u32(0x9000, 3, 0x4000, 0xc0000, 0));
  assert.deepEqual(stubStatus(await client.command(0x04, u32(1))), [0xc0, 0]);
  assert.deepEqual(stubStatus(await client.command(0x04, u32(1))), [0xc6, 0], 'not in flash mode any more');
});

test('a failed deferred write is reported on the next command, not on the block itself', async (t) => {
  const { client } = await stubSession(t, { faults: ['write-error:0x10000'] });
  const image = Buffer.alloc(0x8000, 0x11);
  const statuses = await writeBlocks(client, 0x10000, image);
  assert.deepEqual(statuses, [
    [0, 0],
    [0, 0],
    [0xc4, 0],
  ]);
  // Block 0 was acked and failed in the background; block 1 carried the error and was not taken.
  assert.deepEqual(stubStatus(await client.command(0x04, u32(1))), [0xc0, 0], 'data missing at END');
});

test('ERASE_REGION needs 4 KB alignment; ERASE_FLASH erases everything', async (t) => {
  const { board, client } = await stubSession(t);
  board.flash.program(0x1000, Buffer.alloc(0x3000, 0));
  assert.deepEqual(stubStatus(await client.command(0xd1, u32(0x1800, 0x1000))), [0xc0, 0]);
  assert.deepEqual(stubStatus(await client.command(0xd1, u32(0x2000, 0x1000))), [0, 0]);
  assert.deepEqual(board.flash.read(0x2000, 0x1000), Buffer.alloc(0x1000, 0xff));
  assert.deepEqual(board.flash.read(0x1000, 4), Buffer.alloc(4, 0));
  assert.deepEqual(stubStatus(await client.command(0xd0)), [0, 0]);
  assert.equal(board.flash.allocatedBytes, 0);
});

test('READ_FLASH: reply, one packet in flight until acked, then the MD5 trailer', async (t) => {
  const { board, client } = await stubSession(t);
  const data = Buffer.alloc(0x2800);
  for (let i = 0; i < data.length; i++) data[i] = (i ^ (i >> 5)) & 0xff;
  board.flash.program(0x100000, data);
  assert.deepEqual(stubStatus(await client.command(0xd2, u32(0x100000, data.length, 0x1000, 64))), [0, 0]);
  const packets = () => client.frames.filter((f) => f[0] !== 1);
  await client.until(() => packets().length >= 1);
  assert.equal(await client.until(() => packets().length >= 2, 100), false, 'waits for the ack');
  let received = 0;
  const got: Buffer[] = [];
  while (received < data.length) {
    await client.until(() => packets().length > got.length);
    const p = packets()[got.length];
    got.push(p);
    received += p.length;
    await client.sendRaw(u32(received));
  }
  assert.deepEqual(Buffer.concat(got), data);
  assert.deepEqual(
    got.map((p) => p.length),
    [0x1000, 0x1000, 0x800],
  );
  await client.until(() => packets().length > got.length);
  assert.deepEqual(packets()[got.length], createHash('md5').update(data).digest());
});

test('stub CHANGE_BAUDRATE switches to exactly the requested rate after replying', async (t) => {
  const { board, client } = await stubSession(t);
  assert.deepEqual(stubStatus(await client.command(0x0f, u32(460800, 115200))), [0, 0]);
  assert.equal(board.chipBaud, 460800);
  client.link.setBaud(460800);
  assert.equal(await client.readReg(0x40001000), 0x00f01d83);
});
