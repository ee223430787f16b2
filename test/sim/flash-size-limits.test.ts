import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimBoard, type SimBoardOptions } from '../../src/sim/board.ts';
import { checksum, romSession, u32, uploadStub, type RawSimClient } from '../support/raw-sim-client.ts';

const MB = 1024 * 1024;

async function rom(t: { after(fn: () => void): void }, opts: SimBoardOptions) {
  const board = new SimBoard({ flashSize: '4MB', ...opts });
  const client = await romSession(board);
  t.after(() => board.powerOff());
  return { board, client };
}

function status(reply: { data: Buffer } | undefined, bytes = 4): number[] {
  assert.ok(reply, 'no reply');
  return [...reply.data.subarray(reply.data.length - bytes, reply.data.length - bytes + 2)];
}

async function begin(client: RawSimClient, op: number, size: number, offset: number, encWord: boolean) {
  const words = [size, Math.ceil(size / 0x400), 0x400, offset, ...(encWord ? [0] : [])];
  return status(await client.command(op, u32(...words), 0, 3000));
}

test('the ESP32 and ESP32-C3 ROMs assume 2 MB of flash until SPI_SET_PARAMS (as measured under QEMU)', async (t) => {
  for (const chip of ['esp32', 'esp32c3'] as const) {
    const { client } = await rom(t, { chip });
    const enc = chip !== 'esp32';
    assert.deepEqual(status(await client.command(0x0d, u32(0, 0))), [0, 0]);
    // Ending exactly at 2 MB is fine; one sector more is refused with 0x06, plain or compressed.
    assert.deepEqual(await begin(client, 0x02, 0x1000, 2 * MB - 0x1000, enc), [0, 0], chip);
    assert.deepEqual(await begin(client, 0x02, 0x2000, 2 * MB - 0x1000, enc), [1, 6], chip);
    assert.deepEqual(await begin(client, 0x10, 0x2000, 2 * MB - 0x1000, enc), [1, 6], chip);
    // Reads past it fail with 0x09, the reply still as long as a good one (32 hex MD5 characters).
    const md5 = await client.command(0x13, u32(3 * MB, 0x1000, 0, 0));
    assert.equal(md5?.data.length, 36);
    assert.deepEqual(status(md5), [1, 9]);
    const slow = await client.command(0x0e, u32(2 * MB - 32, 64));
    assert.equal(slow?.data.length, 68);
    assert.deepEqual(status(slow), [1, 9]);
    // SPI_SET_PARAMS (esptool's constants) moves the limit — both ways. (A success after a refusal still
    // carries the refusal's error byte, as on the real ROMs: only the first byte says it worked.)
    const params = (size: number) => u32(0, size, 0x10000, 0x1000, 0x100, 0xffff);
    assert.deepEqual(status(await client.command(0x0b, params(4 * MB))), [0, 9]);
    assert.deepEqual(await begin(client, 0x10, 0x2000, 2 * MB - 0x1000, enc), [0, 9], chip);
    assert.deepEqual(status(await client.command(0x13, u32(3 * MB, 0x1000, 0, 0))), [0, 9]);
    assert.deepEqual(await begin(client, 0x02, 0x2000, 4 * MB - 0x1000, enc), [1, 6], chip);
    assert.deepEqual(status(await client.command(0x0b, params(2 * MB))), [0, 6]);
    assert.deepEqual(await begin(client, 0x02, 0x2000, 2 * MB - 0x1000, enc), [1, 6], chip);
  }
});

test('the stub takes its flash size from RDID at start-up; writes and reads past it fail until SPI_SET_PARAMS', async (t) => {
  // A 4 MB part whose RDID capacity byte says 2 MB (0x15): the stub believes the id.
  const { board, client } = await rom(t, { chip: 'esp32', flashId: 0x1540ef });
  assert.equal(await uploadStub(client), true);
  const block = Buffer.alloc(0x1000, 0x42);
  const write = async (offset: number) => {
    let r = await client.command(0x02, u32(0x1000, 1, 0x4000, offset, 0));
    const codes = [r!.data[0]];
    r = await client.command(0x03, Buffer.concat([u32(0x1000, 0, 0, 0), block]), checksum(block));
    codes.push(r!.data[0]);
    // The write happens after the ack: its failure comes with the next command (END).
    r = await client.command(0x04, u32(1));
    codes.push(r!.data[0]);
    return codes;
  };
  assert.deepEqual(await write(3 * MB), [0, 0, 0xc4]);
  assert.ok(board.flash.read(3 * MB, 0x1000).every((b) => b === 0xff));
  assert.equal((await client.command(0x13, u32(3 * MB, 0x1000, 0, 0)))?.data[0], 0xc4);
  assert.equal((await client.command(0x0b, u32(0, 4 * MB, 0x10000, 0x1000, 0x100, 0xffff)))?.data[0], 0);
  assert.deepEqual(await write(3 * MB), [0, 0, 0]);
  assert.deepEqual(board.flash.read(3 * MB, 0x1000), block);
});
