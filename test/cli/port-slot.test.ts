// A one-board command's --port becomes the slot the station would see: on a native USB-Serial/JTAG board
// (303a:1001) that decides the reset sequence, exactly as in the station.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { slotForPort } from '../../src/cli/port-slot.ts';
import { FakeSysfs, trayDevices } from '../station/fake-sysfs.ts';

test('a tty is looked up in sysfs for its port path and VID:PID; socket:// and unknown ttys have none', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sysfs-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const sys = new FakeSysfs(root);
  for (const d of trayDevices()) sys.plug(d);
  assert.deepEqual(await slotForPort('/dev/ttyACM0', root), {
    portPath: '1-1.4',
    name: '/dev/ttyACM0',
    tty: '/dev/ttyACM0',
    vid: '303a',
    pid: '1001',
    usbSerial: 'F4:12:FA:5B:3C:10',
  });
  assert.equal((await slotForPort('/dev/ttyUSB1', root)).vid, '1a86');
  assert.deepEqual(await slotForPort('socket://127.0.0.1:5555', root), {
    portPath: 'socket://127.0.0.1:5555',
    name: 'socket://127.0.0.1:5555',
    tty: 'socket://127.0.0.1:5555',
    vid: '',
    pid: '',
  });
  assert.deepEqual(await slotForPort('/dev/ttyS0', root), {
    portPath: '/dev/ttyS0',
    name: '/dev/ttyS0',
    tty: '/dev/ttyS0',
    vid: '',
    pid: '',
  });
});
