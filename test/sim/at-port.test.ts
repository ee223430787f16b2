/**
 * The simulated board's AT port against the board-test room's client: after a reset the ESP-AT app boots from
 * what is in flash (the real v3.4.0.0 release here) and answers on its own UART at factory_param's rate.
 * Every strictness has a case in which the wrong host behaviour fails.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { test, type TestContext } from 'node:test';
import { AtClient } from '../../src/board-test/at-client.ts';
import type { BoardTestPlan } from '../../src/board-test/plan.ts';
import { runBoardTest } from '../../src/board-test/run-test.ts';
import { decodePartition, generatePartition, withValue } from '../../src/nvs/index.ts';
import { openTransport, type Transport } from '../../src/serial/transport.ts';
import { SimBoard, type SimBoardOptions } from '../../src/sim/board.ts';
import { VirtualUsbBus } from '../../src/sim/usb-bus.ts';
import { REAL_AT_DIR } from '../firmware/fixture-paths.ts';
import { fixImage } from '../support/fix-image.ts';

const FILES: [number, string][] = [
  [0x1000, 'bootloader/bootloader.bin'],
  [0x8000, 'partition_table/partition-table.bin'],
  [0x10000, 'ota_data_initial.bin'],
  [0x20000, 'at_customize.bin'],
  [0x21000, 'customized_partitions/mfg_nvs.bin'],
  [0x100000, 'esp-at.bin'],
];
const MFG = readFileSync(join(REAL_AT_DIR, 'customized_partitions/mfg_nvs.bin'));
const NAMESPACES = [
  'server_cert',
  'server_key',
  'server_ca',
  'client_cert',
  'client_key',
  'client_ca',
  'mqtt_cert',
  'mqtt_key',
  'mqtt_ca',
  'factory_param',
  'ble_data',
];

/** What the release says: Bin version from its sdkconfig, SDK from the app descriptor, names from mfg_nvs. */
function plan(over: Partial<BoardTestPlan> = {}): BoardTestPlan {
  return {
    baud: 115200,
    // Generous limits: the machine running the suite may be loaded; the cases about time set their own.
    ready: { timeoutMs: 5000, graceMs: 0 },
    echoOff: { timeoutMs: 2000 },
    at: { timeoutMs: 2000 },
    version: { timeoutMs: 2000, binVersion: 'v3.4.0.0', moduleName: 'WROOM-32', sdkVersion: 'v5.0.6-dirty' },
    mac: { timeoutMs: 2000 },
    mfg: { timeoutMs: 2000, namespaces: NAMESPACES },
    mfgRead: {
      timeoutMs: 2000,
      values: [
        { namespace: 'factory_param', key: 'module_name', type: 'string', value: 'WROOM-32' },
        { namespace: 'factory_param', key: 'uart_baudrate', type: 'i32', value: '115200' },
        { namespace: 'factory_param', key: 'max_tx_power', type: 'i8', value: '78' },
      ],
    },
    wifiScan: { timeoutMs: 2000, ssid: 'esp-station-test', minRssi: -70 },
    ...over,
  };
}

interface Rig {
  board: SimBoard;
  bus: VirtualUsbBus;
  download: string;
  at: string;
}

function rig(t: TestContext, opts: SimBoardOptions = {}, mfg: Uint8Array = MFG): Rig {
  const board = new SimBoard({ chip: 'esp32', mac: '24:0a:c4:12:34:56', ...opts });
  for (const [offset, file] of FILES) {
    board.flash.program(offset, offset === 0x21000 ? mfg : readFileSync(join(REAL_AT_DIR, file)));
  }
  const bus = new VirtualUsbBus();
  const dev = bus.plugBoard('1-1.4', board, { vidPid: '10c4:ea70' });
  t.after(() => bus.unplug('1-1.4'));
  assert.deepEqual(
    dev.interfaces.map((i) => i.interfaceNumber),
    [0, 1],
    'a CP2105 shows two ttys',
  );
  return { board, bus, download: dev.interfaces[0].tty, at: dev.interfaces[1].tty };
}

