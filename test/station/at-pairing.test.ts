/**
 * Pairing a slot's AT port from the same USB device (config.yaml `atPort: { interface: N }`) on a fake sysfs
 * tree: the walker, the polling source and the hotplug source report the download tty and the AT tty
 * together, wait for a second channel's tty that the driver makes a moment later, and never pair what is
 * not there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atInterfaceRule } from '../../src/station/detect/at-pairing.ts';
import type { BridgeDevice, DeviceListener } from '../../src/station/detect/bridge-device.ts';
import { HotplugDeviceSource } from '../../src/station/detect/hotplug-source.ts';
import { PollingDeviceSource } from '../../src/station/detect/polling-source.ts';
import { bridgesFromTtys, listUsbTtys } from '../../src/station/detect/sysfs-tty.ts';
import { VidPidFilter } from '../../src/station/detect/vid-pid-filter.ts';
import { FakeSysfs, trayDevices, type FakeUsbDevice } from './fake-sysfs.ts';
import { RecordedUsb, usbDevice } from './recorded-usb.ts';

const CP2105 = {
  vid: '10c4',
  pid: 'ea70',
  driver: 'cp210x',
  manufacturer: 'Silicon Labs',
  product: 'CP2105 Dual USB to UART Bridge Controller',
  serial: '00A1B2C3',
} as const;

/** A fixture slot: a CP2105 whose interface 0 flashes (UART0) and interface 1 is wired to UART1. */
function dual(portPath: string, devnum: number, ttys: [string, string]): FakeUsbDevice {
  return {
    portPath,
    devnum,
    ...CP2105,
    interfaces: [
      { number: 0, tty: ttys[0] },
      { number: 1, tty: ttys[1] },
    ],
  };
}

const FILTER = new VidPidFilter(['10c4:ea60', '10c4:ea70', '1a86:7523', '0403:6010']);
/** config.yaml: `atPort: { interface: 1 }` station-wide, slot 1-1.2 says none. */
const RULE = atInterfaceRule({
  atPort: { interface: 1 },
  slots: [{ usbPath: '1-1.2', atPort: 'none' }],
});

