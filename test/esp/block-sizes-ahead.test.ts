import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { BlockInflater } from '../../src/esp/block-inflater.ts';
import { writeRegion } from '../../src/esp/write-regions.ts';
import { fakeStubLoader } from '../support/fake-stub-loader.ts';

test('each block is sent on the previous acknowledgement: its inflated size was learnt while that one was on the wire', async (t) => {
  // Half-compressible data (4 random bits a byte): several 16 KB compressed blocks.
  const big = new Uint8Array(200_000);
  for (let i = 0, x = 1; i < big.length; i++) big[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 28;
  const md5 = createHash('md5').update(big).digest('hex');
  const compressed = deflateSync(big, { level: 9 });
  const blocks = Math.ceil(compressed.length / 0x4000);
  assert.ok(blocks >= 4, `${blocks} blocks`);

  // Count the blocks whose size the host has started to learn (zlib's thread pool: ~1 ms per 16 KB).
  let learning = 0;
  const next = BlockInflater.prototype.next;
  BlockInflater.prototype.next = function (block: Uint8Array) {
    learning++;
    return next.call(this, block);
  };
  t.after(() => {
    BlockInflater.prototype.next = next;
  });

  const seen: { seq: number; learning: number }[] = [];
  const { loader } = fakeStubLoader({
    flashMd5: md5,
    onBlock: async (seq) => {
      // The block is on the wire (its 178 ms at 921600, here one turn of the event loop).
      await new Promise((resolve) => setImmediate(resolve));
      seen.push({ seq, learning });
    },
  });
  await writeRegion(
    loader,
    { offset: 0x10000, label: 'app', data: big, md5, compressed },
    { compress: true },
  );

  assert.equal(seen.length, blocks);
  for (const { seq, learning: n } of seen) {
    // While block `seq` is on the wire the next block's size is already being learnt, so nothing waits for
    // zlib between its acknowledgement and the next send.
    assert.equal(n, Math.min(seq + 2, blocks), `block ${seq}: sizes of ${n} blocks learnt`);
  }
});
