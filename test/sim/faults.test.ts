import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAULT_NAMES, formatFault, parseFault } from '../../src/sim/faults.ts';

test('parses every fault name with its argument', () => {
  assert.deepEqual(parseFault('no-sync'), { name: 'no-sync' });
  assert.deepEqual(parseFault('drop-bytes:0.01'), { name: 'drop-bytes', rate: 0.01 });
  assert.deepEqual(parseFault('bit-flip:1e-4'), { name: 'bit-flip', rate: 0.0001 });
  assert.deepEqual(parseFault('write-error'), { name: 'write-error' });
  assert.deepEqual(parseFault('write-error:0x10000'), { name: 'write-error', offset: 0x10000 });
  assert.deepEqual(parseFault('silent-corruption:0x8000'), { name: 'silent-corruption', offset: 0x8000 });
  assert.deepEqual(parseFault('disconnect:5000'), { name: 'disconnect', bytes: 5000 });
  assert.deepEqual(parseFault('slow-flash:3'), { name: 'slow-flash', factor: 3 });
  assert.deepEqual(parseFault('brownout:20000'), { name: 'brownout', bytes: 20000 });
  assert.deepEqual(parseFault('rom-error'), { name: 'rom-error', block: 0 });
  assert.deepEqual(parseFault('rom-error:7'), { name: 'rom-error', block: 7 });
  assert.deepEqual(parseFault('garbled-block'), { name: 'garbled-block', block: 0 });
  assert.deepEqual(parseFault('garbled-block:3'), { name: 'garbled-block', block: 3 });
  assert.deepEqual(parseFault('secure-boot'), { name: 'secure-boot' });
  assert.deepEqual(parseFault('flash-encryption'), { name: 'flash-encryption' });
  assert.deepEqual(parseFault('app-crash'), { name: 'app-crash' });
  assert.deepEqual(parseFault('at-dead'), { name: 'at-dead' });
  assert.deepEqual(parseFault('at-old-firmware'), { name: 'at-old-firmware' });
  assert.deepEqual(parseFault('at-bad-mfg'), { name: 'at-bad-mfg' });
  assert.deepEqual(parseFault('at-no-ap'), { name: 'at-no-ap' });
  assert.deepEqual(parseFault('slow-boot'), { name: 'slow-boot' });
  assert.deepEqual(parseFault('slow-boot:4000'), { name: 'slow-boot', ms: 4000 });
  assert.deepEqual(parseFault('bit-flip:1@20000+8'), {
    name: 'bit-flip',
    rate: 1,
    window: { from: 20000, bytes: 8 },
  });
  assert.equal(FAULT_NAMES.length, 18);
});

test('formatFault is the inverse of parseFault', () => {
  for (const text of [
    'no-sync',
    'drop-bytes:0.5',
    'write-error:0x10000',
    'disconnect:10',
    'slow-flash:2',
    'rom-error:3',
    'slow-boot:2500',
    'at-dead',
  ]) {
    assert.equal(formatFault(parseFault(text)), text);
  }
});

test('bad fault text says what is allowed', () => {
  assert.throws(() => parseFault('melt'), /unknown fault 'melt'; known faults: no-sync/);
  assert.throws(() => parseFault('drop-bytes'), /needs an argument: drop-bytes:RATE/);
  assert.throws(() => parseFault('drop-bytes:2'), /between 0 and 1/);
  assert.throws(() => parseFault('no-sync:1'), /takes no argument/);
  assert.throws(() => parseFault('disconnect:abc'), /not a number/);
  assert.throws(() => parseFault('slow-flash:0.5'), />= 1/);
  assert.throws(() => parseFault('rom-error:1.5'), /BLOCK must be a whole number/);
  assert.throws(() => parseFault('slow-boot:1.5'), /whole number of milliseconds/);
  assert.throws(() => parseFault('at-dead:1'), /takes no argument/);
});
