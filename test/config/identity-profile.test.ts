import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { identitySettingsOf } from '../../src/config/identity-settings.ts';
import { parseProfile } from '../../src/config/profile.ts';
import { problemsOf } from './problems-of.ts';

const HEAD = 'name: acme-w32\nchip: esp32\nimageSet:\n  folder: release\n';

test('an identity section with a serial pattern, a bundle folder and fixed values resolves against the profile', () => {
  const p = parseProfile(
    '/plant/stations/acme.yaml',
    HEAD +
      [
        'identity:',
        '  lot: L2026-48',
        '  lowWater: 25',
        '  serial:',
        "    pattern: '{prefix}-{lot}-{seq:06}'",
        '    prefix: ACME',
        '    namespace: factory_param',
        '    key: sn',
        '  credentials:',
        '    folder: ../pools/batch-07',
        '    files:',
        '      client.crt: { namespace: client_cert, key: client_cert.0 }',
        '      client.key: { namespace: client_key, key: client_key.0 }',
        '  set:',
        '    - { namespace: factory_param, key: module_name, type: string, value: ACME-W32 }',
        '    - { namespace: factory_param, key: uart_baudrate, type: i32, value: 921600 }',
      ].join('\n'),
  );
  const s = identitySettingsOf(p, { stationLot: 'ignored', workDir: '/plant' });
  assert.ok(s);
  assert.equal(s.partition, 'mfg_nvs');
  assert.equal(s.lot, 'L2026-48');
  assert.equal(s.lowWater, 25);
  assert.equal(s.journal, path.resolve('/plant/var/identity/acme-w32.jsonl'));
  assert.equal(s.credentials?.folder, path.resolve('/plant/pools/batch-07'));
  assert.deepEqual(s.credentials?.files['client.key'], {
    namespace: 'client_key',
    key: 'client_key.0',
    type: 'blob',
  });
  assert.equal(s.serial?.pattern.seqWidth, 6);
  assert.equal(s.serial?.start, 1);
  assert.deepEqual(s.set, [
    { namespace: 'factory_param', key: 'module_name', value: { type: 'string', value: 'ACME-W32' } },
    { namespace: 'factory_param', key: 'uart_baudrate', value: { type: 'i32', value: 921600 } },
  ]);
  const withStationLot = identitySettingsOf(
    parseProfile(
      '/p/a.yaml',
      HEAD + "identity:\n  journal: j/x.jsonl\n  serial: { pattern: 'SN{seq}', namespace: f, key: sn }\n",
    ),
    { stationLot: 'L9' },
  );
  assert.equal(withStationLot?.lot, 'L9');
  assert.equal(withStationLot?.journal, path.resolve('/p/j/x.jsonl'));
});

test('mistakes in the identity section are reported at their line and column with what to write', () => {
  const text =
    HEAD +
    [
      'identity:', // 5
      '  serial:', // 6
      "    pattern: '{prefix}-{serial}'", // 7
      '    namespace: factory_param', // 8
      '    key: serial_number_too_long', // 9
      '  credentials:', // 10
      '    files:', // 11
      '      certs/client.crt: { namespace: client_cert, key: client_cert.0 }', // 12
      '  set:', // 13
      '    - { namespace: factory_param, key: uart_port, type: u8, value: 300 }', // 14
      '    - { namespace: client_cert, key: client_cert.0, type: base64, value: AAAA }', // 15
      '  lowWatter: 3', // 16
    ].join('\n');
  const ps = problemsOf(() => parseProfile('acme.yaml', text));
  const at = (key: string) => ps.find((p) => p.key === key);
  assert.equal(at('identity.serial.pattern')?.line, 7);
  assert.match(
    at('identity.serial.pattern')!.message,
    /'\{serial\}' is not a placeholder; use \{prefix\}, \{lot\}, \{seq\}/,
  );
  assert.equal(at('identity.serial.key')?.line, 9);
  assert.match(
    at('identity.serial.key')!.message,
    /key 'serial_number_too_long' is 22 bytes long; NVS keys and namespaces hold at most 15/,
  );
  assert.match(
    at('identity.credentials')!.message,
    /say where the bundles are with one of: folder, manifest/,
  );
  assert.match(
    at('identity.credentials.files.certs/client.crt')!.message,
    /a member is a file name inside a bundle folder/,
  );
  assert.equal(at('identity.set.0.value')?.line, 14);
  assert.match(at('identity.set.0.value')!.message, /300 does not fit u8 \(0\.\.255\)/);
  assert.equal(at('identity.lowWatter')?.line, 16);
  assert.match(
    at('identity.lowWatter')!.message,
    /unknown key 'lowWatter'; allowed keys: partition, journal, lot, central, serial, credentials, set, lowWater/,
  );
});

test('two settings aimed at one key, an empty section and a serial range that overflows its width are refused', () => {
  const clash = problemsOf(() =>
    parseProfile(
      'a.yaml',
      HEAD +
        "identity:\n  serial: { pattern: 'SN{seq}', namespace: factory_param, key: sn }\n  set:\n    - { namespace: factory_param, key: sn, type: string, value: fixed }\n",
    ),
  );
  assert.equal(clash[0].key, 'identity.set.0.key');
  assert.match(
    clash[0].message,
    /factory_param\/sn is already written by identity\.serial; give each value its own key/,
  );
  const empty = problemsOf(() => parseProfile('a.yaml', HEAD + 'identity:\n  lot: L1\n'));
  assert.match(empty[0].message, /give serial, credentials or both/);
  const range = problemsOf(() =>
    parseProfile(
      'a.yaml',
      HEAD + "identity:\n  serial: { pattern: 'SN{seq:04}', namespace: f, key: sn, end: 10000 }\n",
    ),
  );
  assert.equal(range[0].key, 'identity.serial.end');
  assert.match(range[0].message, /end 10000 has more digits than \{seq:04\} holds \(at most 9999\)/);
});
