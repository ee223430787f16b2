import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SlipDecoder, slipEncode } from '../../src/sim/slip.ts';

function decodeAll(...chunks: number[][]): Buffer[] {
  const out: Buffer[] = [];
  const d = new SlipDecoder((f) => out.push(f));
  for (const c of chunks) d.push(Uint8Array.from(c));
  return out;
}

test('encodes 0xDB before 0xC0 and frames with 0xC0 at both ends', () => {
  assert.deepEqual(
    slipEncode(Uint8Array.from([1, 0xc0, 0xdb, 2])),
    Buffer.from([0xc0, 1, 0xdb, 0xdc, 0xdb, 0xdd, 2, 0xc0]),
  );
});

test('decodes frames split across chunks and ignores bytes outside frames', () => {
  const frames = decodeAll([0x41, 0x42, 0xc0, 1, 0xdb], [0xdc, 2, 0xc0, 0x0d, 0x0a, 0xc0, 3, 0xc0]);
  assert.deepEqual(frames, [Buffer.from([1, 0xc0, 2]), Buffer.from([3])]);
});

test('a frame with a bad escape is dropped; the next frame still decodes', () => {
  const frames = decodeAll([0xc0, 1, 0xdb, 0x01, 2, 0xc0, 0xc0, 9, 0xc0]);
  assert.deepEqual(frames, [Buffer.from([9])]);
});

test('round-trips every byte value', () => {
  const payload = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(decodeAll([...slipEncode(payload)]), [Buffer.from(payload)]);
});
