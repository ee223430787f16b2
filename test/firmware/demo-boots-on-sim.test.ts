import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadProfile } from '../../src/config/profile.ts';
import { chipByName } from '../../src/esp/chips/index.ts';
import { loadProfileFirmware } from '../../src/firmware/profile-firmware.ts';
import { flashBootLog } from '../../src/sim/boot-log.ts';
import { simChipExtras } from '../../src/sim/chip-extras.ts';
import { NorFlash } from '../../src/sim/nor-flash.ts';
import { REPO_ROOT } from './fixture-paths.ts';

// The simulated chip decides what boots from what is really in its flash; the demo set must satisfy it.
test('the prepared demo firmware, written to a simulated ESP32 flash, boots to "ready"', async () => {
  const fw = await loadProfileFirmware(
    await loadProfile(path.join(REPO_ROOT, 'stations/demo-esp32-at.yaml')),
  );
  assert.equal(fw.demo, true);
  assert.equal(fw.profileName, 'demo-esp32-at');
  const flash = new NorFlash(4 * 1024 * 1024);
  for (const r of fw.regionsFor(flash.size)) flash.program(r.offset, r.data);
  const chip = chipByName('esp32')!;
  const boot = flashBootLog(flash, chip, simChipExtras('esp32'), {
    flashEncryption: false,
    secureBoot: false,
  });
  assert.deepEqual(
    [boot.bootloader, boot.partitionTable, boot.app],
    [true, true, true],
    boot.bootLines.join('\n'),
  );
  assert.ok(boot.appLines.includes('ready'), boot.appLines.join('\n'));

  // Without the app the same board does not get there.
  const bare = new NorFlash(4 * 1024 * 1024);
  for (const r of fw.regions.filter((x) => x.offset !== 0x100000)) bare.program(r.offset, r.data);
  const noApp = flashBootLog(bare, chip, simChipExtras('esp32'), {
    flashEncryption: false,
    secureBoot: false,
  });
  assert.equal(noApp.app, false);
  assert.ok(!noApp.appLines.includes('ready'));
});