async function open(t: TestContext, r: Rig, path: string, baudRate = 115200): Promise<Transport> {
  const tr = await openTransport(path, { baudRate, binding: r.bus.binding });
  t.after(() => tr.close());
  return tr;
}

/** EN pulsed low with IO0 high, as a hard reset through the download channel's RTS does. */
async function hardReset(download: Transport): Promise<void> {
  await download.setSignals({ dtr: false, rts: true });
  await new Promise((r) => setTimeout(r, 5));
  await download.setSignals({ dtr: false, rts: false });
}

async function testBoard(t: TestContext, r: Rig, p = plan(), atBaud = p.baud) {
  const download = await open(t, r, r.download);
  const at = await open(t, r, r.at, atBaud);
  // The board booted ESP-AT when it was plugged: listen only from the reset on, or a slow machine hears the
  // first boot's `ready` and talks to a board that is booting again.
  await hardReset(download);
  const client = new AtClient(at);
  t.after(() => client.dispose());
  return runBoardTest(client, p, { mac: '24:0A:C4:12:34:56' }, { signal: AbortSignal.timeout(20_000) });
}

test('the real ESP-AT v3.4.0.0 in a simulated flash answers every step on its AT port and passes', async (t) => {
  const r = rig(t);
  const result = await testBoard(t, r);
  assert.equal(result.passed, true, result.message);
  assert.equal(result.port, r.at);
  const gmr = result.transcript.find((e) => e.step === 'version')!;
  assert.ok(gmr.lines.includes('Bin version:v3.4.0.0(WROOM-32)'), gmr.lines.join('\n'));
  assert.ok(gmr.lines.includes('SDK version:v5.0.6-dirty'));
  const mfg = result.transcript.find((e) => e.step === 'mfg')!;
  assert.deepEqual(
    mfg.lines.filter((l) => l.startsWith('+SYSMFG:')).sort(),
    NAMESPACES.map((n) => `+SYSMFG:"${n}"`).sort(),
  );
  assert.ok(
    result.transcript.some((e) => e.lines.includes('+SYSMFG:"factory_param","uart_baudrate",6,6,115200')),
  );
});

test("UART0 never carries 'ready': a station waiting for it on the download port fails every board", async (t) => {
  const r = rig(t);
  const download = await open(t, r, r.download);
  const client = new AtClient(download);
  t.after(() => client.dispose());
  await hardReset(download);
  const wait = await client.waitForLine((l) => l === 'ready', 500, new AbortController().signal);
  assert.equal(wait.line, undefined);
  assert.ok(
    wait.seen.some((l) => l.includes('at param mode: 1')),
    'the boot log came, ready did not',
  );
});

test('the AT port runs at the flashed factory_param rate: 921600 written, a host at 115200 reads garbage', async (t) => {
  const fast = generatePartition(
    withValue(decodePartition(MFG).partition, 'factory_param', 'uart_baudrate', {
      type: 'i32',
      value: 921600,
    }),
    MFG.length,
  );
  const p = plan({
    baud: 921600,
    mfgRead: {
      timeoutMs: 500,
      values: [{ namespace: 'factory_param', key: 'uart_baudrate', type: 'i32', value: '921600' }],
    },
  });
  const wrong = await testBoard(t, rig(t, {}, fast), { ...p, ready: { timeoutMs: 800, graceMs: 0 } }, 115200);
  assert.equal(wrong.code, 'at-no-ready', wrong.message);
  const right = await testBoard(t, rig(t, {}, fast), p, 921600);
  assert.equal(right.passed, true, right.message);
});

