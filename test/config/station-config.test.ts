import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { InputError } from '../../src/config/problems.ts';
import { loadStationConfig, parseStationConfig } from '../../src/config/station-config.ts';
import { matchesPortFilter } from '../../src/config/usb-bridges.ts';
import { REPO_ROOT } from '../firmware/fixture-paths.ts';
import { problemsOf } from './problems-of.ts';

test('the shipped config.yaml loads with the demo profile and defaults', async () => {
  const c = await loadStationConfig(path.join(REPO_ROOT, 'config.yaml'));
  assert.equal(c.station, 'demo-station');
  assert.equal(c.profilePath, path.join(REPO_ROOT, 'stations/demo-esp32-at.yaml'));
  assert.deepEqual(c.baudLadder, [921600, 460800, 115200]);
  assert.equal(c.ledger.dir, path.join(REPO_ROOT, 'var/ledger'));
  assert.equal(c.detection, 'auto');
  assert.ok(matchesPortFilter(c.portFilters, 0x10c4, 0xea60), 'CP2102');
  assert.ok(matchesPortFilter(c.portFilters, 0x1a86, 0x55d4), 'CH9102');
  assert.ok(matchesPortFilter(c.portFilters, 0x303a, 0x1001), 'Espressif USB-Serial/JTAG');
  assert.ok(!matchesPortFilter(c.portFilters, 0x046d, 0xc52b), 'a mouse is not a board');
});

test('minimal config gets defaults: one worker per slot, default ladder, day rotation', () => {
  const c = parseStationConfig(
    '/etc/esp/config.yaml',
    'station: s1\nprofile: p.yaml\nslots:\n  - {name: A1, usbPath: 1-1.1}\n  - {name: A2, usbPath: 1-1.2}\nportFilters: ["303a:1001"]\nledger: {dir: /data/ledger, rotate: size, maxSize: 16MB}\n',
  );
  assert.equal(c.profilePath, '/etc/esp/p.yaml');
  assert.equal(c.concurrency, 2);
  assert.deepEqual(c.portFilters, [{ vid: 0x303a, pid: 0x1001 }]);
  assert.deepEqual(c.ledger, { dir: '/data/ledger', rotate: 'size', maxSizeBytes: 16 * 1024 * 1024 });
  assert.equal(c.operator, '');
  assert.equal(c.offerPresentAtStart, true);
});

test('every problem is reported at once, with line:column and key', () => {
  const text = [
    'station: s1', // 1
    'profile: p.yaml', // 2
    'concurency: 4', // 3  typo
    'baudLadder: [921600, 12345]', // 4
    'slots:', // 5
    '  - name: A1', // 6
    '    usbPath: "1-1.1"', // 7
    '  - name: A2', // 8
    '    usbpath: "1-1.2"', // 9  typo, and usbPath missing
    'detection: udev', // 10
    '',
  ].join('\n');
  const ps = problemsOf(() => parseStationConfig('config.yaml', text));
  const find = (key: string) => ps.find((p) => p.key === key);
  assert.deepEqual(
    { ...find('concurency') },
    { ...find('concurency'), file: 'config.yaml', line: 3, column: 1 },
  );
  assert.match(find('concurency')!.message, /unknown key 'concurency'.*concurrency/);
  assert.equal(find('baudLadder.1')?.line, 4);
  assert.equal(find('baudLadder.1')?.column, 22);
  assert.match(find('baudLadder.1')!.message, /921600/);
  assert.equal(find('slots.1.usbpath')?.line, 9);
  assert.match(find('slots.1.usbpath')!.message, /allowed keys: name, usbPath/);
  assert.ok(find('slots.1.usbPath'), 'missing usbPath reported too');
  assert.equal(find('detection')?.line, 10);
  assert.match(find('detection')!.message, /auto|hotplug|polling/);
  assert.ok(ps.length >= 5);
});