function tree(t: { after(fn: () => void): void }): FakeSysfs {
  const root = mkdtempSync(join(tmpdir(), 'sysfs-at-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return new FakeSysfs(root);
}

function recorder() {
  const log: string[] = [];
  const devices: BridgeDevice[] = [];
  const listener: DeviceListener = {
    attach: (d) => {
      devices.push(d);
      log.push(`+${d.portPath} ${d.tty}${d.atTty ? ` at ${d.atTty}` : ''}`);
    },
    detach: (p) => log.push(`-${p}`),
  };
  return { log, devices, listener };
}

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('interfaces 1-1.4:1.0 and 1-1.4:1.1 of one CP2105 are one slot: flash through one, AT port on the other', async (t) => {
  const sys = tree(t);
  const [cp, ch, ft] = trayDevices();
  sys.plug(dual('1-1.4', 9, ['ttyUSB5', 'ttyUSB6']));
  sys.plug(cp);
  sys.plug(ch);
  sys.plug(ft);
  const ttys = await listUsbTtys(sys.root);
  assert.deepEqual(
    ttys
      .filter((x) => x.portPath === '1-1.4')
      .map((x) => `${x.name} if${x.interfaceNumber}`)
      .sort(),
    ['ttyUSB5 if0', 'ttyUSB6 if1'],
  );
  const paired = bridgesFromTtys(ttys, RULE);
  assert.deepEqual(
    paired.map((b) => [b.portPath, b.tty, b.atTty]),
    [
      // A single-channel CP2102 has no interface 1: no AT port, nothing paired.
      ['1-1.1', '/dev/ttyUSB0', undefined],
      // The slot says none.
      ['1-1.2', '/dev/ttyUSB1', undefined],
      // A dual FTDI wired as a fixture: interface 1 is the AT port, so it flashes through interface 0.
      ['1-1.3', '/dev/ttyUSB2', '/dev/ttyUSB3'],
      ['1-1.4', '/dev/ttyUSB5', '/dev/ttyUSB6'],
    ],
  );
  // Without the rule nothing is paired and the dual FTDI keeps its ESP-Prog reading (interface 1 flashes).
  assert.deepEqual(
    bridgesFromTtys(ttys).map((b) => [b.portPath, b.tty, b.atTty]),
    [
      ['1-1.1', '/dev/ttyUSB0', undefined],
      ['1-1.2', '/dev/ttyUSB1', undefined],
      ['1-1.3', '/dev/ttyUSB3', undefined],
      ['1-1.4', '/dev/ttyUSB5', undefined],
    ],
  );
});

test('polling reports the pair, holds a dual bridge back until its second tty exists, and follows it', async (t) => {
  const sys = tree(t);
  const board = dual('1-1.4', 9, ['ttyUSB5', 'ttyUSB6']);
  const src = new PollingDeviceSource({
    sysRoot: sys.root,
    filter: FILTER,
    intervalMs: 15,
    atInterface: RULE,
  });
  t.after(() => src.stop());
  const r = recorder();
  await src.start(r.listener, { offerPresent: true });
  // The device and its first tty; the driver has not made the second one yet.
  sys.addUsbDevice(board);
  sys.addTty(board, board.interfaces[0]);
  await new Promise((res) => setTimeout(res, 120));
  assert.deepEqual(r.log, [], 'half a pair is not reported: the board would go untested');
  sys.addTty(board, board.interfaces[1]);
  await until(() => r.log.length === 1, 'the pair');
  assert.deepEqual(r.log, ['+1-1.4 /dev/ttyUSB5 at /dev/ttyUSB6']);
  // A single-channel bridge under the same rule is reported at once, without an AT port.
  const [cp] = trayDevices();
  sys.plug(cp);
  await until(() => r.log.length === 2, 'the CP2102');
  assert.equal(r.log[1], '+1-1.1 /dev/ttyUSB0');
  sys.unplug(board);
  await until(() => r.log.length === 3, 'removal');
  assert.equal(r.log[2], '-1-1.4');
});

test('polling gives up waiting for a second tty that never comes and reports the board without an AT port', async (t) => {
  const sys = tree(t);
  const board = dual('1-1.4', 9, ['ttyUSB5', 'ttyUSB6']);
  sys.addUsbDevice(board);
  sys.addTty(board, board.interfaces[0]);
  const src = new PollingDeviceSource({
    sysRoot: sys.root,
    filter: FILTER,
    intervalMs: 15,
    atInterface: RULE,
    atTtyWaitMs: 100,
  });
  t.after(() => src.stop());
  const r = recorder();
  await src.start(r.listener, { offerPresent: true });
  await until(() => r.log.length === 1, 'the board alone');
  assert.deepEqual(r.log, ['+1-1.4 /dev/ttyUSB5']);
  // The tty shows up after all: the same board, told again with its AT port (no detach, no second attempt).
  sys.addTty(board, board.interfaces[1]);
  await until(() => r.log.length === 2, 'the late AT port');
  assert.deepEqual(r.log, ['+1-1.4 /dev/ttyUSB5', '+1-1.4 /dev/ttyUSB5 at /dev/ttyUSB6']);
});

test('hotplug waits for both ttys of a dual bridge after the connect event and reports them as one slot', async (t) => {
  const sys = tree(t);
  const usb = new RecordedUsb();
  const src = new HotplugDeviceSource({
    sysRoot: sys.root,
    filter: FILTER,
    api: usb,
    ttyPollMs: 10,
    atInterface: RULE,
  });
  t.after(() => src.stop());
  const r = recorder();
  await src.start(r.listener, { offerPresent: false });
  const board = dual('1-1.4', 9, ['ttyUSB5', 'ttyUSB6']);
  sys.addUsbDevice(board);
  usb.emit('connect', usbDevice(0x10c4, 0xea70, [1, 4], 9, CP2105.serial));
  sys.addTty(board, board.interfaces[0]);
  await new Promise((res) => setTimeout(res, 80));
  assert.deepEqual(r.log, [], 'not before the AT tty exists');
  sys.addTty(board, board.interfaces[1]);
  await until(() => r.log.length === 1, 'attach');
  assert.deepEqual(r.log, ['+1-1.4 /dev/ttyUSB5 at /dev/ttyUSB6']);
  assert.equal(r.devices[0].usbSerial, CP2105.serial);
  // A CH340 under the same rule: one interface, nothing to wait for.
  const [, ch] = trayDevices();
  sys.plug({ ...ch, portPath: '1-1.5', devnum: 12, interfaces: [{ number: 0, tty: 'ttyUSB7' }] });
  usb.emit('connect', usbDevice(0x1a86, 0x7523, [1, 5], 12));
  await until(() => r.log.length === 2, 'CH340');
  assert.equal(r.log[1], '+1-1.5 /dev/ttyUSB7');
});
