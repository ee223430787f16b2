import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constants, deflateRawSync, deflateSync } from 'node:zlib';
import { BlockInflater } from '../../src/sim/inflater.ts';

function blocks(data: Buffer, size = 0x400): Buffer[] {
  const z = deflateSync(data, { level: 9 });
  const out: Buffer[] = [];
  for (let i = 0; i < z.length; i += size) out.push(z.subarray(i, i + size));
  return out;
}

function noisy(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x & 0x10000 ? x >>> 24 : i & 0xff;
  }
  return b;
}

async function inflateAll(parts: Buffer[]): Promise<Buffer> {
  const inf = new BlockInflater();
  try {
    const out: Buffer[] = [];
    for (const p of parts) out.push(await inf.push(p));
    return Buffer.concat(out);
  } finally {
    inf.close();
  }
}

test('block-wise inflate gives the original bytes; boards fed the same stream at once agree', async () => {
  const data = noisy(60000, 1);
  const parts = blocks(data);
  const results = await Promise.all(Array.from({ length: 4 }, () => inflateAll(parts)));
  for (const r of results) assert.deepEqual(r, data);
});

function adler32(d: Buffer): number {
  let a = 1;
  let b = 0;
  for (const x of d) {
    a = (a + x) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** zlib stream whose first blocks are byte-identical for every `tail`: header + full-flushed `head`. */
function sharedPrefixStream(head: Buffer, tail: Buffer): Buffer[] {
  const prefix = Buffer.concat([
    Buffer.from([0x78, 0xda]),
    deflateRawSync(head, { finishFlush: constants.Z_FULL_FLUSH }),
  ]);
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE(adler32(Buffer.concat([head, tail])));
  const rest = Buffer.concat([deflateRawSync(tail), trailer]);
  const split = (x: Buffer) =>
    Array.from({ length: Math.ceil(x.length / 0x400) }, (_, i) => x.subarray(i * 0x400, (i + 1) * 0x400));
  return [...split(prefix), ...split(rest)];
}

test('a stream that shares a cached prefix and then differs is still inflated correctly', async () => {
  const head = noisy(30000, 2);
  const tailA = noisy(20000, 3);
  const tailB = noisy(20000, 4);
  const a = sharedPrefixStream(head, tailA);
  const b = sharedPrefixStream(head, tailB);
  assert.deepEqual(a[0], b[0], 'the streams really share their first block');
  assert.deepEqual(await inflateAll(a), Buffer.concat([head, tailA]));
  // b's first blocks come from the cache; its own zlib state must catch up when the tail differs.
  assert.deepEqual(await inflateAll(b), Buffer.concat([head, tailB]));
});

test('bad zlib data rejects, also for a second board fed the same bytes', async () => {
  const junk = [Buffer.from('definitely not a zlib stream')];
  await assert.rejects(inflateAll(junk), /incorrect header check/);
  await assert.rejects(inflateAll(junk), /incorrect header check/);
});
