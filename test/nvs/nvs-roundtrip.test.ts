import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodePartition,
  generatePartition,
  INTEGER_TYPE_NAMES,
  NvsInputError,
} from '../../src/nvs/index.ts';
import type { NvsItem, NvsPartition } from '../../src/nvs/index.ts';
import { walkNvs } from './nvs-walk.ts';

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = x >> 16;
  }
  return out;
}

function everything(): NvsPartition {
  const items: NvsItem[] = [{ kind: 'namespace', name: 'ints' }];
  const limits = {
    u8: [0, 255],
    i8: [-128, 127],
    u16: [0, 65535],
    i16: [-32768, 32767],
    u32: [0, 4294967295],
    i32: [-2147483648, 2147483647],
  } as const;
  for (const [type, [min, max]] of Object.entries(limits)) {
    items.push({
      kind: 'entry',
      namespace: 'ints',
      key: `${type}_min`,
      value: { type: type as 'u8', value: min },
    });
    items.push({
      kind: 'entry',
      namespace: 'ints',
      key: `${type}_max`,
      value: { type: type as 'u8', value: max },
    });
  }
  items.push({
    kind: 'entry',
    namespace: 'ints',
    key: 'u64_max',
    value: { type: 'u64', value: 2n ** 64n - 1n },
  });
  items.push({
    kind: 'entry',
    namespace: 'ints',
    key: 'i64_min',
    value: { type: 'i64', value: -(2n ** 63n) },
  });
  items.push({
    kind: 'entry',
    namespace: 'ints',
    key: 'i64_max',
    value: { type: 'i64', value: 2n ** 63n - 1n },
  });
  items.push({ kind: 'namespace', name: 'strings' });
  items.push({ kind: 'entry', namespace: 'strings', key: 'empty', value: { type: 'string', value: '' } });
  items.push({
    kind: 'entry',
    namespace: 'strings',
    key: 'utf8',
    value: { type: 'string', value: 'Grüße, 工厂 ✓' },
  });
  // 3999 characters + NUL = 4000 bytes: a page's whole data area, the most nvs_flash stores in a string.
  items.push({
    kind: 'entry',
    namespace: 'strings',
    key: 'full_page',
    value: { type: 'string', value: 'z'.repeat(3999) },
  });
  items.push({
    kind: 'entry',
    namespace: 'strings',
    key: 'after',
    value: { type: 'string', value: 'x'.repeat(100) },
  });
  items.push({ kind: 'namespace', name: 'blobs' });
  items.push({
    kind: 'entry',
    namespace: 'blobs',
    key: 'empty',
    value: { type: 'blob', value: new Uint8Array(0) },
  });
  // More than two pages of data: at least three chunks on three pages.
  items.push({
    kind: 'entry',
    namespace: 'blobs',
    key: 'three_pages',
    value: { type: 'blob', value: pattern(9000, 7) },
  });
  items.push({
    kind: 'entry',
    namespace: 'blobs',
    key: 'small',
    value: { type: 'blob', value: pattern(33, 8) },
  });
  // Every integer type in a namespace of its own, opened implicitly by the entry.
  for (const type of INTEGER_TYPE_NAMES) {
    const value = type === 'u64' || type === 'i64' ? { type, value: 1n } : { type, value: 1 };
    items.push({ kind: 'entry', namespace: 'implicit', key: type, value } as NvsItem);
  }
  return { items };
}

test('every type, a 4000-byte string and a blob over three pages decode back to the same values; every CRC verifies', () => {
  const partition = everything();
  const bytes = generatePartition(partition, 0x10000);
  const walk = walkNvs(bytes);
  assert.deepEqual(walk.crcFailures, []);
  const chunks = walk.entries.filter((e) => e.key === 'three_pages' && e.type === 0x42);
  assert.ok(chunks.length >= 3, `chunks: ${chunks.length}`);
  assert.ok(new Set(chunks.map((c) => c.page)).size >= 3);
  const fullPage = walk.entries.find((e) => e.key === 'full_page');
  assert.deepEqual([fullPage?.entry, fullPage?.span], [0, 126]);
  const decoded = decodePartition(bytes);
  assert.deepEqual(decoded.problems, []);
  const expected = [...partition.items];
  expected.splice(
    expected.findIndex((i) => i.kind === 'entry' && i.namespace === 'implicit'),
    0,
    { kind: 'namespace', name: 'implicit' },
  );
  assert.deepEqual(decoded.partition, { items: expected });
  assert.deepEqual(walk.states.slice(-1), ['blank']);
  assert.ok(walk.states.slice(0, -1).every((s) => s === 'full'));
});

