import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { REAL_AT_DIR } from '../firmware/fixture-paths.ts';
import {
  decodePartition,
  findEntry,
  formatNvsCsv,
  generatePartition,
  parseNvsCsv,
  withValue,
} from '../../src/nvs/index.ts';
import { walkNvs } from './nvs-walk.ts';

const MFG_NVS = path.join(REAL_AT_DIR, 'customized_partitions/mfg_nvs.bin');
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

test('the real ESP-AT mfg_nvs.bin decodes without a problem and regenerates byte for byte', async () => {
  const bin = await readFile(MFG_NVS);
  assert.equal(md5(bin), 'd5453d7c6ab6a4408b58fc6ed138e1fa');
  const decoded = decodePartition(bin);
  assert.deepEqual(decoded.problems, []);
  assert.equal(decoded.version, 2);
  const again = generatePartition(decoded.partition, bin.length);
  assert.equal(md5(again), 'd5453d7c6ab6a4408b58fc6ed138e1fa');
});

test('the fixture holds what its mfg_nvs.csv says: factory_param values, certificates as blobs', async () => {
  const { partition } = decodePartition(await readFile(MFG_NVS));
  assert.deepEqual(findEntry(partition, 'factory_param', 'uart_baudrate')?.value, {
    type: 'i32',
    value: 115200,
  });
  assert.deepEqual(findEntry(partition, 'factory_param', 'module_name')?.value, {
    type: 'string',
    value: 'WROOM-32',
  });
  assert.deepEqual(findEntry(partition, 'factory_param', 'uart_tx_pin')?.value, { type: 'i32', value: 17 });
  assert.deepEqual(findEntry(partition, 'factory_param', 'version')?.value, { type: 'i8', value: 4 });
  assert.deepEqual(findEntry(partition, 'ble_data', 'cfg5')?.value, {
    type: 'string',
    value: '5,16,0xC301,0x01,512,512,',
  });
  const cert = findEntry(partition, 'client_cert', 'client_cert.0')?.value;
  assert.equal(cert?.type, 'blob');
  assert.match(Buffer.from(cert.value as Uint8Array).toString('latin1'), /^-----BEGIN CERTIFICATE-----\n/);
  const csv = await readFile(path.join(REAL_AT_DIR, 'customized_partitions/mfg_nvs.csv'), 'utf8');
  // The release's CSV names the same keys in the same order (its file paths are Espressif's build machine's).
  const keys = csv
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((l) => l.split(',')[0]);
  assert.deepEqual(
    partition.items.map((i) => (i.kind === 'namespace' ? i.name : i.key)),
    keys,
  );
});

test('decode → CSV → generate gives the fixture bytes again (blobs inline as base64)', async () => {
  const bin = await readFile(MFG_NVS);
  const csv = formatNvsCsv(decodePartition(bin).partition);
  const partition = await parseNvsCsv(csv, 'decoded.csv', () => Promise.reject(new Error('no files')));
  assert.equal(md5(generatePartition(partition, bin.length)), 'd5453d7c6ab6a4408b58fc6ed138e1fa');
});

test('changing one value keeps every CRC valid and only that value changes', async () => {
  const bin = await readFile(MFG_NVS);
  const { partition } = decodePartition(bin);
  const changed = withValue(partition, 'factory_param', 'module_name', {
    type: 'string',
    value: 'WROOM-32-SN000123',
  });
  const out = generatePartition(changed, bin.length);
  const walk = walkNvs(out);
  assert.deepEqual(walk.crcFailures, []);
  const back = decodePartition(out);
  assert.deepEqual(back.problems, []);
  assert.deepEqual(findEntry(back.partition, 'factory_param', 'module_name')?.value, {
    type: 'string',
    value: 'WROOM-32-SN000123',
  });
  const before = partition.items.filter((i) => !(i.kind === 'entry' && i.key === 'module_name'));
  const after = back.partition.items.filter((i) => !(i.kind === 'entry' && i.key === 'module_name'));
  assert.deepEqual(after, before);
});

test('the fixture is stamped as the Python tool stamps: pages 0..26 FULL (5..26 empty), page 27 blank', async () => {
  const walk = walkNvs(await readFile(MFG_NVS));
  assert.deepEqual(walk.crcFailures, []);
  assert.deepEqual(walk.states, [...Array(27).fill('full'), 'blank']);
  assert.equal(Math.max(...walk.entries.map((e) => e.page)), 4);
});
