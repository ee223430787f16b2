/**
 * The station flashes and tests simulated boards end to end with the real ESP-AT v3.4.0.0 release and a profile
 * with the test on: detection pairs each board's AT port, the pipeline opens it before the reset, the board
 * boots what is really in its flash, and every attempt's ledger record carries the transcript. Real pieces only
 * (VirtualUsbBus, the flasher over the SimBinding, src/firmware, the durable LedgerWriter).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { policyFromProfile } from '../../src/cli/build-station.ts';
import { loadProfile } from '../../src/config/profile.ts';
import { loadProfileFirmware } from '../../src/firmware/profile-firmware.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import type { LedgerSink } from '../../src/station/ledger-sink.ts';
import { SimBoard, type SimBoardOptions } from '../../src/sim/board.ts';
import { startAtServer } from '../../src/sim/tcp-server.ts';
import { VirtualUsbBus } from '../../src/sim/usb-bus.ts';
import { SimDeviceSource } from '../../src/sim-station/sim-source.ts';
import { atInterfaceRule, type AtPortConfig } from '../../src/station/detect/at-pairing.ts';
import { EspBoardLink } from '../../src/station/esp-board-link.ts';
import { Station } from '../../src/station/station.ts';
import { REAL_AT_DIR } from '../firmware/fixture-paths.ts';
import { fixImage } from '../support/fix-image.ts';

/** The test, with limits short enough for the suite (a dead port costs ready + grace). */
const TEST_SECTION = `test:
  ready: { timeoutMs: 3000, graceMs: 2500 }
  mfgRead: { keys: [factory_param/module_name, factory_param/uart_baudrate] }
  wifiScan: { ssid: esp-station-test, minRssi: -75 }
`;

