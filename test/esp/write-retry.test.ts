import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { EspError } from '../../src/esp/errors.ts';
import { esp8266RomEraseSize, writeRegion } from '../../src/esp/write-regions.ts';
import { fakeStubLoader } from '../support/fake-stub-loader.ts';

/** Fails chosen sends (by seq) with the given errors, in order. */
function fakeLoader(failures: Map<number, EspError[]>, flashMd5: string) {
  return fakeStubLoader({
    flashMd5,
    onBlock: (seq) => {
      const e = failures.get(seq)?.shift();
      if (e) throw e;
    },
  });
}

const data = new Uint8Array(40000).map((_, i) => (i * 31) & 0xff);
const md5 = createHash('md5').update(data).digest('hex');
const checksumErr = () => new EspError('checksum', 'bad checksum');

test('a block refused for its checksum is re-sent with the same seq and counted', async () => {
  const { loader, sent } = fakeLoader(new Map([[0, [checksumErr(), checksumErr()]]]), md5);
  const r = await writeRegion(loader, { offset: 0x10000, label: 'app', data, md5 }, { compress: true });
  assert.equal(r.retries, 2);
  assert.equal(sent.filter((s) => s === 'data 0').length, 3);
  assert.equal(sent.at(-1), 'end');
});

test('after blockRetries attempts the checksum error is final', async () => {
  const { loader } = fakeLoader(new Map([[0, [checksumErr(), checksumErr()]]]), md5);
  await assert.rejects(
    writeRegion(loader, { offset: 0, label: 'x', data, md5 }, { blockRetries: 2 }),
    (e: EspError) => e.kind === 'checksum',
  );
});

test('other errors are not retried', async () => {
  const { loader, sent } = fakeLoader(new Map([[0, [new EspError('write-error', 'flash')]]]), md5);
  await assert.rejects(
    writeRegion(loader, { offset: 0, label: 'x', data, md5 }),
    (e: EspError) => e.kind === 'write-error',
  );
  assert.equal(sent.filter((s) => s.startsWith('data')).length, 1);
});

test('a chip MD5 that differs is a verify-mismatch', async () => {
  const { loader } = fakeLoader(new Map(), '0'.repeat(32));
  await assert.rejects(
    writeRegion(loader, { offset: 0, label: 'x', data, md5 }),
    (e: EspError) => e.kind === 'verify-mismatch',
  );
});

test('the precomputed compressed stream is used as given', async () => {
  const { loader, sent } = fakeLoader(new Map(), md5);
  const compressed = new Uint8Array(0x4000 * 2 + 5);
  await writeRegion(loader, { offset: 0, label: 'x', data, md5, compressed });
  assert.equal(sent[0], `begin ${data.length} 3`);
});

test('ESP8266 ROM erase size workaround (§5.3)', () => {
  // 1 sector at sector 0: head = 1 → fewer than 2*head → ((1+1)/2) sectors.
  assert.equal(esp8266RomEraseSize(0, 4096), 4096);
  // 32 sectors from 0: head 16, 32 >= 32 → (32-16) sectors.
  assert.equal(esp8266RomEraseSize(0, 32 * 4096), 16 * 4096);
  // 3 sectors starting at sector 15: head = 1, 3 >= 2 → 2 sectors.
  assert.equal(esp8266RomEraseSize(15 * 4096, 3 * 4096), 2 * 4096);
  // 4 sectors from sector 2: head = 14 → 4, 4 < 8 → ((4+1)//2) = 2 sectors.
  assert.equal(esp8266RomEraseSize(2 * 4096, 4 * 4096), 2 * 4096);
});
