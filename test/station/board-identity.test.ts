/**
 * The pipeline with the profile's identity section, through a real Station on simulated boards: each board
 * gets its own serial and bundle in its mfg_nvs (read back from its flash), the ledger record says what it got,
 * a failure before the region releases the identity, a failure after it keeps it for the same MAC, and an
 * empty pool writes nothing and stops the station taking boards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IdentityIssuer } from '../../src/identity/index.ts';
import { decodePartition } from '../../src/nvs/index.ts';
import { SimBoard } from '../../src/sim/board.ts';
import { makeBundleFolder, releaseRegion, settingsFor } from '../identity/identity-fixture.ts';
import { rigPortPath, startRig } from '../reliability/station-rig.ts';
import type { Rig } from '../reliability/station-rig.ts';

const MFG_LABEL = 'mfg_nvs';

async function identityRig(t: { after(fn: () => unknown): void }, bundles: number, lowWater = 1) {
  const dir = await mkdtemp(path.join(tmpdir(), 'board-identity-'));
  await makeBundleFolder(path.join(dir, 'pool'), bundles);
  const issuer = await IdentityIssuer.open(settingsFor(dir, { lowWater }), await releaseRegion());
  const rig = await startRig({
    concurrency: 4,
    policy: { regionRetries: 0, boardRetriesPerBaud: 0, baudLadder: [921600] },
    identity: { issuer, partition: MFG_LABEL },
  });
  t.after(async () => {
    await rig.close();
    await issuer.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { rig, issuer, dir };
}

function mfgOnChip(rig: Rig, board: SimBoard) {
  const r = rig.firmware.regions.find((x) => x.label === MFG_LABEL)!;
  return { region: r, bytes: new Uint8Array(board.flash.read(r.offset, r.data.length)) };
}

function valueOf(bytes: Uint8Array, namespace: string, key: string) {
  const decoded = decodePartition(bytes);
  assert.deepEqual(decoded.problems, []);
  const ns = decoded.partition.items.find((i) => i.kind === 'namespace' && i.name === namespace);
  assert.ok(ns, `namespace ${namespace}`);
  const e = decoded.partition.items.find(
    (i) => i.kind === 'entry' && i.namespace === namespace && i.key === key,
  );
  return e && e.kind === 'entry' ? e.value : undefined;
}

function stationEvent(rig: Rig, state: 'paused') {
  type StationState = Extract<Rig['events'][number], { type: 'station' }>;
  const seen = rig.events.find((e): e is StationState => e.type === 'station' && e.state === state);
  if (seen) return Promise.resolve(seen);
  return new Promise<StationState>((resolve) => {
    const off = rig.station.bus.subscribe((e) => {
      if (e.type === 'station' && e.state === state) {
        off();
        resolve(e);
      }
    });
  });
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('each passing board gets its own serial and bundle in its flash, and the ledger says which', async (t) => {
  const { rig, issuer } = await identityRig(t, 5);
  const boards = [1, 2, 3].map((n) => new SimBoard({ timing: 'fast', mac: `24:0A:C4:10:00:0${n}` }));
  const results = await Promise.all(boards.map((b, i) => rig.plug(rigPortPath(i), b)));
  for (const r of results) assert.equal(r.result, 'pass', r.message);
  const { records } = await rig.records();
  assert.equal(records.length, 3);
  const serials = new Set<string>();
  for (const [i, board] of boards.entries()) {
    const rec = records.find((r) => r.mac === board.mac.toUpperCase())!;
    assert.ok(rec.identity, 'the record carries the identity');
    assert.equal(rec.identity.outcome, 'committed');
    assert.equal(rec.identity.reused, false);
    serials.add(rec.identity.serial!);
    const { bytes, region } = mfgOnChip(rig, board);
    // The region written is the board's own, not the release's, and the record's MD5 is of it.
    const mfgRecord = rec.regions.find((r) => r.label === MFG_LABEL)!;
    assert.equal(mfgRecord.md5Chip, createHash('md5').update(bytes).digest('hex'));
    assert.notEqual(mfgRecord.md5Expected, region.md5);
    const sn = valueOf(bytes, 'factory_param', 'sn');
    assert.deepEqual(sn, { type: 'string', value: rec.identity.serial });
    const cert = valueOf(bytes, 'client_cert', 'client_cert.0');
    assert.equal(cert?.type, 'blob');
    const certHash = rec.identity.values.find((v) => v.key === 'client_cert.0')!.sha256;
    assert.equal(sha256((cert as { value: Uint8Array }).value), certHash);
    assert.match(rec.identity.credential!, /^dev-000[1-5]$/);
    void i;
  }
  assert.equal(serials.size, 3);
  const report = issuer.report();
  assert.deepEqual([report.committed, report.free, report.reserved, report.burned], [3, 2, 0, 0]);
});

test('a failure before the mfg_nvs region releases the identity; after it, the same MAC keeps it', async (t) => {
  const { rig, issuer } = await identityRig(t, 5);
  const boot = rig.firmware.regions[0];
  const mfg = rig.firmware.regions.find((r) => r.label === MFG_LABEL)!;
  const app = rig.firmware.regions.find((r) => r.label === 'app')!;
  assert.ok(boot.offset < mfg.offset && mfg.offset < app.offset, 'the release writes mfg_nvs before the app');

  // Fails writing the bootloader: nothing of the identity reached the board.
  const early = new SimBoard({
    timing: 'fast',
    mac: '24:0A:C4:20:00:01',
    faults: [`write-error:0x${boot.offset.toString(16)}`],
  });
  const r1 = await rig.plug(rigPortPath(0), early);
  assert.equal(r1.result, 'fail');
  assert.equal(r1.code, 'write-error');
  // Fails writing the app, after its mfg_nvs was written: the MAC keeps its identity.
  const late = new SimBoard({
    timing: 'fast',
    mac: '24:0A:C4:20:00:02',
    faults: [`write-error:0x${app.offset.toString(16)}`],
  });
  const r2 = await rig.plug(rigPortPath(1), late);
  assert.equal(r2.result, 'fail');
  let { records } = await rig.records();
  const earlyRec = records.find((r) => r.mac === early.mac.toUpperCase())!;
  const lateRec = records.find((r) => r.mac === late.mac.toUpperCase())!;
  assert.equal(earlyRec.identity?.outcome, 'released');
  assert.equal(lateRec.identity?.outcome, 'kept');
  // The released serial and bundle went back: the next board gets the lowest, the ones the early board had.
  assert.equal(earlyRec.identity?.serial, 'ACME-L7-000001');
  assert.equal(lateRec.identity?.serial, 'ACME-L7-000001');
  assert.equal(lateRec.identity?.credential, earlyRec.identity?.credential);
  assert.equal(issuer.report().burned, 1);

  // The late board comes back (retest, fault gone): the same serial and bundle, marked reused.
  rig.bus.unplug(rigPortPath(1));
  const again = new SimBoard({ timing: 'fast', mac: late.mac });
  again.flash.program(0, late.flash.read(0, 0x400000));
  const r3 = await rig.plug(rigPortPath(2), again);
  assert.equal(r3.result, 'pass', r3.message);
  ({ records } = await rig.records());
  const retest = records.filter((r) => r.mac === late.mac.toUpperCase()).at(-1)!;
  assert.equal(retest.identity?.serial, lateRec.identity?.serial);
  assert.equal(retest.identity?.credential, lateRec.identity?.credential);
  assert.equal(retest.identity?.reused, true);
  assert.equal(retest.identity?.outcome, 'committed');
  const report = issuer.report();
  assert.deepEqual([report.committed, report.burned, report.releases], [1, 0, 1]);
});

test('an empty pool writes nothing to a new board and pauses the station with the reason', async (t) => {
  const { rig, issuer } = await identityRig(t, 1, 1);
  const first = new SimBoard({ timing: 'fast', mac: '24:0A:C4:30:00:01' });
  assert.equal((await rig.plug(rigPortPath(0), first)).result, 'pass');
  assert.equal(issuer.status().level, 'empty');
  // The station said so and stopped taking boards on its own.
  const paused = await stationEvent(rig, 'paused');
  assert.match(paused.message ?? '', /identity pool empty/);
  assert.equal(rig.station.state, 'paused');

  // The operator resumes anyway: the next new board gets no identity and none of its flash is written.
  rig.station.resume();
  const second = new SimBoard({ timing: 'fast', mac: '24:0A:C4:30:00:02' });
  const r = await rig.plug(rigPortPath(1), second);
  assert.equal(r.result, 'fail');
  assert.equal(r.code, 'identity-unavailable');
  assert.match(r.message ?? '', /nothing was written/);
  for (const region of rig.firmware.regions) {
    const onChip = second.flash.read(region.offset, region.data.length);
    assert.ok(
      onChip.every((b) => b === 0xff),
      `${region.label} untouched`,
    );
  }
  const { records } = await rig.records();
  const rec = records.find((x) => x.mac === second.mac.toUpperCase())!;
  assert.equal(rec.identity, undefined);
  assert.deepEqual(rec.regions, []);
  assert.equal(rig.station.state, 'paused');
  // A retest of a board that holds an identity is still served from the empty pool.
  rig.station.resume();
  rig.bus.unplug(rigPortPath(0));
  const rework = new SimBoard({ timing: 'fast', mac: first.mac });
  const rr = await rig.plug(rigPortPath(2), rework);
  assert.equal(rr.result, 'pass', rr.message);
});
