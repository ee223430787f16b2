import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseDeviceSource } from '../../src/station/detect/choose-source.ts';
import { VidPidFilter } from '../../src/station/detect/vid-pid-filter.ts';

test('auto picks hotplug only with a USB sysfs tree and a running udevd, and says why otherwise', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'choose-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const sys = join(root, 'sys');
  const udev = join(root, 'run-udev');
  const filter = new VidPidFilter([]);
  mkdirSync(join(sys, 'class/tty'), { recursive: true });

  const noUsb = chooseDeviceSource({ mode: 'auto', filter, sysRoot: sys, udevRunDir: udev });
  assert.equal(noUsb.source.mode, 'polling');
  assert.match(noUsb.reason, /bus\/usb\/devices is missing/);

  mkdirSync(join(sys, 'bus/usb/devices'), { recursive: true });
  const noUdev = chooseDeviceSource({ mode: 'auto', filter, sysRoot: sys, udevRunDir: udev });
  assert.equal(noUdev.source.mode, 'polling');
  assert.match(noUdev.reason, /udevd is not running/);

  mkdirSync(udev);
  const both = chooseDeviceSource({ mode: 'auto', filter, sysRoot: sys, udevRunDir: udev });
  assert.equal(both.source.mode, 'hotplug');

  assert.equal(chooseDeviceSource({ mode: 'polling', filter, sysRoot: sys }).source.mode, 'polling');
  assert.equal(chooseDeviceSource({ mode: 'hotplug', filter, sysRoot: sys }).source.mode, 'hotplug');
});
