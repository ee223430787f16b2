/**
 * esp-flasher-stub receives into one of two frame buffers while it handles the other (src/frame_buffer.c): after
 * acknowledging a block it writes it to flash, and meanwhile one more frame can arrive. A frame that begins while
 * both buffers are taken is lost. A host that keeps one block ahead of the acknowledgements is as deep as the
 * chip allows; one that sends three blocks back to back while the flash is busy loses the third.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { SimBoard } from '../../src/sim/board.ts';
import {
  checksum,
  loadStubJson,
  romSession,
  u32,
  uploadStub,
  type RawSimClient,
} from '../support/raw-sim-client.ts';

// 192 KB that is not blank (so every page is programmed) and compresses to a few hundred bytes: each third of the
// stream is a short frame on the wire (tens of ms at 115200) that costs the flash ~200 ms of erase and program.
const IMAGE = Buffer.alloc(3 * 0x10000);
for (let i = 0; i < IMAGE.length; i++) IMAGE[i] = (i * 7) % 251;
const STREAM = deflateSync(IMAGE, { level: 9 });
const PART = Math.ceil(STREAM.length / 3);
const BLOCKS = [0, 1, 2].map((i) => STREAM.subarray(i * PART, (i + 1) * PART));
const OFFSET = 0x100000;

async function stubOnRealisticChip(t: { after(fn: () => void): void }) {
  // v1.0.0 erases without reading first, so the flash work per block does not depend on what the chip held.
  const board = new SimBoard({ chip: 'esp32', timing: 'realistic', flashSize: 4 * 0x100000 });
  t.after(() => board.powerOff());
  const client = await romSession(board);
  assert.equal(await uploadStub(client, loadStubJson(board.chip.stubName, 'v1.0.0')), true, 'OHAI');
  assert.equal(board.mode, 'stub');
  const begin = await client.command(0x10, u32(IMAGE.length, BLOCKS.length, PART, OFFSET, 0));
  assert.deepEqual([...begin!.data], [0, 0]);
  return { board, client };
}

const blockPayload = (seq: number) => Buffer.concat([u32(BLOCKS[seq].length, seq, 0, 0), BLOCKS[seq]]);
const acks = (client: RawSimClient) => client.frames.filter((f) => f[0] === 1 && f[1] === 0x11);

test('stub receive buffers: one block ahead of the acknowledgements, every block lands and the MD5 matches', async (t) => {
  const { board, client } = await stubOnRealisticChip(t);
  for (let seq = 0; seq < BLOCKS.length; seq++) {
    const reply = await client.command(0x11, blockPayload(seq), checksum(BLOCKS[seq]));
    assert.deepEqual([...reply!.data], [0, 0], `block ${seq}`);
  }
  const end = await client.command(0x12, u32(1), 0, 3000);
  assert.deepEqual([...end!.data], [0, 0]);
  assert.equal(board.framesDropped, 0);
  assert.ok(board.flash.read(OFFSET, IMAGE.length).equals(IMAGE));
});

test('stub receive buffers: three blocks sent back to back while the flash is busy — the third is lost, never acknowledged', async (t) => {
  const { board, client } = await stubOnRealisticChip(t);
  client.frames = [];
  // No waiting for acknowledgements: block 0 is handled, block 1 waits in the second buffer, block 2 begins while
  // the stub is still writing block 0.
  for (let seq = 0; seq < BLOCKS.length; seq++)
    await client.send(0x11, blockPayload(seq), checksum(BLOCKS[seq]));
  await client.until(() => acks(client).length >= 3, 1500);
  assert.equal(acks(client).length, 2, 'blocks 0 and 1 acknowledged, block 2 lost');
  assert.deepEqual(
    acks(client).map((f) => [...f.subarray(8)]),
    [
      [0, 0],
      [0, 0],
    ],
  );
  assert.equal(board.framesDropped, 1);
  // The write is short by block 2: END says so, and the flash does not hold the image.
  const end = await client.command(0x12, u32(1), 0, 3000);
  assert.notDeepEqual([...end!.data], [0, 0]);
  assert.equal(board.flash.read(OFFSET, IMAGE.length).equals(IMAGE), false);
});
