/**
 * Byte-for-byte parity with Espressif's generator. The expected SHA-256 values were made by running
 * esp-idf-nvs-partition-gen 0.1.6 (github espressif/esp-idf-nvs-partition-gen, commit 95b06f4, the last
 * release before 0.1.7 changed the page stamping; ESP-AT v3.4's mfg_nvs.bin matches 0.1.6) on these inputs:
 *   cd test/fixtures/nvs/<case> && python3 -m esp_idf_nvs_partition_gen generate in.csv out.bin 0x8000
 *   sha256sum out.bin
 * The tool itself is not part of this repository; the hashes are its output. While this room was built,
 * ~900 random CSVs (every type, strings up to 3967 bytes, blobs up to 13 KB, tight partition sizes) were also
 * compared with the tool byte for byte, with no difference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { REPO_ROOT } from '../firmware/fixture-paths.ts';
import { decodePartition, findEntry, generatePartition, loadNvsCsv } from '../../src/nvs/index.ts';
import { walkNvs } from './nvs-walk.ts';

const CASES = path.join(REPO_ROOT, 'test/fixtures/nvs');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const PYTHON_OUTPUT: Record<string, string> = {
  'every-type': '2646f8bf4a4e2695677c6605d78cadb97d9b80acb419013fbc37c93498d9b2aa',
  'page-edges': '4f9e328891b564eea2874641ed09748aee8ef0dd0d3a0c006f8891fae9a923ee',
};

for (const [name, expected] of Object.entries(PYTHON_OUTPUT)) {
  test(`${name}: the same bytes as nvs_partition_gen.py 0.1.6, and they decode back to the CSV's values`, async () => {
    const partition = await loadNvsCsv(path.join(CASES, name, 'in.csv'));
    const bytes = generatePartition(partition, 0x8000);
    assert.equal(sha256(bytes), expected);
    const decoded = decodePartition(bytes);
    assert.deepEqual(decoded.problems, []);
    assert.deepEqual(decoded.partition, partition);
    assert.deepEqual(walkNvs(bytes).crcFailures, []);
  });
}

test('every-type: the 10000-byte blob spans three pages in three chunks, its index after the last', async () => {
  const bytes = generatePartition(await loadNvsCsv(path.join(CASES, 'every-type/in.csv')), 0x8000);
  const big = walkNvs(bytes).entries.filter((e) => e.key === 'big');
  const chunks = big.filter((e) => e.type === 0x42);
  assert.deepEqual(
    chunks.map((c) => c.chunk),
    [0, 1, 2],
  );
  assert.equal(new Set(chunks.map((c) => c.page)).size, 3);
  const index = big.find((e) => e.type === 0x48);
  assert.ok(index && index.page >= chunks[2].page);
  const { partition } = decodePartition(bytes);
  const value = findEntry(partition, 'blobs', 'big')?.value;
  assert.equal(value?.type, 'blob');
  assert.equal((value?.value as Uint8Array).length, 10000);
});

test('page-edges: the quirks land where the Python tool puts them', async () => {
  const walk = walkNvs(generatePartition(await loadNvsCsv(path.join(CASES, 'page-edges/in.csv')), 0x8000));
  const at = (key: string, type?: number) =>
    walk.entries
      .filter((e) => e.key === key && (type === undefined || e.type === type))
      .map((e) => [e.page, e.entry, e.span]);
  // A string that would end on the last entry moves to the next page (one entry early).
  assert.deepEqual(at('moved'), [[1, 0, 3]]);
  // A blob begun on the last entry writes a zero-byte chunk there.
  assert.deepEqual(at('zero_chunk', 0x42), [
    [1, 125, 1],
    [2, 0, 5],
  ]);
  // A chunk that fills its page sends the blob index to the next page.
  assert.deepEqual(at('fills_page', 0x48), [[3, 0, 1]]);
  assert.deepEqual(at('longest'), [[4, 0, 125]]);
  assert.deepEqual(at('last_entry'), [[4, 125, 1]]);
  assert.deepEqual(at('next_page'), [[5, 0, 1]]);
  assert.deepEqual(walk.states, ['full', 'full', 'full', 'full', 'full', 'full', 'full', 'blank']);
});
