import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatByteSize, parseByteSize } from '../../src/config/byte-size.ts';

test('sizes and offsets accept hex, decimal and KB/MB units', () => {
  assert.equal(parseByteSize('0x1000'), 4096);
  assert.equal(parseByteSize('0X3B000'), 0x3b000);
  assert.equal(parseByteSize('4096'), 4096);
  assert.equal(parseByteSize(4096), 4096);
  assert.equal(parseByteSize('4MB'), 4 * 1024 * 1024);
  assert.equal(parseByteSize('4 MB'), 4 * 1024 * 1024);
  assert.equal(parseByteSize('64KB'), 65536);
  assert.equal(parseByteSize('64k'), 65536);
  assert.equal(parseByteSize('2M'), 2 * 1024 * 1024);
});

test('anything else is rejected', () => {
  for (const bad of ['0x', '4 MiB', '-1', '1.5MB', 'four', '', '0x10g'])
    assert.equal(parseByteSize(bad), undefined, bad);
  assert.equal(parseByteSize(-5), undefined);
  assert.equal(parseByteSize(1.5), undefined);
});

test('sizes print the way ESP-IDF names them', () => {
  assert.equal(formatByteSize(4 * 1024 * 1024), '4MB');
  assert.equal(formatByteSize(0x2000), '8KB');
  assert.equal(formatByteSize(25392), '25392 B');
});
