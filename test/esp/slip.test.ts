import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlipDecoder, slipEncode } from '../../src/esp/slip.ts';

function collect() {
  const frames: Buffer[] = [];
  const text: string[] = [];
  const errors: Error[] = [];
  const dec = new SlipDecoder({
    onFrame: (f) => frames.push(f),
    onText: (l) => text.push(l),
    onError: (e) => errors.push(e),
  });
  return { dec, frames, text, errors };
}

test('encode escapes 0xDB before 0xC0 and delimits both ends (§1.1)', () => {
  assert.deepEqual(
    [...slipEncode(Buffer.from([0x01, 0xc0, 0xdb, 0x02]))],
    [0xc0, 0x01, 0xdb, 0xdc, 0xdb, 0xdd, 0x02, 0xc0],
  );
  assert.deepEqual([...slipEncode(Buffer.from([0xdb, 0xdc]))], [0xc0, 0xdb, 0xdd, 0xdc, 0xc0]);
});

test('READ_REG 0x40001000 request matches the wire example in §1.2', async () => {
  const { encodeRequest, readRegPayload, Op } = await import('../../src/esp/commands.ts');
  const wire = slipEncode(encodeRequest(Op.READ_REG, readRegPayload(0x40001000)));
  assert.equal(wire.toString('hex'), 'c0000a04000000000000100040c0');
});

test('decode round-trips every byte value', () => {
  const { dec, frames } = collect();
  const payload = Buffer.from(Array.from({ length: 512 }, (_, i) => i & 0xff));
  dec.push(slipEncode(payload));
  assert.equal(frames.length, 1);
  assert.deepEqual(frames[0], payload);
});

test('frames split across reads at every position, and several frames in one read', () => {
  const a = Buffer.from([1, 0xc0, 2, 0xdb, 3]);
  const b = Buffer.from([9, 9, 9]);
  const wire = Buffer.concat([slipEncode(a), slipEncode(b)]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const { dec, frames } = collect();
    dec.push(wire.subarray(0, cut));
    dec.push(wire.subarray(cut));
    assert.deepEqual(frames, [a, b], `cut at ${cut}`);
  }
  const { dec, frames } = collect();
  for (const byte of wire) dec.push(Buffer.from([byte]));
  assert.deepEqual(frames, [a, b]);
});

test('text between frames is kept as lines; CR dropped', () => {
  const { dec, frames, text } = collect();
  dec.push(
    Buffer.from(
      'ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT)\r\nwaiting for download\r\n',
    ),
  );
  dec.push(slipEncode(Buffer.from([1, 2, 3])));
  dec.push(Buffer.from('after\n'));
  assert.deepEqual(text, [
    'ets Jun  8 2016 00:22:57',
    'rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT)',
    'waiting for download',
    'after',
  ]);
  assert.equal(frames.length, 1);
});

test('a partial text line is flushed as a line when a frame starts', () => {
  const { dec, text, frames } = collect();
  dec.push(Buffer.from('no newline'));
  assert.equal(dec.pendingText(), 'no newline');
  dec.push(slipEncode(Buffer.from([7])));
  assert.deepEqual(text, ['no newline']);
  assert.equal(frames.length, 1);
});

test('bad escape drops that frame only and is reported', () => {
  const { dec, frames, errors } = collect();
  dec.push(Buffer.from([0xc0, 1, 0xdb, 0x01, 2, 0xc0]));
  dec.push(slipEncode(Buffer.from([5, 6])));
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /Invalid SLIP escape/);
  assert.deepEqual(frames, [Buffer.from([5, 6])]);
});

test('escape followed by END ends the bad frame; the next frame still decodes', () => {
  const { dec, frames, errors } = collect();
  dec.push(Buffer.from([0xc0, 1, 0xdb, 0xc0]));
  dec.push(slipEncode(Buffer.from([8])));
  assert.equal(errors.length, 1);
  assert.deepEqual(frames, [Buffer.from([8])]);
});

test('back-to-back END bytes do not produce empty frames', () => {
  const { dec, frames } = collect();
  dec.push(Buffer.from([0xc0, 0xc0, 0xc0, 4, 0xc0]));
  assert.deepEqual(frames, [Buffer.from([4])]);
});

test('oversize frames are rejected without swallowing the next frame', () => {
  const frames: Buffer[] = [];
  const errors: Error[] = [];
  const dec = new SlipDecoder({ onFrame: (f) => frames.push(f), onError: (e) => errors.push(e) }, 8);
  dec.push(slipEncode(Buffer.alloc(20, 1)));
  dec.push(slipEncode(Buffer.from([2])));
  assert.equal(errors.length, 1);
  assert.deepEqual(frames, [Buffer.from([2])]);
});

test('reset drops a partial frame', () => {
  const { dec, frames } = collect();
  dec.push(Buffer.from([0xc0, 1, 2]));
  dec.reset();
  dec.push(slipEncode(Buffer.from([3])));
  assert.deepEqual(frames, [Buffer.from([3])]);
});
