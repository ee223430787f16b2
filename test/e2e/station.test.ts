/**
 * The whole station on simulated boards, real pieces only: VirtualUsbBus detection, the real flasher (src/esp
 * over src/serial through the SimBinding), the demo image set prepared by src/firmware, the durable
 * LedgerWriter. Boards are plugged and pulled at seeded random moments, some with faults.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadProfile } from '../../src/config/profile.ts';
import { loadProfileFirmware } from '../../src/firmware/profile-firmware.ts';
import { LedgerReader } from '../../src/ledger/reader.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import { LedgerWriter } from '../../src/ledger/writer.ts';
import { SimBoard } from '../../src/sim/board.ts';
import type { SimBoardOptions } from '../../src/sim/board.ts';
import { SeededRandom } from '../../src/sim/rng.ts';
import { VirtualUsbBus } from '../../src/sim/usb-bus.ts';
import { SimDeviceSource } from '../../src/sim-station/sim-source.ts';
import { EspBoardLink } from '../../src/station/esp-board-link.ts';
import type { StationEvent } from '../../src/station/events.ts';
import { policyFromProfile } from '../../src/cli/build-station.ts';
import { Station } from '../../src/station/station.ts';

const REPO = resolve(import.meta.dirname, '../..');

interface Plan {
  name: string;
  options: Omit<SimBoardOptions, 'timing' | 'mac'>;
  /** Pull the board once this share of the image set is written. */
  pullAt?: number;
  expect:
    | 'pass'
    | 'disconnected'
    | 'verify-mismatch'
    | 'write-error'
    | 'security-enabled'
    | 'wrong-chip'
    | 'flash-too-small'
    | 'boot-check-failed';
}

const PLANS: Plan[] = [
  { name: 'good-1', options: {}, expect: 'pass' },
  { name: 'good-2', options: {}, expect: 'pass' },
  { name: 'pulled-mid-write', options: {}, pullAt: 0.4, expect: 'disconnected' },
  { name: 'good-3', options: {}, expect: 'pass' },
  { name: 'corrupting-flash', options: { faults: ['silent-corruption'] }, expect: 'verify-mismatch' },
  { name: 'good-4', options: {}, expect: 'pass' },
  { name: 'secure-boot', options: { faults: ['secure-boot'] }, expect: 'security-enabled' },
  { name: 'good-5', options: {}, expect: 'pass' },
  { name: 's3-board', options: { chip: 'esp32s3' }, expect: 'wrong-chip' },
  { name: 'good-6', options: {}, expect: 'pass' },
  { name: 'failing-writes', options: { faults: ['write-error'] }, expect: 'write-error' },
  { name: '2MB-module', options: { flashSize: '2MB' }, expect: 'flash-too-small' },
  // Written and verified perfectly, but its app panics and reboots: only the UART0 boot check sees it.
  { name: 'crash-loop', options: { faults: ['app-crash'] }, expect: 'boot-check-failed' },
];

