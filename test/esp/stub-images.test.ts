/**
 * The pinned stub images: every file is what its MD5SUMS says, licences travel with them, the default release
 * is v1.2.2 and the loader hands out the release it is asked for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { CHIPS } from '../../src/esp/chips/index.ts';
import { DEFAULT_STUB_RELEASE, STUB_RELEASES, loadStub, stubFile } from '../../src/esp/stub.ts';

function releaseDir(release: string): URL {
  return new URL(`../../src/esp/stubs/esp-flasher-stub-${release}/`, import.meta.url);
}

test('every pinned stub file matches its MD5SUMS line, and every JSON file is listed', async () => {
  for (const release of STUB_RELEASES) {
    const dir = releaseDir(release);
    const sums = (await readFile(new URL('MD5SUMS', dir), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => /^([0-9a-f]{32}) {2}(\S+)$/.exec(line));
    const listed = new Set<string>();
    for (const m of sums) {
      assert.ok(m, `${release}/MD5SUMS has a malformed line`);
      const actual = createHash('md5')
        .update(await readFile(new URL(m[2], dir)))
        .digest('hex');
      assert.equal(actual, m[1], `${release}/${m[2]}`);
      listed.add(m[2]);
    }
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    assert.deepEqual(files.sort(), [...listed].sort(), `${release}: JSON files and MD5SUMS disagree`);
  }
});

test('each release carries both licence texts (Apache-2.0 OR MIT) and a README naming its origin', async () => {
  const first = releaseDir(STUB_RELEASES[0]);
  for (const release of STUB_RELEASES) {
    const dir = releaseDir(release);
    for (const licence of ['LICENSE-APACHE', 'LICENSE-MIT']) {
      assert.deepEqual(
        await readFile(new URL(licence, dir)),
        await readFile(new URL(licence, first)),
        licence,
      );
    }
    const readme = await readFile(new URL('README.md', dir), 'utf8');
    assert.match(readme, new RegExp(`esp-flasher-stub/releases/tag/${release.replace(/\./g, '\\.')}`));
  }
  assert.match(await readFile(new URL('LICENSE-MIT', first), 'utf8'), /Permission is hereby granted/);
  assert.match(await readFile(new URL('LICENSE-APACHE', first), 'utf8'), /Apache License\s+Version 2\.0/);
});

test('v1.2.2 is the default and is the stub esptool-js 0.7.0 uploads (same JSON content)', async () => {
  assert.equal(DEFAULT_STUB_RELEASE, 'v1.2.2');
  const ours = JSON.parse(await readFile(stubFile(CHIPS.esp32, 'v1.2.2'), 'utf8')) as unknown;
  const theirs = JSON.parse(
    await readFile(
      new URL('../../node_modules/esptool-js/lib/targets/stub_flasher/esp32.json', import.meta.url),
      'utf8',
    ),
  ) as unknown;
  assert.deepEqual(ours, theirs);
});

test('loadStub gives the release asked for (ESP32 entry and text size per §6.2 and ../stubs)', async () => {
  const v122 = await loadStub(CHIPS.esp32);
  assert.equal(v122.release, 'v1.2.2');
  assert.equal(v122.entry, 0x400a902c);
  assert.equal(v122.text.data.length, 6456);
  assert.equal(v122.text.addr, 0x400a8000);
  assert.equal(v122.data?.addr, 0x3ffded6c);
  const v100 = await loadStub(CHIPS.esp32, 'v1.0.0');
  assert.equal(v100.release, 'v1.0.0');
  assert.equal(v100.entry, 0x400a9074);
  assert.equal(v100.text.data.length, 6140);
  assert.equal(await loadStub(CHIPS.esp32, 'v1.0.0'), v100, 'loaded once and shared');
});
