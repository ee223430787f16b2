/**
 * The real hotplug path, no hardware: the `usb` package (nusb underneath) listens to udev's netlink group in a
 * private network namespace while a fake sysfs tree is bind-mounted over /sys in a private mount namespace
 * (node-platform.md §2.3). Needs root and util-linux `unshare`; CI runs as root, so missing either is a FAILURE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { FakeSysfs, trayDevices } from './fake-sysfs.ts';
import type { FakeUsbDevice } from './fake-sysfs.ts';

const child = fileURLToPath(new URL('./hotplug-namespace-child.ts', import.meta.url));

function udevProps(action: 'add' | 'remove', devpath: string, d: FakeUsbDevice): string[] {
  const bus = d.portPath.split('-')[0].padStart(3, '0');
  const dev = String(d.devnum).padStart(3, '0');
  // The fields systemd-udevd broadcasts for a USB device (udevadm monitor --udev --property).
  return [
    `ACTION=${action}`,
    `DEVPATH=${devpath}`,
    'SUBSYSTEM=usb',
    `DEVNAME=/dev/bus/usb/${bus}/${dev}`,
    'DEVTYPE=usb_device',
    `PRODUCT=${d.vid}/${d.pid}/100`,
    'TYPE=0/0/0',
    `BUSNUM=${bus}`,
    `DEVNUM=${dev}`,
    'SEQNUM=4711',
    'MAJOR=189',
    `MINOR=${d.devnum}`,
    `ID_VENDOR_ID=${d.vid}`,
    `ID_MODEL_ID=${d.pid}`,
    `ID_PATH=pci-0000:00:14.0-usb-0:${d.portPath.split('-')[1]}`,
    ...(d.serial ? [`ID_SERIAL_SHORT=${d.serial}`] : []),
  ];
}

test('the real usb-based detector sees udev hotplug in a private namespace over a fake sysfs', async (t) => {
  if (process.getuid?.() !== 0) {
    assert.fail(
      'hotplug-namespace test needs root (unshare -m -n and netlink multicast send); run the suite as root',
    );
  }
  const hasUnshare = spawnSync('unshare', ['--version']).status === 0;
  assert.ok(hasUnshare, 'hotplug-namespace test needs util-linux `unshare` on PATH');

  const root = mkdtempSync(join(tmpdir(), 'fake-sys-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const sys = new FakeSysfs(root);
  const [cp, ch, ft, s3] = trayDevices();
  sys.plug(cp); // present at start

  const proc = spawn(
    'unshare',
    [
      '-m',
      '-n',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount --bind "$0" /sys && exec "$1" --import tsx "$2"',
      root,
      process.execPath,
      child,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  t.after(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  });
  const msgs: { ev: string; [k: string]: unknown }[] = [];
  createInterface({ input: proc.stdout }).on('line', (l) => {
    try {
      msgs.push(JSON.parse(l));
    } catch {
      msgs.push({ ev: 'noise', line: l });
    }
  });
  const waitFor = async (
    pred: (m: (typeof msgs)[number]) => boolean,
    what: string,
  ): Promise<(typeof msgs)[number]> => {
    const end = Date.now() + 15_000;
    while (Date.now() < end) {
      const m = msgs.find(pred);
      if (m) return m;
      if (proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail(`waiting for ${what}: child exit ${proc.exitCode}, got ${JSON.stringify(msgs)}\n${stderr}`);
  };
  const send = (uevent: string[]): void => void proc.stdin.write(`${JSON.stringify({ uevent })}\n`);

  await waitFor((m) => m.ev === 'ready', 'detector ready');
  const first = await waitFor((m) => m.ev === 'attach', 'board present at start');
  assert.deepEqual(first.device, {
    portPath: '1-1.1',
    tty: '/dev/ttyUSB0',
    vid: '10c4',
    pid: 'ea60',
    usbSerial: '0001',
    manufacturer: 'Silicon Labs',
    product: 'CP2102 USB to UART Bridge Controller',
  });

  // CH340: the udev event arrives before the driver made the tty; the detector must wait for it.
  const chPath = sys.addUsbDevice(ch);
  send(udevProps('add', chPath, ch));
  await waitFor((m) => m.ev === 'sent', 'uevent sent');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(msgs.filter((m) => m.ev === 'attach').length, 1, 'no attach before the tty exists');
  sys.addTty(ch, ch.interfaces[0]);
  const chAttach = await waitFor(
    (m) => m.ev === 'attach' && (m.device as { portPath: string }).portPath === '1-1.2',
    'CH340',
  );
  assert.equal((chAttach.device as { tty: string }).tty, '/dev/ttyUSB1');
  assert.equal((chAttach.device as { usbSerial?: string }).usbSerial, undefined);

  // Dual FTDI → interface 1's tty; native USB-Serial/JTAG → ttyACM0 with the MAC as serial.
  send(udevProps('add', sys.plug(ft), ft));
  send(udevProps('add', sys.plug(s3), s3));
  const ftAttach = await waitFor(
    (m) => m.ev === 'attach' && (m.device as { portPath: string }).portPath === '1-1.3',
    'FTDI',
  );
  assert.equal((ftAttach.device as { tty: string }).tty, '/dev/ttyUSB3');
  const s3Attach = await waitFor(
    (m) => m.ev === 'attach' && (m.device as { portPath: string }).portPath === '1-1.4',
    'S3',
  );
  assert.equal((s3Attach.device as { tty: string }).tty, '/dev/ttyACM0');
  assert.equal((s3Attach.device as { usbSerial: string }).usbSerial, 'F4:12:FA:5B:3C:10');

  // A keyboard plugged in is filtered out by VID:PID.
  const kb: FakeUsbDevice = {
    portPath: '1-1.6',
    devnum: 14,
    vid: '046d',
    pid: 'c31c',
    driver: 'usbhid',
    interfaces: [{ number: 0 }],
  };
  send(udevProps('add', sys.plug(kb), kb));

  // Remove the CH340 (udev sends remove after the kernel tore the dirs down), then re-plug it renumbered.
  const chDevpath = `/${sys.devicePath(ch.portPath)}`;
  sys.unplug(ch);
  send(udevProps('remove', chDevpath, ch));
  await waitFor((m) => m.ev === 'detach' && m.portPath === '1-1.2', 'CH340 removal');
  const ch2: FakeUsbDevice = { ...ch, devnum: 15, interfaces: [{ number: 0, tty: 'ttyUSB5' }] };
  send(udevProps('add', sys.plug(ch2), ch2));
  const again = await waitFor(
    (m) => m.ev === 'attach' && (m.device as { tty: string }).tty === '/dev/ttyUSB5',
    'CH340 re-plugged with a renumbered tty',
  );
  assert.equal((again.device as { portPath: string }).portPath, '1-1.2', 'same slot, new tty');

  proc.stdin.write(`${JSON.stringify({ quit: true })}\n`);
  await new Promise((r) => proc.once('exit', r));
  const attaches = msgs
    .filter((m) => m.ev === 'attach')
    .map((m) => (m.device as { portPath: string }).portPath);
  assert.deepEqual(
    attaches.sort(),
    ['1-1.1', '1-1.2', '1-1.2', '1-1.3', '1-1.4'],
    'the keyboard never showed up',
  );
  assert.deepEqual(
    msgs.filter((m) => m.ev === 'send-failed'),
    [],
  );
});