test('a value that does not fit its type, a string over 4000 bytes or a long key is refused with the reason', () => {
  const one = (value: unknown, key = 'k'): NvsPartition => ({
    items: [{ kind: 'entry', namespace: 'ns', key, value } as NvsItem],
  });
  assert.throws(
    () => generatePartition(one({ type: 'u8', value: 256 }), 0x3000),
    /ns\/k: 256 does not fit u8 \(0\.\.255\)/,
  );
  assert.throws(() => generatePartition(one({ type: 'i16', value: -40000 }), 0x3000), /does not fit i16/);
  assert.throws(() => generatePartition(one({ type: 'u32', value: 1.5 }), 0x3000), /not a whole number/);
  assert.throws(() => generatePartition(one({ type: 'u64', value: 2n ** 64n }), 0x3000), /does not fit u64/);
  assert.throws(
    () => generatePartition(one({ type: 'string', value: 'a'.repeat(4000) }), 0x3000),
    /string is 4000 bytes; NVS strings hold at most 3999/,
  );
  assert.throws(
    () => generatePartition(one({ type: 'u8', value: 1 }, 'a_key_of_16_char'), 0x3000),
    /key 'a_key_of_16_char' is 16 bytes long/,
  );
  assert.throws(() => generatePartition(one({ type: 'u8', value: 1 }, ''), 0x3000), /is empty/);
  assert.throws(
    () => generatePartition(one({ type: 'u8', value: 1 }), 0x3000 + 100),
    /not a multiple of 4096/,
  );
  assert.throws(
    () => generatePartition(one({ type: 'u8', value: 1 }), 0x2000),
    /too small; an NVS partition needs at least 0x3000/,
  );
});

test('a partition too small for its data says how large it must be', () => {
  const big: NvsPartition = {
    items: [
      { kind: 'entry', namespace: 'ns', key: 'blob', value: { type: 'blob', value: pattern(12000, 1) } },
    ],
  };
  assert.throws(
    () => generatePartition(big, 0x3000),
    (err: unknown) =>
      err instanceof NvsInputError &&
      /needs 4 pages plus the blank page .* 0x5000, but the partition is 0x3000/.test(err.message),
  );
  assert.equal(generatePartition(big, 0x5000).length, 0x5000);
});

test('a damaged entry is reported by page and entry and skipped; the rest still decodes', () => {
  const bytes = generatePartition(everything(), 0x10000);
  const walk = walkNvs(bytes);
  const target = walk.entries.find((e) => e.key === 'u16_max');
  assert.ok(target);
  const damaged = Uint8Array.from(bytes);
  damaged[target.page * 4096 + 64 + target.entry * 32 + 24] ^= 0x01;
  const decoded = decodePartition(damaged);
  assert.deepEqual(decoded.problems, [
    `page ${target.page} entry ${target.entry}: entry CRC does not verify; skipped`,
  ]);
  const keys = decoded.partition.items
    .filter((i) => i.kind === 'entry')
    .map((i) => (i.kind === 'entry' ? i.key : ''));
  assert.ok(!keys.includes('u16_max'));
  assert.ok(keys.includes('u16_min') && keys.includes('three_pages'));

  const blobChunk = walk.entries.find((e) => e.key === 'three_pages' && e.type === 0x42 && e.chunk === 1);
  assert.ok(blobChunk);
  const torn = Uint8Array.from(bytes);
  torn[blobChunk.page * 4096 + 64 + (blobChunk.entry + 1) * 32] ^= 0xff;
  const d2 = decodePartition(torn);
  assert.ok(d2.problems.some((p) => /data CRC of 'three_pages' does not verify/.test(p)));
  assert.ok(d2.problems.some((p) => /blob 'three_pages' is missing chunk 1 of/.test(p)));
  assert.ok(!d2.partition.items.some((i) => i.kind === 'entry' && i.key === 'three_pages'));
});

test('an all-0xFF region decodes to nothing, without problems', () => {
  const decoded = decodePartition(new Uint8Array(0x6000).fill(0xff));
  assert.deepEqual(decoded.partition.items, []);
  assert.deepEqual(decoded.problems, []);
  assert.ok(decoded.pages.every((p) => p.state === 'empty'));
});
