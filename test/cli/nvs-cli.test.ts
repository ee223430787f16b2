/** `esp-station nvs` through the real CLI (bin/esp-station.mjs), as an engineer would run it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REAL_AT_DIR, REPO_ROOT, tempDir } from '../firmware/fixture-paths.ts';

const MFG_NVS = path.join(REAL_AT_DIR, 'customized_partitions/mfg_nvs.bin');
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

function cli(...args: string[]) {
  return spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/esp-station.mjs'), 'nvs', ...args], {
    encoding: 'utf8',
    cwd: REPO_ROOT,
  });
}

test('nvs decode prints the CSV: namespaces, typed values, blobs as base64', () => {
  const r = cli('decode', MFG_NVS);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], 'key,type,encoding,value');
  assert.ok(lines.includes('factory_param,namespace,,'));
  assert.ok(lines.includes('uart_baudrate,data,i32,115200'));
  assert.ok(lines.includes('module_name,data,string,WROOM-32'));
  assert.ok(lines.includes('cfg0,data,string,"0,16,0x2800,0x01,2,2,A002"'));
  assert.ok(lines.some((l) => /^client_cert\.0,data,base64,LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t/.test(l)));
});

test('nvs decode --json gives typed values and blob sizes', () => {
  const r = cli('decode', MFG_NVS, '--json');
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout) as {
    version: number;
    size: number;
    items: Record<string, unknown>[];
    problems: string[];
  };
  assert.equal(json.version, 2);
  assert.equal(json.size, 0x1c000);
  assert.deepEqual(json.problems, []);
  assert.deepEqual(
    json.items.find((i) => i.key === 'uart_baudrate'),
    { kind: 'entry', namespace: 'factory_param', key: 'uart_baudrate', type: 'i32', value: 115200 },
  );
  const key = json.items.find((i) => i.key === 'client_key.0');
  assert.equal(key?.type, 'blob');
  assert.equal(key?.size, 1675);
});

test('nvs decode --out writes the CSV and blob files; nvs generate rebuilds the same bytes', async (t) => {
  const dir = await tempDir(t, 'esp-station-nvs-');
  const out = path.join(dir, 'decoded');
  const r = cli('decode', MFG_NVS, '--out', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /wrote .*decoded\/mfg_nvs\.csv and 12 blob files/);
  assert.deepEqual((await readdir(path.join(out, 'client_cert'))).sort(), [
    'client_cert.0.bin',
    'client_cert.1.bin',
  ]);
  const csv = await readFile(path.join(out, 'mfg_nvs.csv'), 'utf8');
  assert.match(csv, /^client_cert\.0,file,binary,client_cert\/client_cert\.0\.bin$/m);
  const rebuilt = path.join(dir, 'rebuilt.bin');
  const g = cli('generate', path.join(out, 'mfg_nvs.csv'), rebuilt, '--size', '0x1C000');
  assert.equal(g.status, 0, g.stderr);
  assert.match(g.stdout, /wrote .*rebuilt\.bin: 112KB, 11 namespaces, 55 entries/);
  assert.equal(md5(await readFile(rebuilt)), 'd5453d7c6ab6a4408b58fc6ed138e1fa');
});

test('nvs generate with a bad CSV: exit 2, file:line and what to change, no output file', async (t) => {
  const dir = await tempDir(t, 'esp-station-nvs-');
  const csv = path.join(dir, 'mfg.csv');
  await writeFile(
    csv,
    'key,type,encoding,value\nfactory_param,namespace,,\nuart_port,data,u8,256\nmodule_name,data,string,ok\n',
  );
  const out = path.join(dir, 'out.bin');
  const r = cli('generate', csv, out, '--size', '0x6000');
  assert.equal(r.status, 2);
  assert.match(
    r.stderr,
    new RegExp(`${csv.replace(/[.]/g, '\\.')}:3: 'uart_port': 256 does not fit u8 \\(0\\.\\.255\\)`),
  );
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.equal(existsSync(out), false);
  assert.deepEqual(await readdir(dir), ['mfg.csv']);
});

test('nvs generate into a partition too small: exit 2, the size needed, no output file (an old one stays as it was)', async (t) => {
  const dir = await tempDir(t, 'esp-station-nvs-');
  const csv = path.join(dir, 'mfg.csv');
  await writeFile(path.join(dir, 'big.bin'), Buffer.alloc(9000, 0x5a));
  await writeFile(csv, 'key,type,encoding,value\ncerts,namespace,,\nbig,file,binary,big.bin\n');
  const out = path.join(dir, 'out.bin');
  await writeFile(out, 'previous');
  const r = cli('generate', csv, out, '--size', '12KB');
  assert.equal(r.status, 2);
  assert.match(
    r.stderr,
    /--size: the data needs 3 pages plus the blank page nvs_flash keeps, 0x4000, but the partition is 0x3000; give --size 0x4000 or more/,
  );
  assert.equal(await readFile(out, 'utf8'), 'previous');
  assert.deepEqual((await readdir(dir)).sort(), ['big.bin', 'mfg.csv', 'out.bin']);
  const ok = cli('generate', csv, out, '--size', '0x4000');
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal((await readFile(out)).length, 0x4000);
});

test('nvs: bad command lines say what to give', () => {
  const noSize = cli('generate', 'in.csv', 'out.bin');
  assert.equal(noSize.status, 2);
  assert.match(noSize.stderr, /--size: give --size SIZE, the partition size from the partition table/);
  const badSize = cli('generate', 'in.csv', 'out.bin', '--size', 'big');
  assert.match(badSize.stderr, /'big' is not a size/);
  const missing = cli('decode', 'no-such.bin');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no-such\.bin: file or folder not found; give the path of an NVS partition/);
  const notNvs = cli('decode', path.join(REAL_AT_DIR, 'ota_data_initial.bin'));
  assert.equal(notNvs.status, 2);
  assert.match(notNvs.stderr, /holds no NVS page/);
  const wrongOption = cli('decode', MFG_NVS, '--size', '0x1000');
  assert.match(wrongOption.stderr, /--size does not apply to `nvs decode`/);
  const unknown = cli('frob');
  assert.match(unknown.stderr, /unknown nvs command 'frob'; use decode or generate/);
});

test('nvs decode of a damaged partition prints what it could and names each bad entry (exit 2)', async (t) => {
  const dir = await tempDir(t, 'esp-station-nvs-');
  const bin = Buffer.from(await readFile(MFG_NVS));
  bin[64 + 3 * 32 + 10] ^= 0x20; // a byte of server_cert's certificate text (page 0, entry 3)
  const file = path.join(dir, 'returned.bin');
  await writeFile(file, bin);
  const r = cli('decode', file);
  assert.equal(r.status, 2);
  assert.match(r.stdout, /^uart_baudrate,data,i32,115200$/m);
  assert.match(r.stderr, /returned\.bin: page 0 entry 1: data CRC of 'server_cert' does not verify; skipped/);
});
