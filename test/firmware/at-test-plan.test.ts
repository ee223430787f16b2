/**
 * What the boards must answer, worked out from a profile's `test:` section and the image set: the real
 * v3.4.0.0 release gives the firmware version (its sdkconfig, found in the app), the SDK version (the app's
 * descriptor), the module name and the AT port's baud (factory_param in mfg_nvs). Pins that contradict the
 * set, and a set that cannot say what is needed, are problems at the profile's line before any board.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseProfile } from '../../src/config/profile.ts';
import { inspectProfileFirmware } from '../../src/firmware/profile-firmware.ts';
import { REAL_AT_DIR, tempDir } from './fixture-paths.ts';

async function inspect(t: TestContext, yaml: string, release = REAL_AT_DIR) {
  const dir = await tempDir(t);
  const file = path.join(dir, 'profile.yaml');
  const text = `name: p\nchip: esp32\nimageSet:\n  folder: ${release}\n${yaml}`;
  writeFileSync(file, text);
  return inspectProfileFirmware(parseProfile(file, text));
}

test('the real v3.4.0.0 release says what its boards answer: version, SDK, module, baud, namespaces', async (t) => {
  const r = await inspect(
    t,
    'test:\n  mfgRead: { keys: [factory_param/uart_port, client_cert/client_cert.0] }\n',
  );
  assert.deepEqual(r.problems, []);
  const plan = r.prepared?.atTest?.plan;
  assert.ok(plan);
  assert.equal(plan.baud, 115200);
  assert.deepEqual(plan.version, {
    timeoutMs: 2000,
    // CONFIG_ESP_AT_FW_VERSION from the release's sdkconfig; the app descriptor says v2.4.0.0-674-g70ff5889-dirty.
    binVersion: 'v3.4.0.0',
    moduleName: 'WROOM-32',
    sdkVersion: 'v5.0.6-dirty',
  });
  assert.deepEqual(plan.mfg?.namespaces, [
    'server_cert',
    'server_key',
    'server_ca',
    'client_cert',
    'client_key',
    'client_ca',
    'mqtt_cert',
    'mqtt_key',
    'mqtt_ca',
    'factory_param',
    'ble_data',
  ]);
  assert.deepEqual(plan.mfgRead?.values[0], {
    namespace: 'factory_param',
    key: 'uart_port',
    type: 'i8',
    value: '1',
  });
  const cert = plan.mfgRead!.values[1];
  assert.equal(cert.type, 'binary');
  assert.match(cert.value, /^-----BEGIN CERTIFICATE-----\nMII/);
  assert.ok(!cert.value.includes('\r'));
  assert.equal(plan.wifiScan, undefined, 'off unless the profile names an access point');
  assert.equal(r.prepared?.atTest?.requireAtPort, false);
});

test('a step set to false is off; limits and pins are taken as written', async (t) => {
  const r = await inspect(
    t,
    'test:\n  echoOff: false\n  mac: { enabled: false }\n  ready: { timeoutMs: 4000, graceMs: 0 }\n  version: { binVersion: v3.4.0.0 }\n  requireAtPort: true\n',
  );
  assert.deepEqual(r.problems, []);
  const plan = r.prepared!.atTest!.plan;
  assert.equal(plan.echoOff, undefined);
  assert.equal(plan.mac, undefined);
  assert.deepEqual(plan.ready, { timeoutMs: 4000, graceMs: 0 });
  assert.equal(plan.version?.binVersion, 'v3.4.0.0');
  assert.equal(r.prepared!.atTest!.requireAtPort, true);
});

test('pins that contradict the image set are problems at their line, before any board', async (t) => {
  const yaml = [
    'test:', // 5
    '  baud: 921600', // 6
    '  version:', // 7
    '    binVersion: v3.3.0.0', // 8
    '    moduleName: MINI-1', // 9
    '  mfgRead:', // 10
    '    keys: [factory_param/module_name, factory_param/serial_no]', // 11
  ].join('\n');
  const r = await inspect(t, `${yaml}\n`);
  assert.equal(r.prepared, undefined, 'no firmware to run with');
  const byKey = new Map(r.problems.map((p) => [p.key, p]));
  assert.match(
    byKey.get('test.baud')!.message,
    /contradicts the image set's factory_param uart_baudrate 115200/,
  );
  assert.equal(byKey.get('test.baud')!.line, 6);
  const v = byKey.get('test.version.binVersion')!;
  assert.equal(v.line, 8);
  assert.match(v.message, /pins v3\.3\.0\.0, but the image set is v3\.4\.0\.0 \(.*sdkconfig:\d+\)/);
  assert.equal(byKey.get('test.version.moduleName')!.line, 9);
  const key = byKey.get('test.mfgRead.keys.1')!;
  assert.match(key.message, /factory_param\/serial_no is not in the image set's mfg_nvs/);
  assert.equal(key.line, 11);
  assert.ok(key.column! > 1);
});

test('a set that cannot say its version asks for a pin; an sdkconfig of another build is refused', async (t) => {
  const dir = await tempDir(t);
  const release = path.join(dir, 'release');
  for (const f of [
    'flasher_args.json',
    'bootloader/bootloader.bin',
    'partition_table/partition-table.bin',
    'ota_data_initial.bin',
    'at_customize.bin',
    'customized_partitions/mfg_nvs.bin',
    'esp-at.bin',
  ]) {
    mkdirSync(path.dirname(path.join(release, f)), { recursive: true });
    copyFileSync(path.join(REAL_AT_DIR, f), path.join(release, f));
  }
  // No sdkconfig next to the images.
  const noConfig = await inspect(t, 'test: {}\n', release);
  assert.match(noConfig.problems.map((p) => p.message).join('\n'), /pin test\.version\.binVersion/);
  assert.equal(noConfig.problems[0].key, 'test.version');
  // With a pin it works; with the step off too.
  assert.deepEqual((await inspect(t, 'test:\n  version: { binVersion: v3.4.0.0 }\n', release)).problems, []);
  assert.deepEqual((await inspect(t, 'test:\n  version: false\n', release)).problems, []);

  // An sdkconfig that names a version the app does not hold belongs to another build.
  const text = readFileSync(path.join(REAL_AT_DIR, 'sdkconfig'), 'utf8').replace(
    'CONFIG_ESP_AT_FW_VERSION="v3.4.0.0"',
    'CONFIG_ESP_AT_FW_VERSION="v3.5.0.0"',
  );
  writeFileSync(path.join(release, 'sdkconfig'), text);
  const other = await inspect(t, 'test: {}\n', release);
  const p = other.problems.find((x) => x.key === 'CONFIG_ESP_AT_FW_VERSION');
  assert.ok(p, JSON.stringify(other.problems));
  assert.equal(p.file, path.join(release, 'sdkconfig'));
  assert.equal(p.line, text.split('\n').findIndex((l) => l.startsWith('CONFIG_ESP_AT_FW_VERSION')) + 1);
  assert.match(p.message, /v3\.5\.0\.0 is not in the app esp-at\.bin/);
});

test('the demo set has what the test needs (sdkconfig, real mfg_nvs), so the demo profile checks clean', async () => {
  const { loadProfile } = await import('../../src/config/profile.ts');
  const { REPO_ROOT } = await import('./fixture-paths.ts');
  const r = await inspectProfileFirmware(
    await loadProfile(path.join(REPO_ROOT, 'stations/demo-esp32-at.yaml')),
  );
  assert.deepEqual(r.problems, []);
  const plan = r.prepared!.atTest!.plan;
  assert.equal(plan.version?.binVersion, 'v3.4.0.0-demo');
  assert.equal(plan.version?.moduleName, 'WROOM-32');
  assert.equal(plan.wifiScan?.ssid, 'esp-station-test');
});