function profileFile(t: TestContext, imageSet: string, test = TEST_SECTION): string {
  const dir = mkdtempSync(join(tmpdir(), 'at-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'profile.yaml');
  // The UART0 boot check as the shipped profiles have it: it runs first and takes its settle time, so a pipeline
  // that opened the AT port only after it would miss `ready` (the fast simulated ESP-AT says it at once).
  const bootCheck = "bootCheck: { expect: ['boot: Loaded app from partition at offset', 'at param mode:'] }";
  writeFileSync(file, `name: wroom-at-e2e\nchip: esp32\nimageSet:\n${imageSet}\n${bootCheck}\n${test}`);
  return file;
}

const RELEASE = `  folder: ${REAL_AT_DIR}`;

/** A ledger in memory: the station's durable writer is tested elsewhere; here the records' content counts. */
function memoryLedger(): LedgerSink & { records: LedgerRecord[] } {
  const records: LedgerRecord[] = [];
  return {
    records,
    append: async (r) => void records.push(r),
    attemptNumberFor: (mac: string) => records.filter((r) => r.mac === mac).length + 1,
  } as LedgerSink & { records: LedgerRecord[] };
}

interface BoardPlan {
  portPath: string;
  options?: Omit<SimBoardOptions, 'timing' | 'mac'>;
  /** Plug the board (default: behind a CP2105 whose channel 1 is its AT port). */
  plug?: (bus: VirtualUsbBus, board: SimBoard, portPath: string) => void;
  /** Prepare the board's flash before it is plugged. */
  before?: (board: SimBoard) => void;
}

/** Runs the station until every board has a recorded result; returns the records by port path. */
async function runStation(
  t: TestContext,
  profilePath: string,
  plans: BoardPlan[],
  atPorts: AtPortConfig,
): Promise<Map<string, LedgerRecord>> {
  const profile = await loadProfile(profilePath);
  const firmware = await loadProfileFirmware(profile);
  assert.ok(firmware.atTest, 'the profile has the test on');
  const bus = new VirtualUsbBus();
  const ledger = memoryLedger();
  const station = new Station({
    stationName: 'at-e2e',
    firmware,
    policy: { ...policyFromProfile(profile, { baudLadder: [921600] }, firmware), boardRetriesPerBaud: 0 },
    concurrency: plans.length,
    source: new SimDeviceSource(bus, undefined, atInterfaceRule(atPorts)),
    link: new EspBoardLink({ binding: bus.binding, resetTimeScale: 0.02 }),
    ledger,
    atPorts,
    boardTimeoutMs: 60_000,
  });
  t.after(async () => {
    await station.stop({ abortInFlight: true });
    for (const d of bus.list()) bus.unplug(d.portPath);
  });
  const done = new Promise<void>((resolve) =>
    station.bus.subscribe((e) => {
      if (e.type === 'result' && ledger.records.length === plans.length) resolve();
    }),
  );
  await station.start();
  plans.forEach((p, i) => {
    const board = new SimBoard({
      ...p.options,
      timing: 'fast',
      mac: `24:0A:C4:A7:00:${(i + 16).toString(16)}`,
      seed: i + 1,
    });
    p.before?.(board);
    (p.plug ?? ((b, bd, pp) => b.plugBoard(pp, bd, { vidPid: '10c4:ea70' })))(bus, board, p.portPath);
  });
  await done;
  return new Map(ledger.records.map((r) => [r.portPath, r]));
}

const STATION_WIDE: AtPortConfig = { atPort: { interface: 1 }, slots: [] };

test('the real ESP-AT v3.4.0.0 set with the test on: PASS carries the transcript, each fault its own code', async (t) => {
  const plans: BoardPlan[] = [
    { portPath: '1-1.1' },
    { portPath: '1-1.2', options: { faults: ['at-dead'] } },
    { portPath: '1-1.3', options: { faults: ['at-old-firmware'] } },
    { portPath: '1-1.4', options: { faults: ['at-bad-mfg'] } },
    { portPath: '1-1.5', options: { faults: ['at-no-ap'] } },
    { portPath: '1-1.6', options: { faults: ['slow-boot:4000'] } },
  ];
  const records = await runStation(t, profileFile(t, RELEASE), plans, STATION_WIDE);
  const pass = records.get('1-1.1')!;
  assert.equal(pass.result, 'pass', pass.message);
  assert.equal(pass.test?.result, 'pass');
  assert.equal(pass.test?.baud, 115200, "factory_param's baud");
  assert.match(pass.test!.port!, /^\/dev\/ttyUSB\d+$/);
  assert.notEqual(pass.test!.port, pass.port, 'the AT port is not the download port');
  assert.deepEqual(
    pass.test!.transcript.map((e) => e.command ?? e.step),
    [
      'ready',
      'ATE0',
      'AT',
      'AT+GMR',
      'AT+CIPSTAMAC?',
      'AT+SYSMFG?',
      'AT+SYSMFG=1,"factory_param","module_name"',
      'AT+SYSMFG=1,"factory_param","uart_baudrate"',
      'AT+CWLAP="esp-station-test"',
    ],
  );
  const lines = pass.test!.transcript.flatMap((e) => e.lines);
  assert.ok(lines.includes('Bin version:v3.4.0.0(WROOM-32)'));
  assert.ok(lines.includes(`+CIPSTAMAC:"${pass.mac!.toLowerCase()}"`));
  assert.ok(pass.phases.test > 0);
  // The regions were verified before: the test comes on top of MD5, not instead of it.
  assert.ok(pass.regions.every((r) => r.md5Chip === r.md5Expected));

  const codes = Object.fromEntries(
    [...records].filter(([p]) => p !== '1-1.1').map(([p, r]) => [p, [r.code, r.test?.failedStep]]),
  );
  assert.deepEqual(codes, {
    '1-1.2': ['at-no-ready', 'ready'],
    '1-1.3': ['at-version-mismatch', 'version'],
    '1-1.4': ['at-mfg-mismatch', 'mfg'],
    '1-1.5': ['at-no-ap', 'wifi-scan'],
    '1-1.6': ['at-slow-ready', 'ready'],
  });
  for (const r of records.values()) assert.ok(r.test && r.test.transcript.length > 0, r.portPath);
});

test('flash that verifies but boots another firmware (otadata picks ota_1) fails at-version-mismatch', async (t) => {
  // A recipe that writes no otadata: the board's own otadata still picks ota_1, which holds an older ESP-AT.
  const files = [
    [0x1000, 'bootloader/bootloader.bin'],
    [0x8000, 'partition_table/partition-table.bin'],
    [0x20000, 'at_customize.bin'],
    [0x21000, 'customized_partitions/mfg_nvs.bin'],
    [0x100000, 'esp-at.bin'],
  ] as const;
  const imageSet = `  files:\n${files.map(([o, f]) => `    - { offset: 0x${o.toString(16)}, file: ${join(REAL_AT_DIR, f)} }`).join('\n')}`;
  const olderAt = (board: SimBoard): void => {
    const app = Buffer.from(readFileSync(join(REAL_AT_DIR, 'esp-at.bin')));
    app.write('release-v3.3.0.0', app.indexOf('release-v3.4.0.0\0', 0, 'latin1'), 'latin1');
    fixImage(app);
    board.flash.program(0x280000, app);
    const entry = Buffer.alloc(32, 0xff);
    entry.writeUInt32LE(2, 0); // ota_seq 2 → ota_1
    entry.writeUInt32LE(2, 24); // ESP_OTA_IMG_VALID
    entry.writeUInt32LE(crc32(entry.subarray(0, 4), 0xffffffff), 28);
    board.flash.program(0x10000, entry);
  };
  const records = await runStation(
    t,
    profileFile(t, imageSet),
    [{ portPath: '1-1.1', before: olderAt }, { portPath: '1-1.2' }],
    STATION_WIDE,
  );
  const old = records.get('1-1.1')!;
  assert.equal(old.code, 'at-version-mismatch', old.message);
  assert.match(old.message!, /runs firmware v3\.3\.0\.0, the recipe is v3\.4\.0\.0/);
  assert.equal(old.regions.length, files.length);
  assert.ok(
    old.regions.every((r) => r.md5Chip === r.md5Expected),
    'every region verified by the chip',
  );
  // The same recipe on a board without that history passes: the recipe itself is sound.
  assert.equal(records.get('1-1.2')!.result, 'pass', records.get('1-1.2')!.message);
});

test('AT ports on a second bridge and on a socket:// URL; a slot without one skips, or fails when required', async (t) => {
  // A board whose AT port is served over TCP (as ser2net serves a fixture's AT bridge).
  const socketBoard = new SimBoard({ timing: 'fast', mac: '24:0A:C4:A7:01:01', seed: 9 });
  const server = await startAtServer({ board: socketBoard });
  t.after(() => server.close());
  const atServerUrl = `socket://127.0.0.1:${server.port}`;
  const atPorts: AtPortConfig = {
    slots: [
      { usbPath: '1-1.1', atPort: { usbPath: '1-1.9' } },
      { usbPath: '1-1.2', atPort: { url: atServerUrl } },
      { usbPath: '1-1.3', atPort: 'none' },
    ],
  };
  const profile = await loadProfile(profileFile(t, RELEASE));
  const firmware = await loadProfileFirmware(profile);
  const bus = new VirtualUsbBus();
  const ledger = memoryLedger();
  const station = new Station({
    stationName: 'at-e2e',
    firmware,
    policy: { ...policyFromProfile(profile, { baudLadder: [921600] }, firmware), boardRetriesPerBaud: 0 },
    concurrency: 3,
    source: new SimDeviceSource(bus, undefined, atInterfaceRule(atPorts)),
    link: new EspBoardLink({ binding: bus.binding, resetTimeScale: 0.02 }),
    ledger,
    atPorts,
    boardTimeoutMs: 60_000,
  });
  t.after(async () => {
    await station.stop({ abortInFlight: true });
    for (const d of bus.list()) bus.unplug(d.portPath);
  });
  const done = new Promise<void>((resolve) =>
    station.bus.subscribe((e) => {
      if (e.type === 'result' && ledger.records.length === 3) resolve();
    }),
  );
  await station.start();
  // Slot 1-1.1: a CP2102 flashes, a second CP2102 at 1-1.9 reaches the same board's AT port (plugged first).
  const bridged = new SimBoard({ timing: 'fast', mac: '24:0A:C4:A7:01:00', seed: 8 });
  bus.plugAtBridge('1-1.9', bridged);
  bus.plugBoard('1-1.1', bridged);
  // Slot 1-1.2: its AT port is served over TCP (ser2net); 1-1.3: none.
  bus.plugBoard('1-1.2', socketBoard);
  bus.plugBoard('1-1.3', new SimBoard({ timing: 'fast', mac: '24:0A:C4:A7:01:02', seed: 10 }));
  await done;
  const by = new Map(ledger.records.map((r) => [r.portPath, r]));
  assert.equal(by.size, 3, 'the AT bridge at 1-1.9 is no slot of its own');
  const viaBridge = by.get('1-1.1')!;
  assert.equal(viaBridge.result, 'pass', viaBridge.message);
  assert.equal(viaBridge.test?.port, bus.list().find((d) => d.portPath === '1-1.9')?.tty);
  const viaSocket = by.get('1-1.2')!;
  assert.equal(viaSocket.result, 'pass', viaSocket.message);
  assert.equal(viaSocket.test?.port, atServerUrl);
  const none = by.get('1-1.3')!;
  assert.equal(none.result, 'pass', 'the UART0 boot check stands alone');
  assert.deepEqual(none.test, { result: 'skipped', note: 'this slot has no AT port', transcript: [] });

  // The same slot when the profile requires the test: flashed, but failed.
  const required = profileFile(t, RELEASE, `${TEST_SECTION}  requireAtPort: true\n`);
  const records = await runStation(
    t,
    required,
    [{ portPath: '1-1.3', plug: (b, bd, p) => b.plugBoard(p, bd) }],
    {
      atPort: { interface: 1 },
      slots: [],
    },
  );
  const r = records.get('1-1.3')!;
  assert.equal(r.code, 'at-no-channel', r.message);
  assert.match(r.message!, /no tty at interface 1/);
});
