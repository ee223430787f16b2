import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bridgesFromTtys, listUsbTtys } from '../../src/station/detect/sysfs-tty.ts';
import { FakeSysfs, RECORDED_BRIDGES, trayDevices } from './fake-sysfs.ts';

function tree(t: { after(fn: () => void): void }): FakeSysfs {
  const root = mkdtempSync(join(tmpdir(), 'sysfs-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return new FakeSysfs(root);
}

test('the sysfs walk maps each tty to its USB port path, interface, ids, strings and driver', async (t) => {
  const sys = tree(t);
  for (const d of trayDevices()) sys.plug(d);
  const ttys = (await listUsbTtys(sys.root)).sort((a, b) => a.name.localeCompare(b.name));
  assert.deepEqual(
    ttys.map(
      (x) =>
        `${x.name} ${x.portPath} if${x.interfaceNumber} ${x.vid}:${x.pid} ${x.usbSerial ?? '-'} ${x.driver}`,
    ),
    [
      'ttyACM0 1-1.4 if0 303a:1001 F4:12:FA:5B:3C:10 cdc_acm',
      'ttyUSB0 1-1.1 if0 10c4:ea60 0001 cp210x',
      'ttyUSB1 1-1.2 if0 1a86:7523 - ch341',
      'ttyUSB2 1-1.3 if0 0403:6010 - ftdi_sio',
      'ttyUSB3 1-1.3 if1 0403:6010 - ftdi_sio',
    ],
  );
  assert.deepEqual(ttys[1].ports, [1, 1]);
  assert.equal(ttys[1].busnum, 1);
  assert.equal(ttys[1].manufacturer, 'Silicon Labs');
  assert.equal(ttys[2].manufacturer, undefined, 'CH340 without manufacturer string');
});

test('one bridge per physical port; the dual FTDI flashes through interface 1 (interface 0 is JTAG)', async (t) => {
  const sys = tree(t);
  for (const d of trayDevices()) sys.plug(d);
  const bridges = bridgesFromTtys(await listUsbTtys(sys.root));
  assert.deepEqual(
    bridges.map((b) => [b.portPath, b.tty]),
    [
      ['1-1.1', '/dev/ttyUSB0'],
      ['1-1.2', '/dev/ttyUSB1'],
      ['1-1.3', '/dev/ttyUSB3'],
      ['1-1.4', '/dev/ttyACM0'],
    ],
  );
  assert.equal(bridges[1].usbSerial, undefined);
  assert.equal(bridges[3].usbSerial, RECORDED_BRIDGES.esp32s3UsbJtag.serial);
});

test('a re-plugged board under a renumbered tty keeps its port path', async (t) => {
  const sys = tree(t);
  const [cp] = trayDevices();
  sys.plug(cp);
  const before = bridgesFromTtys(await listUsbTtys(sys.root));
  sys.unplug(cp);
  assert.deepEqual(bridgesFromTtys(await listUsbTtys(sys.root)), []);
  sys.plug({ ...cp, devnum: 9, interfaces: [{ number: 0, tty: 'ttyUSB7' }] });
  const after = bridgesFromTtys(await listUsbTtys(sys.root));
  assert.equal(before[0].portPath, '1-1.1');
  assert.equal(after[0].portPath, '1-1.1');
  assert.equal(after[0].tty, '/dev/ttyUSB7');
});

test('deeper hub chains and a second bus give the kernel name bus-port.port.port', async (t) => {
  const sys = tree(t);
  sys.plug({
    portPath: '1-1.4.2',
    devnum: 12,
    ...RECORDED_BRIDGES.ch340,
    interfaces: [{ number: 0, tty: 'ttyUSB0' }],
  });
  sys.plug({
    portPath: '3-2',
    devnum: 3,
    ...RECORDED_BRIDGES.cp2102,
    interfaces: [{ number: 0, tty: 'ttyUSB1' }],
  });
  const bridges = bridgesFromTtys(await listUsbTtys(sys.root));
  assert.deepEqual(
    bridges.map((b) => b.portPath),
    ['1-1.4.2', '3-2'],
  );
});

test('a missing sysfs root or class dir yields no ttys rather than an error', async () => {
  assert.deepEqual(await listUsbTtys('/nonexistent-sysfs-root'), []);
});