test("a host that opens the AT port after 'ready' has missed it (open it before the reset)", async (t) => {
  const r = rig(t);
  const download = await open(t, r, r.download);
  // A monitor on the AT port from before the reset hears this boot's `ready` (a fixed wait after the boot could
  // end before it on a loaded machine); only then does the late host open the port.
  const monitorPort = await openTransport(r.at, { baudRate: 115200, binding: r.bus.binding });
  const monitor = new AtClient(monitorPort);
  await hardReset(download);
  const heard = await monitor.waitForLine((l) => l === 'ready', 10_000, new AbortController().signal);
  assert.equal(heard.line, 'ready', 'the board said ready');
  monitor.dispose();
  await monitorPort.close();
  const client = new AtClient(await open(t, r, r.at));
  t.after(() => client.dispose());
  const result = await runBoardTest(
    client,
    plan({ ready: { timeoutMs: 300, graceMs: 0 } }),
    {
      mac: '24:0A:C4:12:34:56',
    },
    { signal: new AbortController().signal },
  );
  assert.equal(result.code, 'at-no-ready');
});

test('commands end in CR LF: a host that sends LF alone gets no answer, and spoils its next command', async (t) => {
  const r = rig(t);
  const at = await open(t, r, r.at);
  await hardReset(await open(t, r, r.download));
  // Listening from the reset on (see testBoard): the `ready` awaited is this boot's.
  const client = new AtClient(at);
  t.after(() => client.dispose());
  assert.ok((await client.waitForLine((l) => l === 'ready', 5000, new AbortController().signal)).line);
  let answer = '';
  const off = at.onData((b) => (answer += b.toString('latin1')));
  await at.write(Buffer.from('AT\n'));
  await new Promise((res) => setTimeout(res, 100));
  off();
  assert.doesNotMatch(answer, /OK|ERROR/);
  assert.equal((await client.command('AT', 2000, new AbortController().signal)).final, 'ERROR');
  assert.equal((await client.command('AT', 2000, new AbortController().signal)).final, 'OK');
});

test('each AT fault of the simulator gives its own failure code', async (t) => {
  const cases: [string, string, Partial<BoardTestPlan>?][] = [
    ['at-dead', 'at-no-ready', { ready: { timeoutMs: 800, graceMs: 0 } }],
    ['slow-boot:1000', 'at-slow-ready', { ready: { timeoutMs: 300, graceMs: 1500 } }],
    ['at-old-firmware', 'at-version-mismatch'],
    ['at-bad-mfg', 'at-mfg-mismatch'],
    ['at-no-ap', 'at-no-ap'],
  ];
  for (const [fault, code, over] of cases) {
    const result = await testBoard(t, rig(t, { faults: [fault] }), plan(over));
    assert.equal(result.code, code, `${fault}: ${result.message}`);
  }
  // A slow board within the time allowed passes.
  const slow = await testBoard(
    t,
    rig(t, { faults: ['slow-boot:300'] }),
    plan({ ready: { timeoutMs: 2000, graceMs: 0 } }),
  );
  assert.equal(slow.passed, true, slow.message);
});

test('the board boots the OTA slot otadata selects: an older app in ota_1 runs although ota_0 verified', async (t) => {
  const r = rig(t);
  // Another ESP-AT build in ota_1 (the same bytes with a different Bin version string) and otadata → ota_1.
  const app = Buffer.from(readFileSync(join(REAL_AT_DIR, 'esp-at.bin')));
  const at = app.indexOf('release-v3.4.0.0\0', 0, 'latin1');
  app.write('release-v3.3.0.0', at, 'latin1');
  fixImage(app);
  r.board.flash.program(0x280000, app);
  const entry = Buffer.alloc(32, 0xff);
  entry.writeUInt32LE(2, 0);
  entry.writeUInt32LE(2, 24); // ESP_OTA_IMG_VALID
  entry.writeUInt32LE(crc32(entry.subarray(0, 4), 0xffffffff), 28);
  r.board.flash.eraseSector(0x10000);
  r.board.flash.program(0x10000, entry);
  const result = await testBoard(t, r);
  assert.equal(result.code, 'at-version-mismatch', result.message);
  assert.match(result.message!, /v3\.3\.0\.0.*v3\.4\.0\.0/);
});
