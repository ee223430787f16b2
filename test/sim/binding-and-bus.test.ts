import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerialPortStream } from '@serialport/stream';
import { SimBinding } from '../../src/sim/binding.ts';
import { SimBoard } from '../../src/sim/board.ts';
import { VirtualUsbBus, type UsbDeviceInfo } from '../../src/sim/usb-bus.ts';

function open(binding: SimBinding, path: string, baudRate = 115200): Promise<SerialPortStream> {
  const port = new SerialPortStream({ binding, path, baudRate, autoOpen: false });
  return new Promise((resolve, reject) => port.open((err) => (err ? reject(err) : resolve(port))));
}

function set(port: SerialPortStream, dtr: boolean, rts: boolean): Promise<void> {
  return new Promise((resolve, reject) => port.set({ dtr, rts }, (err) => (err ? reject(err) : resolve())));
}

function close(port: SerialPortStream): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}

test('SerialPortStream over SimBinding: list, lock, DTR/RTS reset into the ROM, data both ways', async (t) => {
  const binding = new SimBinding();
  const board = new SimBoard({ chip: 'esp32' });
  binding.plug('/dev/ttyUSB7', board, { vendorId: '10c4', productId: 'ea60', serialNumber: 'ABC' });
  t.after(() => binding.unplug('/dev/ttyUSB7'));
  assert.deepEqual(
    (await binding.list()).map((p) => [p.path, p.vendorId, p.serialNumber]),
    [['/dev/ttyUSB7', '10c4', 'ABC']],
  );
  const port = await open(binding, '/dev/ttyUSB7');
  t.after(() => close(port));
  await assert.rejects(open(binding, '/dev/ttyUSB7'), /Cannot lock port/);
  await assert.rejects(open(binding, '/dev/ttyUSB9'), /No such file/);
  let text = '';
  port.on('data', (d: Buffer) => (text += d.toString('latin1')));
  await set(port, false, true);
  await set(port, true, false);
  await new Promise((r) => setTimeout(r, 10));
  await set(port, false, false);
  for (let i = 0; i < 100 && !text.includes('waiting for download'); i++)
    await new Promise((r) => setTimeout(r, 5));
  assert.match(text, /waiting for download/);
  text = '';
  port.write(Buffer.from('c0000a04000000000000100040c0', 'hex'));
  for (let i = 0; i < 100 && text.length < 14; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(Buffer.from(text, 'latin1').toString('hex'), 'c0010a0400831df00000000000c0');
});

test('unplug while open: the stream closes as disconnected, the tty number stays taken until closed', async (t) => {
  const bus = new VirtualUsbBus();
  const board = new SimBoard({ chip: 'esp32' });
  const first = bus.plugBoard('1-1.4.2', board, { vidPid: '10c4:ea60', usbSerial: '0001' });
  assert.equal(first.tty, '/dev/ttyUSB0');
  const port = await open(bus.binding, first.tty);
  const closed = new Promise<Error & { disconnected?: boolean }>((resolve) => port.once('close', resolve));
  port.on('error', () => {});
  // A pending read is how a stream notices an unplug (as with the real binding).
  port.on('data', () => {});
  bus.unplug('1-1.4.2');
  const err = await closed;
  assert.equal(err.disconnected, true);
  // The old tty is still held by the process: the re-plugged board is renumbered.
  const again = bus.plugBoard('1-1.4.2', board, { vidPid: '10c4:ea60', usbSerial: '0001' });
  t.after(() => bus.unplug('1-1.4.2'));
  assert.equal(again.tty, '/dev/ttyUSB0', 'SerialPortStream released the fd on disconnect');
  assert.equal(board.mode, 'app', 'powered up again and booted');
  // A process that keeps the dead tty open (no close after the error) pins its number: re-plug renumbers.
  const held = await bus.binding.open({ path: again.tty, baudRate: 115200 });
  bus.unplug('1-1.4.2');
  await assert.rejects(held.read(Buffer.alloc(16), 0, 16), /EIO: device disconnected/);
  assert.equal(held.isOpen, true, 'isOpen stays true until close() (serialport disconnect contract)');
  const third = bus.plugBoard('1-1.4.2', board, { vidPid: '10c4:ea60', usbSerial: '0001' });
  assert.equal(third.tty, '/dev/ttyUSB1');
  await held.close();
});

test('VirtualUsbBus: attach/detach events with port path, VID:PID, serial and tty; CH340 has no serial', async (t) => {
  const bus = new VirtualUsbBus();
  const events: [string, UsbDeviceInfo][] = [];
  bus.on('attach', (d) => events.push(['attach', d]));
  bus.on('detach', (d) => events.push(['detach', d]));
  const a = bus.plugBoard('1-1.1', new SimBoard({ mac: '24:0a:c4:00:00:01' }));
  const b = bus.plugBoard('1-1.2', new SimBoard(), { vidPid: '1a86:7523' });
  const c = bus.plugBoard('2-3.1', new SimBoard({ chip: 'esp32c3' }), { vidPid: '303a:1001' });
  t.after(() => {
    for (const d of bus.list()) bus.unplug(d.portPath);
  });
  assert.deepEqual(
    [a, b, c].map((d) => [
      d.portPath,
      d.busnum,
      d.ports,
      d.vid.toString(16),
      d.pid.toString(16),
      d.tty,
      d.usbSerial,
    ]),
    [
      ['1-1.1', 1, [1, 1], '10c4', 'ea60', '/dev/ttyUSB0', '240AC4000001'],
      ['1-1.2', 1, [1, 2], '1a86', '7523', '/dev/ttyUSB1', undefined],
      ['2-3.1', 2, [3, 1], '303a', '1001', '/dev/ttyACM0', c.usbSerial],
    ],
  );
  assert.equal(b.manufacturer, 'QinHeng Electronics');
  bus.unplug('1-1.1');
  const d = bus.plugBoard('1-1.3', new SimBoard());
  assert.equal(d.tty, '/dev/ttyUSB0', 'lowest free number');
  assert.deepEqual(
    events.map(([kind, dev]) => `${kind} ${dev.portPath}`),
    ['attach 1-1.1', 'attach 1-1.2', 'attach 2-3.1', 'detach 1-1.1', 'attach 1-1.3'],
  );
  assert.throws(() => bus.plugBoard('1-1.3', new SimBoard()), /already has a device/);
  assert.throws(() => bus.plugBoard('usb3', new SimBoard()), /not a USB port path/);
});
