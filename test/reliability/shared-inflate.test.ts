/**
 * The simulated stub shares inflated output between boards fed the same zlib stream (src/sim/inflater.ts).
 * A board that loses power mid-block must not leave a truncated result for the others: found by the soak,
 * where every board flashing in lockstep with a pulled one failed with "bad data length".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, inflateSync } from 'node:zlib';
import { BlockInflater } from '../../src/sim/inflater.ts';
import { codeLikeBytes } from '../../src/firmware/demo-image-set.ts';

test('a board closed mid-inflate never hands a truncated block to boards sharing its stream', async () => {
  // A stream no other test inflates (the cache is process-wide), in blocks like FLASH_DEFL_DATA's.
  const data = codeLikeBytes(512 * 1024, 0x5eed);
  const stream = deflateSync(data, { level: 9 });
  const blocks: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += 0x4000) blocks.push(stream.subarray(i, i + 0x4000));

  const leader = new BlockInflater();
  const follower = new BlockInflater();
  const got: Buffer[] = [];
  for (const [i, block] of blocks.entries()) {
    const led = leader.push(block);
    // The leader's board is pulled while its first block inflates; the follower arrives at the same block.
    if (i === 0) leader.close();
    led.catch(() => undefined);
    try {
      got.push(await follower.push(block));
    } catch {
      // A shared result that failed is re-done from scratch by the board's retry: a fresh stream.
      const retry = new BlockInflater();
      got.length = 0;
      for (const b of blocks.slice(0, i + 1)) got.push(await retry.push(b));
      for (const b of blocks.slice(i + 1)) got.push(await retry.push(b));
      retry.close();
      break;
    }
  }
  follower.close();
  const out = Buffer.concat(got);
  assert.equal(out.length, data.length, 'the whole stream inflated, no block short');
  assert.ok(out.equals(inflateSync(stream)));
});
