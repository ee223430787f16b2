import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BridgeDevice, DeviceListener } from '../../src/station/detect/bridge-device.ts';
import { HotplugDeviceSource, portPathOf, safeString } from '../../src/station/detect/hotplug-source.ts';
import type { HotplugUsbApi } from '../../src/station/detect/hotplug-source.ts';
import { PollingDeviceSource } from '../../src/station/detect/polling-source.ts';
import { normaliseVidPid, VidPidFilter } from '../../src/station/detect/vid-pid-filter.ts';
import { FakeSysfs, RECORDED_BRIDGES, trayDevices } from './fake-sysfs.ts';
import { RecordedUsb, usbDevice } from './recorded-usb.ts';

const ESP_BRIDGES = new VidPidFilter(['10c4:ea60', '1a86:7523', '0403:6010', '303a:1001']);

function recorder() {
  const log: string[] = [];
  const devices: BridgeDevice[] = [];
  const warnings: string[] = [];
  const listener: DeviceListener = {
    attach: (d) => {
      devices.push(d);
      log.push(`+${d.portPath} ${d.tty}`);
    },
    detach: (p) => log.push(`-${p}`),
    warn: (m) => warnings.push(m),
  };
  return { log, devices, warnings, listener };
}

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function tree(t: { after(fn: () => void): void }): FakeSysfs {
  const root = mkdtempSync(join(tmpdir(), 'sysfs-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return new FakeSysfs(root);
}

test('VID:PID filters accept config spellings and reject anything else', () => {
  assert.equal(normaliseVidPid('10C4:EA60'), '10c4:ea60');
  assert.equal(normaliseVidPid('0x303a:0x1001'), '303a:1001');
  assert.throws(() => normaliseVidPid('cp2102'), /VID:PID/);
  assert.equal(ESP_BRIDGES.matches('10c4', 'ea60'), true);
  assert.equal(ESP_BRIDGES.matches('046d', 'c31c'), false);
  assert.equal(new VidPidFilter([]).matches('046d', 'c31c'), true);
});

test('polling offers boards present at start, then reports plugs, unplugs and renumbered ttys', async (t) => {
  const sys = tree(t);
  const [cp, ch, ft] = trayDevices();
  sys.plug(cp);
  sys.plug({ portPath: '1-1.5', devnum: 11, ...RECORDED_BRIDGES.usbKeyboard, interfaces: [{ number: 0 }] });
  const src = new PollingDeviceSource({ sysRoot: sys.root, filter: ESP_BRIDGES, intervalMs: 20 });
  t.after(() => src.stop());
  const r = recorder();
  await src.start(r.listener, { offerPresent: true });
  assert.deepEqual(r.log, ['+1-1.1 /dev/ttyUSB0']);
  sys.plug(ch);
  sys.plug(ft);
  await until(() => r.log.length === 3, 'two attaches');
  assert.deepEqual(r.log.slice(1).sort(), ['+1-1.2 /dev/ttyUSB1', '+1-1.3 /dev/ttyUSB3']);
  sys.unplug(cp);
  await until(() => r.log.length === 4, 'detach');
  assert.equal(r.log[3], '-1-1.1');
  // Unplug and re-plug between two scans under another tty: seen as detach + attach of the same port.
  await src.stop();
  sys.unplug(ch);
  sys.plug({ ...ch, devnum: 20, interfaces: [{ number: 0, tty: 'ttyUSB9' }] });
  const r2 = recorder();
  const src2 = new PollingDeviceSource({ sysRoot: sys.root, filter: ESP_BRIDGES, intervalMs: 20 });
  t.after(() => src2.stop());
  await src2.start(r2.listener, { offerPresent: false });
  assert.deepEqual(r2.log, [], 'boards present at start are not offered when configured so');
  sys.unplug({ ...ch, interfaces: [{ number: 0, tty: 'ttyUSB9' }] });
  sys.plug({ ...ch, devnum: 21, interfaces: [{ number: 0, tty: 'ttyUSB4' }] });
  await until(() => r2.log.length >= 1, 'renumbered attach');
  assert.deepEqual(r2.log.slice(-1), ['+1-1.2 /dev/ttyUSB4']);
});

test('usb v3 shapes: bus "001" + ports [1,4,2] name the kernel device 1-1.4.2; throwing getters are survived', () => {
  assert.equal(portPathOf({ bus: '001', ports: [1, 4, 2] }), '1-1.4.2');
  assert.equal(portPathOf({ bus: '012', ports: [3] }), '12-3');
  const d = usbDevice(0x1a86, 0x7523, [1, 2], 6);
  assert.equal(
    safeString(() => d.serialNumber),
    undefined,
  );
  assert.equal(
    safeString(() => usbDevice(0x10c4, 0xea60, [1, 1], 5, '0001').serialNumber),
    '0001',
  );
});

test('hotplug waits for the tty after the USB connect event, filters by VID:PID and reports removal', async (t) => {
  const sys = tree(t);
  const usb = new RecordedUsb();
  const [cp, ch, , s3] = trayDevices();
  sys.plug(cp);
  usb.devices = [usbDevice(0x10c4, 0xea60, [1, 1], 5, '0001'), usbDevice(0x05e3, 0x0610, [1], 2)];
  const src = new HotplugDeviceSource({ sysRoot: sys.root, filter: ESP_BRIDGES, api: usb, ttyPollMs: 10 });
  t.after(() => src.stop());
  const r = recorder();
  await src.start(r.listener, { offerPresent: true });
  assert.deepEqual(r.log, ['+1-1.1 /dev/ttyUSB0']);
  assert.equal(r.devices[0].usbSerial, '0001');

  // The USB device appears first, its tty only once the driver binds.
  sys.addUsbDevice(ch);
  const chDev = usbDevice(0x1a86, 0x7523, [1, 2], 6);
  usb.emit('connect', chDev);
  await new Promise((res) => setTimeout(res, 60));
  assert.equal(r.log.length, 1, 'no attach before the tty exists');
  sys.addTty(ch, ch.interfaces[0]);
  await until(() => r.log.length === 2, 'CH340 attach');
  assert.equal(r.log[1], '+1-1.2 /dev/ttyUSB1');
  assert.equal(r.devices[1].usbSerial, undefined, 'CH340 has no serial; the throwing getter did not escape');

  // Native USB: the serial number is the MAC.
  sys.plug(s3);
  usb.emit('connect', usbDevice(0x303a, 0x1001, [1, 4], 8, s3.serial));
  await until(() => r.log.length === 3, 'S3 attach');
  assert.equal(r.devices[2].usbSerial, 'F4:12:FA:5B:3C:10');

  // A keyboard is ignored; a repeated connect for a present port is ignored.
  usb.emit('connect', usbDevice(0x046d, 0xc31c, [1, 5], 11));
  usb.emit('connect', chDev);
  sys.unplug(ch);
  usb.emit('disconnect', chDev);
  await until(() => r.log.length === 4, 'CH340 detach');
  assert.equal(r.log[3], '-1-1.2');
  await src.stop();
  assert.equal(usb.listenerCount(), 0, 'listeners removed on stop');
});

test('hotplug gives up on a device whose tty never appears, with a warning, and cancels on removal', async (t) => {
  const sys = tree(t);
  const usb = new RecordedUsb();
  const src = new HotplugDeviceSource({
    sysRoot: sys.root,
    filter: ESP_BRIDGES,
    api: usb,
    ttyPollMs: 10,
    ttyWaitMs: 80,
  });
  t.after(() => src.stop());
  const r = recorder();
  await src.start(r.listener, { offerPresent: false });
  usb.emit('connect', usbDevice(0x10c4, 0xea60, [1, 3], 9, '0002'));
  await until(() => r.warnings.length === 1, 'warning');
  assert.match(r.warnings[0], /10c4:ea60 at 1-1.3 has no tty/);
  assert.deepEqual(r.log, []);
});

test('without /sys/bus/usb the hotplug source refuses to start instead of crashing the process', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'nosys-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const src = new HotplugDeviceSource({ sysRoot: root, filter: ESP_BRIDGES });
  await assert.rejects(src.start(recorder().listener, { offerPresent: true }), /hotplug unavailable/);
});

test('auto detection falls back to polling when hotplug cannot start, and says so', async (t) => {
  const { FallbackDeviceSource } = await import('../../src/station/detect/fallback-source.ts');
  const sys = tree(t);
  const [cp] = trayDevices();
  sys.plug(cp);
  const broken: HotplugUsbApi = {
    addEventListener: () => {
      throw new Error('netlink socket: permission denied');
    },
    removeEventListener: () => undefined,
    getDevices: async () => [],
  };
  const src = new FallbackDeviceSource(
    new HotplugDeviceSource({ sysRoot: sys.root, filter: ESP_BRIDGES, api: broken }),
    new PollingDeviceSource({ sysRoot: sys.root, filter: ESP_BRIDGES, intervalMs: 20 }),
    'hotplug',
    (err) => `polling: hotplug did not start (${err.message})`,
  );
  t.after(() => src.stop());
  const r = recorder();
  await src.start(r.listener, { offerPresent: true });
  assert.equal(src.mode, 'polling');
  assert.match(src.note, /permission denied/);
  assert.deepEqual(r.warnings, [src.note]);
  assert.deepEqual(r.log, ['+1-1.1 /dev/ttyUSB0']);
});

test('FTDI ttys get their latency timer set to 1 ms as they attach; other bridges are left alone', async (t) => {
  const sys = tree(t);
  const [cp, , ft] = trayDevices();
  sys.plug(cp);
  sys.plug(ft);
  const src = new PollingDeviceSource({ sysRoot: sys.root, filter: ESP_BRIDGES, intervalMs: 20 });
  t.after(() => src.stop());
  const r = recorder();
  await src.start(r.listener, { offerPresent: true });
  const ftTty = r.devices.find((d) => d.vid === '0403')!.tty.replace('/dev/', '');
  const timer = join(sys.root, 'class/tty', ftTty, 'device/latency_timer');
  await until(() => readFileSync(timer, 'utf8').trim() === '1', 'latency_timer 1');
  assert.deepEqual(r.warnings, []);
  assert.equal(existsSync(join(sys.root, 'class/tty/ttyUSB0/device/latency_timer')), false, 'CP2102: none');
});

test('an FTDI tty whose latency timer cannot be set: the operator is told how to fix it', async (t) => {
  const sys = tree(t);
  const [, , ft] = trayDevices();
  sys.plug(ft);
  const src = new PollingDeviceSource({ sysRoot: sys.root, filter: ESP_BRIDGES, intervalMs: 20 });
  t.after(() => src.stop());
  const r = recorder();
  // The attribute is missing (a kernel without it, or a driver other than ftdi_sio).
  const tty = 'ttyUSB3';
  rmSync(join(sys.root, 'class/tty', tty, 'device/latency_timer'));
  await src.start(r.listener, { offerPresent: true });
  await until(() => r.warnings.length === 1, 'a warning');
  assert.match(
    r.warnings[0],
    /\/dev\/ttyUSB3 \(FTDI\): could not set .*latency_timer to 1 ms \(ENOENT\).*udev rule/,
  );
});