test('duplicate slot names and USB paths are errors pointing at the second one', () => {
  const text =
    'station: s\nprofile: p.yaml\nslots:\n  - {name: A1, usbPath: 1-1.1}\n  - {name: A1, usbPath: 1-1.2}\n  - {name: A3, usbPath: 1-1.1}\n';
  const ps = problemsOf(() => parseStationConfig('c.yaml', text));
  assert.equal(ps.length, 2);
  assert.equal(ps[0].key, 'slots.1.name');
  assert.equal(ps[0].line, 5);
  assert.match(ps[0].message, /already used/);
  assert.equal(ps[1].key, 'slots.2.usbPath');
  assert.equal(ps[1].line, 6);
  assert.match(ps[1].message, /already slot A1/);
});

test('bad USB path, bad VID:PID, YAML syntax and duplicate keys are problems, not exceptions', () => {
  let ps = problemsOf(() =>
    parseStationConfig(
      'c.yaml',
      'station: s\nprofile: p\nslots: [{name: A, usbPath: ttyUSB0}]\nportFilters: [10c4-ea60]\n',
    ),
  );
  assert.deepEqual(ps.map((p) => p.key).sort(), ['portFilters.0', 'slots.0.usbPath']);
  ps = problemsOf(() => parseStationConfig('c.yaml', 'station: s\nstation: t\nprofile: p\n'));
  assert.equal(ps[0].line, 2);
  assert.match(ps[0].message, /YAML/);
  ps = problemsOf(() => parseStationConfig('c.yaml', 'station: [s\nprofile: p\n'));
  assert.ok(ps.length >= 1 && ps[0].line !== undefined);
});

test('missing required keys name the key', () => {
  const ps = problemsOf(() => parseStationConfig('c.yaml', 'lot: 4711\n'));
  assert.deepEqual(ps.map((p) => p.key).sort(), ['profile', 'station']);
  assert.match(ps[0].message, /missing/);
});

test('a missing config file is an InputError naming the file', async () => {
  await assert.rejects(
    loadStationConfig('/nonexistent/config.yaml'),
    (e: unknown) => e instanceof InputError && /not found/.test(e.problems[0].message),
  );
});

test('a config whose profile does not exist points at the profile: line', async (t) => {
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
  const os = await import('node:os');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'esp-station-cfg-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'config.yaml');
  await writeFile(file, '# station\nstation: s\nprofile: stations/nope.yaml\n');
  await assert.rejects(loadStationConfig(file), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.deepEqual([e.problems[0].line, e.problems[0].column, e.problems[0].key], [3, 10, 'profile']);
    assert.match(e.problems[0].message, /nope\.yaml not found/);
    return true;
  });
});

test('layout: rows of slot names with ~ or an empty name for a gap draw the fixture', () => {
  const c = parseStationConfig(
    'config.yaml',
    [
      'station: s1',
      'profile: p.yaml',
      'slots:',
      '  - { name: A1, usbPath: 1-1.1 }',
      '  - { name: A2, usbPath: 1-1.2 }',
      '  - { name: B1, usbPath: 1-2.1 }',
      'layout:',
      '  - [A1, A2]',
      "  - [~, '', B1]",
      '',
    ].join('\n'),
  );
  assert.deepEqual(c.layout, [
    ['A1', 'A2'],
    [null, null, 'B1'],
  ]);
});

test('layout problems: an unknown name, a slot placed twice and a slot without a place, all at once', () => {
  const text = [
    'station: s1', // 1
    'profile: p.yaml', // 2
    'slots:', // 3
    '  - { name: A1, usbPath: 1-1.1 }', // 4
    '  - { name: A2, usbPath: 1-1.2 }', // 5
    '  - { name: B1, usbPath: 1-2.1 }', // 6
    'layout:', // 7
    '  - [A1, A3]', // 8
    '  - [A1, ~]', // 9
    '',
  ].join('\n');
  const ps = problemsOf(() => parseStationConfig('config.yaml', text));
  const find = (key: string) => ps.find((p) => p.key === key);
  assert.equal(find('layout.0.1')?.line, 8);
  assert.match(find('layout.0.1')!.message, /'A3' is not a slot name; the slots are A1, A2, B1/);
  assert.equal(find('layout.1.0')?.line, 9);
  assert.match(find('layout.1.0')!.message, /slot A1 is already placed at layout\.0\.0/);
  assert.match(find('layout')!.message, /slots A2, B1 have no place in the layout/);
  assert.equal(ps.length, 3);
});
