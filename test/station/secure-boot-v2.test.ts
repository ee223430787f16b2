/**
 * Defect 5 of issue 12: Secure Boot V2 on an ESP32 ≥ v3.0 is ABS_DONE_1 (eFuse 0x3FF5A018 bit 5), which esptool
 * `targets/esp32.py get_secure_boot_enabled` reads besides V1's ABS_DONE_0. A V2 board is refused, and where a
 * profile allows secure boot its signed bootloader is written exactly as built (never a patched header).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHIPS } from '../../src/esp/chips/index.ts';
import { secureBootFromFuses } from '../../src/esp/chips/secure-boot.ts';
import { SimBoard } from '../../src/sim/board.ts';
import { simLoader } from '../esp/sim-link.ts';
import { flashDifference, rigPortPath, startRig } from '../reliability/station-rig.ts';

const ABS_DONE = 0x3ff5a018;

test('ESP32 secure boot from eFuse: ABS_DONE_0 = V1 on any revision, ABS_DONE_1 = V2 only from v3.0', async () => {
  const read = (word: number) => (addr: number) => Promise.resolve(addr === ABS_DONE ? word : 0);
  assert.equal(await secureBootFromFuses(CHIPS.esp32, 300, read(1 << 4)), 1);
  assert.equal(await secureBootFromFuses(CHIPS.esp32, 100, read(1 << 4)), 1);
  assert.equal(await secureBootFromFuses(CHIPS.esp32, 300, read(1 << 5)), 2);
  assert.equal(await secureBootFromFuses(CHIPS.esp32, 301, read(1 << 5)), 2);
  // Before v3.0 the bit means nothing to secure boot (esptool: `rev >= 300 and ABS_DONE_1`).
  assert.equal(await secureBootFromFuses(CHIPS.esp32, 200, read(1 << 5)), undefined);
  assert.equal(await secureBootFromFuses(CHIPS.esp32, 300, read(0)), undefined);
});

test('the simulator burns the eFuse of the version asked, and refuses a version the chip does not have', () => {
  assert.equal(new SimBoard({ chip: 'esp32', secureBoot: 'v1' }).secureBootVersion, 1);
  assert.equal(new SimBoard({ chip: 'esp32', secureBoot: 'v2' }).secureBootVersion, 2);
  assert.equal(new SimBoard({ chip: 'esp32', revision: 100, secureBoot: true }).secureBootVersion, 1);
  assert.equal(new SimBoard({ chip: 'esp32', secureBoot: true }).secureBootVersion, 2);
  assert.equal(new SimBoard({ chip: 'esp32c3', secureBoot: true }).secureBootVersion, 2);
  assert.throws(
    () => new SimBoard({ chip: 'esp32', revision: 100, secureBoot: 'v2' }),
    /ESP32 v1\.0 has no Secure Boot V2 \(it has V1\)/,
  );
  assert.throws(
    () => new SimBoard({ chip: 'esp32c3', secureBoot: 'v1' }),
    /has no Secure Boot V1 \(it has V2\)/,
  );
});

test('identify reports V1 and V2 on an ESP32 v3.0 from the eFuse bits', async (t) => {
  for (const version of ['v1', 'v2'] as const) {
    const { loader } = await simLoader(t, { chip: 'esp32', secureBoot: version });
    const id = await loader.identify();
    assert.equal(id.revision, 300);
    assert.equal(id.secureBoot, true, version);
    assert.equal(id.secureBootVersion, version === 'v1' ? 1 : 2);
  }
  const { loader } = await simLoader(t, { chip: 'esp32' });
  const id = await loader.identify();
  assert.equal(id.secureBoot, false);
  assert.equal(id.secureBootVersion, undefined);
});

test('a Secure Boot V2 ESP32 is refused before any write; allowed, its bootloader is written unpatched', async (t) => {
  const strict = await startRig({ concurrency: 1, policy: { regionRetries: 0, boardRetriesPerBaud: 0 } });
  t.after(() => strict.close());
  const refused = new SimBoard({ timing: 'fast', secureBoot: 'v2', mac: '24:0A:C4:5B:02:01' });
  const res = await strict.plug(rigPortPath(0), refused);
  assert.equal(res.result, 'fail', res.message);
  assert.equal(res.code, 'security-enabled');
  assert.equal(refused.flash.allocatedBytes, 0, 'refused before the first write');

  const lenient = await startRig({
    concurrency: 1,
    policy: { allowSecureBoot: true, regionRetries: 0, boardRetriesPerBaud: 0 },
  });
  t.after(() => lenient.close());
  const allowed = new SimBoard({ timing: 'fast', secureBoot: 'v2', mac: '24:0A:C4:5B:02:02' });
  const ok = await lenient.plug(rigPortPath(0), allowed);
  assert.equal(ok.result, 'pass', ok.message);
  const asBuilt = lenient.firmware.regionsFor(allowed.flash.size, { secureBoot: true });
  assert.equal(flashDifference(allowed, asBuilt), undefined, 'the V2 board holds the set as built');
});
