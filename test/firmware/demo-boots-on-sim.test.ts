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
test('the prepared demo firmware, written to a simulated ESP32 flash, boots: "ready" on the AT port, never UART0', async () => {
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
    revision: 300,
  });
  assert.deepEqual(
    [boot.bootloader, boot.partitionTable, boot.app],
    [true, true, true],
    boot.bootLines.join('\n'),
  );
  assert.ok(boot.atFirmware, 'the demo app is read as an ESP-AT app');
  // UART0 carries the boot log only: a station waiting for `ready` there would fail every real board.
  assert.ok(![...boot.bootLines, ...boot.appLines].some((l) => l.includes('ready')));
  assert.ok(boot.appLines.includes('at param mode: 1'), boot.appLines.join('\n'));
  assert.ok(boot.bootLines.some((l) => l.includes('boot: Loaded app from partition at offset 0x100000')));
  assert.ok(boot.bootLines.some((l) => l.includes('boot: chip revision: v3.0')));

  // Without the app the same board does not get there.
  const bare = new NorFlash(4 * 1024 * 1024);
  for (const r of fw.regions.filter((x) => x.offset !== 0x100000)) bare.program(r.offset, r.data);
  const noApp = flashBootLog(bare, chip, simChipExtras('esp32'), {
    flashEncryption: false,
    secureBoot: false,
    revision: 300,
  });
  assert.equal(noApp.app, false);
  assert.equal(noApp.atFirmware, undefined);
});