test('a station run on 13 simulated boards: one record per attempt, PASS flash byte-exact, unplug isolated', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-station-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const profile = await loadProfile(join(REPO, 'stations/demo-esp32-at.yaml'));
  const firmware = await loadProfileFirmware(profile);
  const ledger = await LedgerWriter.open({ dir, rotate: { by: 'day' }, station: 'e2e' });
  t.after(() => ledger.close());
  const bus = new VirtualUsbBus();
  const station = new Station({
    stationName: 'e2e',
    operator: 'tester',
    lot: 'LOT-E2E',
    firmware,
    policy: {
      ...policyFromProfile(profile, { baudLadder: [921600, 460800, 115200] }),
      // Keep the failing boards short: one region retry, no same-baud board retry.
      regionRetries: 1,
      boardRetriesPerBaud: 0,
    },
    slots: [
      { name: 'A1', usbPath: '1-1.1' },
      { name: 'A2', usbPath: '1-1.2' },
      { name: 'A3', usbPath: '1-1.3' },
      { name: 'A4', usbPath: '1-1.4' },
    ],
    concurrency: 4,
    source: new SimDeviceSource(bus),
    link: new EspBoardLink({ binding: bus.binding, resetTimeScale: 0.02 }),
    ledger,
    boardTimeoutMs: 60_000,
  });
  const events: StationEvent[] = [];
  station.bus.subscribe((e) => events.push(e));
  t.after(async () => {
    await station.stop({ abortInFlight: true });
    for (const d of bus.list()) bus.unplug(d.portPath);
  });
  await station.start();

  // The operator: 4 positions, boards in plan order, plugged and pulled after random (seeded) pauses.
  const rng = new SeededRandom(20261123);
  const boards = new Map<string, { plan: Plan; board: SimBoard }>(); // by MAC
  const positions = ['1-1.1', '1-1.2', '1-1.3', '1-1.4'];
  const inPosition = new Map<string, { plan: Plan; board: SimBoard; started: boolean }>();
  let next = 0;
  let pulled = 0;
  let pulledMidWriteAt = -1;
  const timers = new Set<NodeJS.Timeout>();
  t.after(() => timers.forEach(clearTimeout));
  const later = (ms: number, fn: () => void): void => {
    const tm = setTimeout(() => {
      timers.delete(tm);
      fn();
    }, ms);
    timers.add(tm);
  };
  const allDone = new Promise<void>((resolveDone) => {
    const plugNext = (pos: string): void => {
      if (next >= PLANS.length) return;
      const plan = PLANS[next];
      const i = next++;
      later(rng.int(40), () => {
        const mac = `24:0A:C4:E2:E0:${i.toString(16).padStart(2, '0').toUpperCase()}`;
        const board = new SimBoard({ ...plan.options, timing: 'fast', mac, seed: i + 1 });
        boards.set(mac, { plan, board });
        inPosition.set(pos, { plan, board, started: false });
        bus.plugBoard(pos, board, { vidPid: i % 2 ? '1a86:7523' : '10c4:ea60' });
      });
    };
    const pull = (pos: string): void => {
      if (!inPosition.has(pos)) return;
      inPosition.delete(pos);
      bus.unplug(pos);
      if (++pulled === PLANS.length) resolveDone();
      else plugNext(pos);
    };
    station.bus.subscribe((e) => {
      if (!('slot' in e)) return;
      const cur = inPosition.get(e.slot);
      if (!cur) return;
      if (e.type === 'state' && e.state === 'connecting') cur.started = true;
      if (!cur.started) return;
      if (
        e.type === 'progress' &&
        cur.plan.pullAt !== undefined &&
        e.progress.overallDone >= e.progress.overallTotal * cur.plan.pullAt
      ) {
        cur.plan = { ...cur.plan, pullAt: undefined };
        pulledMidWriteAt = events.length;
        pull(e.slot);
      } else if (e.type === 'result') {
        // The board stays plugged a while after its result: it must not be flashed again meanwhile.
        later(20 + rng.int(120), () => pull(e.slot));
      }
    });
    for (const p of positions) plugNext(p);
  });
  await allDone;
  await station.stop();

  // Exactly one durable record per attempt, each attempt one result event.
  const results = events.filter((e): e is Extract<StationEvent, { type: 'result' }> => e.type === 'result');
  const records: LedgerRecord[] = [];
  const reader = new LedgerReader(dir);
  for await (const r of reader) records.push(r);
  assert.equal(reader.problemCount, 0);
  assert.equal(records.length, PLANS.length, 'one record per board (each board got exactly one attempt)');
  assert.equal(results.length, records.length);
  assert.ok(results.every((r) => r.recorded));
  assert.equal(new Set(records.map((r) => r.id)).size, records.length, 'record ids are unique');

  // Every board ended as planned, with the code the plan predicts.
  const byMac = new Map(records.filter((r) => r.mac).map((r) => [r.mac!, r]));
  const noMac = records.filter((r) => !r.mac);
  assert.deepEqual(noMac, [], 'every simulated board identified');
  const crashed = records.find((r) => r.code === 'boot-check-failed')!;
  assert.match(crashed.message!, /Guru Meditation Error/);
  assert.ok(
    crashed.regions.every((r) => r.md5Chip === r.md5Expected),
    'its flash was right all along',
  );
  for (const [mac, { plan }] of boards) {
    const rec = byMac.get(mac);
    assert.ok(rec, `record for ${plan.name}`);
    assert.equal(rec.result === 'pass' ? 'pass' : rec.code, plan.expect, `${plan.name}: ${rec.message}`);
    assert.equal(rec.attempt, 1);
    assert.equal(rec.recipe, firmware.fingerprint);
    assert.equal(rec.demoFirmware, true);
    assert.equal(rec.lot, 'LOT-E2E');
    assert.match(rec.slot, /^A[1-4]$/);
  }

  // Every PASS board's flash holds the image set byte for byte, every region verified by the chip's MD5.
  const passes = records.filter((r) => r.result === 'pass');
  assert.equal(passes.length, 6);
  for (const rec of passes) {
    const { board } = boards.get(rec.mac!)!;
    for (const region of firmware.regions) {
      const onChip = board.flash.read(region.offset, region.data.length);
      assert.ok(Buffer.from(onChip).equals(Buffer.from(region.data)), `${rec.mac} ${region.label} differs`);
    }
    assert.deepEqual(
      rec.regions.map((r) => [r.offset, r.md5Chip]),
      firmware.regions.map((r) => [r.offset, r.md5]),
    );
    assert.equal(rec.baud, 921600);
    for (const p of ['connect', 'identify', 'write', 'verify', 'reset', 'bootCheck'])
      assert.ok(p in rec.phases);
  }

  // The board pulled mid-write failed as disconnected; boards in flight at that moment were not touched.
  assert.ok(pulledMidWriteAt > 0, 'the mid-write pull happened');
  const pulledRec = records.find((r) => r.code === 'disconnected')!;
  const inFlightThen = new Set<string>();
  for (const e of events.slice(0, pulledMidWriteAt)) {
    if (e.type === 'state' && e.slot !== pulledRec.portPath) {
      if (e.state === 'connecting') inFlightThen.add(e.slot);
    }
    if (e.type === 'result') inFlightThen.delete(e.slot);
  }
  assert.ok(inFlightThen.size >= 1, 'some neighbour was in flight during the pull');
  for (const slot of inFlightThen) {
    const neighbour = results.find(
      (r, idx) => r.slot === slot && events.indexOf(r) > pulledMidWriteAt && idx >= 0,
    );
    assert.ok(neighbour, `neighbour ${slot} finished`);
    const plan = boards.get(neighbour.board!.mac)!.plan;
    assert.equal(
      neighbour.result === 'pass' ? 'pass' : neighbour.code,
      plan.expect,
      `neighbour ${slot} as planned`,
    );
  }

  // No board flashed twice while plugged: per plug session (attach → detach) at most one attempt.
  const session = new Map<string, number>();
  for (const e of events) {
    if (e.type === 'slot-attached') session.set(e.slot, 0);
    if (e.type === 'state' && e.state === 'detected') session.set(e.slot, 0);
    if (e.type === 'result') {
      const n = (session.get(e.slot) ?? 0) + 1;
      session.set(e.slot, n);
      assert.equal(n, 1, `slot ${e.slot} ran two attempts on one plugged board`);
    }
  }
});
