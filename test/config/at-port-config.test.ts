import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseStationConfig } from '../../src/config/station-config.ts';
import { matchesPortFilter } from '../../src/config/usb-bridges.ts';
import { atPortRuleFor } from '../../src/station/detect/at-pairing.ts';
import { problemsOf } from './problems-of.ts';

const FILE = '/etc/esp/config.yaml';

test('AT ports: a station-wide rule, per-slot second bridges, ser2net URLs and none', () => {
  const c = parseStationConfig(
    FILE,
    [
      'station: s1',
      'profile: p.yaml',
      'atPort: { interface: 1 }',
      'slots:',
      '  - { name: A1, usbPath: 1-1.1 }',
      '  - { name: A2, usbPath: 1-1.2, atPort: { usbPath: 1-1.6 } }',
      "  - { name: A3, usbPath: 1-1.3, atPort: { url: 'socket://10.0.0.7:4003' } }",
      '  - { name: A4, usbPath: 1-1.4, atPort: none }',
      '  - { name: A5, usbPath: 1-1.5, atPort: { interface: 2 } }',
    ].join('\n'),
  );
  assert.deepEqual(c.atPort, { interface: 1 });
  assert.deepEqual(
    ['1-1.1', '1-1.2', '1-1.3', '1-1.4', '1-1.5', '2-3'].map((p) => atPortRuleFor(c, p)),
    [
      { interface: 1 },
      { usbPath: '1-1.6' },
      { url: 'socket://10.0.0.7:4003' },
      undefined,
      { interface: 2 },
      // A board on a port not listed as a slot follows the station-wide rule too.
      { interface: 1 },
    ],
  );
  const none = parseStationConfig(FILE, 'station: s1\nprofile: p.yaml\n');
  assert.equal(none.atPort, undefined);
  assert.equal(atPortRuleFor(none, '1-1.1'), undefined, 'no rule: no slot has an AT port');
});

test('AT ports that cannot work are problems with file:line:column, all at once', () => {
  const problems = problemsOf(() =>
    parseStationConfig(
      FILE,
      [
        'station: s1', // 1
        'profile: p.yaml', // 2
        'atPort: { usbPath: 1-1.9 }', // 3: a second bridge cannot serve every slot
        'slots:', // 4
        '  - { name: A1, usbPath: 1-1.1, atPort: { usbPath: 1-1.2 } }', // 5: that is A2's download port
        '  - { name: A2, usbPath: 1-1.2, atPort: { usbPath: 1-1.8 } }', // 6
        '  - { name: A3, usbPath: 1-1.3, atPort: { usbPath: 1-1.8 } }', // 7: shared with A2
      ].join('\n'),
    ),
  );
  const at = (line: number) => problems.filter((p) => p.line === line);
  assert.match(at(3)[0]?.message ?? '', /station-wide atPort can only be \{ interface: N \}/);
  assert.match(at(5)[0]?.message ?? '', /1-1\.2 is slot A2's download port/);
  assert.match(at(7)[0]?.message ?? '', /1-1\.8 is already slot A2's AT port/);
  assert.equal(at(6).length, 0, 'A2 itself is fine');
  assert.equal(problems.length, 3);
  for (const p of problems) {
    assert.equal(p.file, FILE);
    assert.ok(p.column !== undefined && p.key !== undefined, JSON.stringify(p));
  }
});

test('a misspelt AT port says what is allowed, at its line', () => {
  const problems = problemsOf(() =>
    parseStationConfig(
      FILE,
      [
        'station: s1', // 1
        'profile: p.yaml', // 2
        'slots:', // 3
        '  - { name: A4, usbPath: 1-1.4, atPort: { interfase: 1 } }', // 4: typo
        '  - { name: A5, usbPath: 1-1.5, atPort: { interface: 1, url: "socket://h:1" } }', // 5: two at once
        "  - { name: A6, usbPath: 1-1.6, atPort: { url: 'tcp://10.0.0.7:4003' } }", // 6: not socket://
        '  - { name: A7, usbPath: 1-1.7, atPort: { interface: 99 } }', // 7: no such interface
      ].join('\n'),
    ),
  );
  const at = (line: number) =>
    problems
      .filter((p) => p.line === line)
      .map((p) => p.message)
      .join(' | ');
  assert.match(at(4), /interfase/);
  assert.match(at(5), /only one of interface and url/);
  assert.match(at(6), /socket:\/\/HOST:PORT/);
  assert.match(at(7), /15/);
});

test('every dual bridge docs/at-test.md names with a USB id is offered to the station without portFilters', () => {
  // A fixture built from the wiring guide must be seen: a bridge outside the default filter is never a slot.
  const guide = readFileSync('docs/at-test.md', 'utf8');
  const ids = [...guide.matchAll(/^\| ([^|]+) \| ([0-9a-f]{4}):([0-9a-f]{4}) \| \d+ \|/gm)];
  assert.ok(ids.length >= 4, 'the guide lists CP2105, FT2232H, FT4232H and CH342 with their ids');
  const defaults = parseStationConfig(FILE, 'station: s1\nprofile: p.yaml\n').portFilters;
  for (const [, bridge, vid, pid] of ids)
    assert.ok(
      matchesPortFilter(defaults, Number.parseInt(vid, 16), Number.parseInt(pid, 16)),
      `${bridge.trim()} (${vid}:${pid})`,
    );
});
