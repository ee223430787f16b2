import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  buildPartitionTable,
  partitionLayoutProblems,
  partitionSubtypeName,
  partitionTableEnd,
  partitionTypeName,
  parsePartitionTable,
} from '../../src/firmware/partition-table.ts';
import type { PartitionEntry } from '../../src/firmware/partition-table.ts';
import { REAL_AT_DIR } from './fixture-paths.ts';

const e = (label: string, type: number, subtype: number, offset: number, size: number): PartitionEntry => ({
  label,
  type,
  subtype,
  offset,
  size,
  encrypted: false,
  readonly: false,
});

test('the real ESP-AT main table: six entries, no MD5 line (CONFIG_PARTITION_TABLE_MD5 off), ends at 4MB', () => {
  const p = parsePartitionTable(readFileSync(path.join(REAL_AT_DIR, 'partition_table/partition-table.bin')));
  assert.ok(p.ok);
  assert.deepEqual(p.problems, []);
  assert.equal(p.table.md5, 'absent');
  assert.deepEqual(
    p.table.entries.map((x) => [
      x.label,
      partitionTypeName(x.type),
      partitionSubtypeName(x.type, x.subtype),
      x.offset,
      x.size,
    ]),
    [
      ['phy_init', 'data', 'phy', 0xf000, 0x1000],
      ['otadata', 'data', 'ota', 0x10000, 0x2000],
      ['nvs', 'data', 'nvs', 0x12000, 0xe000],
      ['at_customize', '0x40', '0x00', 0x20000, 0xe0000],
      ['ota_0', 'app', 'ota_0', 0x100000, 0x180000],
      ['ota_1', 'app', 'ota_1', 0x280000, 0x180000],
    ],
  );
  assert.equal(partitionTableEnd(p.table), 0x400000);
  assert.deepEqual(partitionLayoutProblems(p.table, { firstUsableOffset: 0x9000 }), []);
});

test('the real at_customize.bin parses as a table with a correct MD5 line', () => {
  const p = parsePartitionTable(readFileSync(path.join(REAL_AT_DIR, 'at_customize.bin')));
  assert.ok(p.ok);
  assert.equal(p.table.md5, 'ok');
  assert.deepEqual(
    p.table.entries.map((x) => [x.label, x.offset, x.size]),
    [
      ['mfg_nvs', 0x21000, 0x1c000],
      ['fatfs', 0x70000, 0x90000],
    ],
  );
});

test('build → parse round trip, flags included; a flipped byte fails the MD5 check', () => {
  const entries = [
    e('nvs', 1, 2, 0x9000, 0x6000),
    { ...e('factory', 0, 0, 0x10000, 0x100000), readonly: true, encrypted: true },
  ];
  const bin = buildPartitionTable(entries);
  assert.equal(bin.length, 0xc00);
  assert.deepEqual(bin.subarray(64, 66), Uint8Array.from([0xeb, 0xeb]));
  const p = parsePartitionTable(bin);
  assert.ok(p.ok);
  assert.equal(p.table.md5, 'ok');
  assert.deepEqual(p.table.entries, entries);
  bin[8] ^= 1; // size of nvs
  const q = parsePartitionTable(bin);
  assert.ok(q.ok);
  assert.equal(q.table.md5, 'mismatch');
  assert.match(q.problems[0], /MD5 line says .* but the entries hash to/);
  assert.equal(parsePartitionTable(buildPartitionTable(entries, { md5: false })).ok, true);
});

test('garbage is not a table; a missing end marker is reported', () => {
  const junk = new Uint8Array(0xc00).fill(0x12);
  const p = parsePartitionTable(junk);
  assert.equal(p.ok, false);
  assert.match(p.problems[0], /magic AA 50/);
  const full = buildPartitionTable([e('nvs', 1, 2, 0x9000, 0x6000)], { md5: false }).subarray(0, 32);
  const q = parsePartitionTable(full);
  assert.ok(q.ok);
  assert.match(q.problems[0], /no end marker/);
});

test('layout rules: app alignment, overlap, duplicate names, otadata size, before the table', () => {
  const t = {
    md5: 'ok' as const,
    entries: [
      e('nvs', 1, 2, 0x8000, 0x6000),
      e('otadata', 1, 0, 0xd000, 0x1000),
      e('app', 0, 0, 0x10800, 0x100000),
      e('app', 0, 0x10, 0x100000, 0x100000),
    ],
  };
  const ps = partitionLayoutProblems(t, { firstUsableOffset: 0x9000 });
  assert.ok(
    ps.some((m) => /'nvs'.*before 0x9000/.test(m)),
    ps.join('\n'),
  );
  assert.ok(ps.some((m) => /otadata must be 0x2000/.test(m)));
  assert.ok(ps.some((m) => /offset 0x10800 is not aligned to 0x10000/.test(m)));
  assert.ok(ps.some((m) => /name is used twice/.test(m)));
  assert.ok(ps.some((m) => /'app' \(0x10800..0x110800\) and 'app' \(from 0x100000\) overlap/.test(m)));
});
