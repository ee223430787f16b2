import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadProfile, parseProfile } from '../../src/config/profile.ts';
import { REPO_ROOT } from '../firmware/fixture-paths.ts';
import { problemsOf } from './problems-of.ts';

test('the shipped demo profile is a demo, for esp32, from the generated set', async () => {
  const p = await loadProfile(path.join(REPO_ROOT, 'stations/demo-esp32-at.yaml'));
  assert.equal(p.name, 'demo-esp32-at');
  assert.equal(p.chip, 'esp32');
  assert.equal(p.demo, true);
  assert.deepEqual(p.imageSet, { kind: 'demo', layout: 'esp-at' });
  assert.deepEqual(p.flash, { mode: 'dio', freq: '40m', size: '4MB' });
  assert.equal(p.checks.minFlashSize, 4 * 1024 * 1024);
  assert.deepEqual(p.bootCheck?.expect, ['boot: Loaded app from partition at offset', 'at param mode:']);
  assert.equal(p.bootCheck?.timeoutMs, 3000);
  assert.ok(p.bootCheck?.forbid.includes('Guru Meditation Error'));
  assert.equal(p.stub, true);
  assert.equal(p.baseDir, path.join(REPO_ROOT, 'stations'));
});

test('the shipped real-release template parses and points at a folder', async () => {
  const p = await loadProfile(path.join(REPO_ROOT, 'stations/esp32-wroom-at.yaml'));
  assert.equal(p.demo, false);
  assert.equal(p.imageSet.kind, 'folder');
  assert.equal(p.checks.allowSecureBoot, false);
});

test('defaults: retries, checks, stub on, no boot check', () => {
  const p = parseProfile(
    '/x/p.yaml',
    'name: n\nchip: esp32s3\nimageSet:\n  files:\n    - {offset: 0x0, file: boot.bin}\n    - {offset: 65536, file: app.bin, label: app}\n',
  );
  assert.deepEqual(p.retry, { regionRetries: 2, boardRetriesPerBaud: 1 });
  assert.deepEqual(p.checks, { allowSecureBoot: false, allowFlashEncryption: false, erase: 'region' });
  assert.equal(p.bootCheck, undefined);
  assert.equal(p.stub, true);
  assert.equal(p.skipUnchanged, false);
  assert.deepEqual(p.imageSet, {
    kind: 'files',
    files: [
      { offset: 0, file: 'boot.bin' },
      { offset: 0x10000, file: 'app.bin', label: 'app' },
    ],
  });
});

test("the boot check watches UART0: waiting there for ESP-AT's 'ready' (it comes on UART1) is refused", () => {
  const base = 'name: n\nchip: esp32\nimageSet:\n  folder: rel\n';
  let ps = problemsOf(() => parseProfile('p.yaml', `${base}bootCheck:\n  expect: [ready]\n`));
  assert.equal(ps[0].line, 6);
  assert.match(ps[0].message, /AT port \(UART1\)/);
  // The old single pattern is gone: the key is refused where it stands.
  ps = problemsOf(() => parseProfile('p.yaml', `${base}bootCheck:\n  pattern: ready\n`));
  assert.equal(ps[0].key, 'bootCheck.pattern');
  assert.equal(ps[0].line, 6);
  const p = parseProfile('p.yaml', `${base}bootCheck: {}\n`);
  assert.deepEqual(p.bootCheck?.expect, ['boot: Loaded app from partition at offset']);
  assert.equal(p.bootCheck?.settleMs, 500);
});

test('a typo in a key is an error at its line with the allowed keys', () => {
  const text =
    'name: n\nchip: esp32\nimageSet:\n  flasherArg: build/flasher_args.json\nchecks:\n  alowSecureBoot: true\n';
  const ps = problemsOf(() => parseProfile('p.yaml', text));
  const typo = ps.find((p) => p.key === 'imageSet.flasherArg');
  assert.equal(typo?.line, 4);
  assert.equal(typo?.column, 3);
  assert.match(typo!.message, /allowed keys: flasherArgs, downloadConfig, folder, files, merged, demo/);
  const typo2 = ps.find((p) => p.key === 'checks.alowSecureBoot');
  assert.equal(typo2?.line, 6);
});

test('exactly one image source; wrong chip names and flash values are explained', () => {
  let ps = problemsOf(() =>
    parseProfile('p.yaml', 'name: n\nchip: esp32\nimageSet:\n  folder: a\n  merged: b.bin\n'),
  );
  assert.match(ps[0].message, /only one image source, not folder and merged/);
  assert.equal(ps[0].line, 4);
  ps = problemsOf(() =>
    parseProfile('p.yaml', 'name: n\nchip: esp33\nimageSet: {}\nflash: {size: 4MiB, freq: fast}\n'),
  );
  const keys = ps.map((p) => p.key);
  assert.ok(
    keys.includes('chip') &&
      keys.includes('imageSet') &&
      keys.includes('flash.size') &&
      keys.includes('flash.freq'),
    keys.join(),
  );
  assert.match(ps.find((p) => p.key === 'chip')!.message, /esp32s3/);
});

test('the demo image set requires demo: true, expectChip must agree, file offsets unique', () => {
  let ps = problemsOf(() => parseProfile('p.yaml', 'name: n\nchip: esp32\nimageSet: {demo: esp-at}\n'));
  assert.match(ps[0].message, /demo: true/);
  ps = problemsOf(() =>
    parseProfile('p.yaml', 'name: n\nchip: esp32\nimageSet: {folder: x}\nchecks: {expectChip: esp32c3}\n'),
  );
  assert.equal(ps[0].key, 'checks.expectChip');
  ps = problemsOf(() =>
    parseProfile(
      'p.yaml',
      'name: n\nchip: esp32\nimageSet:\n  files:\n    - {offset: 0x1000, file: a.bin}\n    - {offset: 4096, file: b.bin}\n',
    ),
  );
  assert.equal(ps[0].key, 'imageSet.files.1.offset');
  assert.equal(ps[0].line, 6);
});

test('an empty profile lists every missing key; a list instead of a mapping says so', () => {
  let ps = problemsOf(() => parseProfile('p.yaml', ''));
  assert.deepEqual(
    ps.map((p) => [p.key, p.message.split(';')[0]]),
    [
      ['name', 'missing'],
      ['chip', 'missing'],
      ['imageSet', 'missing'],
    ],
  );
  assert.match(ps[1].message, /esp32c6/);
  ps = problemsOf(() => parseProfile('p.yaml', '- a\n- b\n'));
  assert.equal(ps.length, 1);
  assert.match(ps[0].message, /YAML mapping/);
});

test('flash.size takes any size form and stores the header name', () => {
  for (const [v, name] of [
    ['4MB', '4MB'],
    ['0x800000', '8MB'],
    ['16777216', '16MB'],
    ['detect', 'detect'],
    ['keep', 'keep'],
  ]) {
    const p = parseProfile('p.yaml', `name: n\nchip: esp32\nimageSet: {folder: x}\nflash: {size: ${v}}\n`);
    assert.equal(p.flash.size, name, v);
  }
  const ps = problemsOf(() =>
    parseProfile('p.yaml', 'name: n\nchip: esp32\nimageSet: {folder: x}\nflash: {size: 1000}\n'),
  );
  assert.match(ps[0].message, /'1000' is not a flash size/);
});
