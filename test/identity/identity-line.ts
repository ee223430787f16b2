/**
 * The identity acceptance run, line half: one real Station with the profile's identity section, N simulated
 * boards through S slots with the soak's fault mix and the operator pulling boards mid-write, and some failed
 * boards coming back for a retest (same MAC, same flash). Checked at the end:
 *   - no serial and no credential bundle was ever issued to two MACs (ledger and journal);
 *   - none is lost: every identity of the pool is free, committed or burned (kept by a MAC that failed after
 *     its region was written), and every burned one has such a record;
 *   - every PASS record's serial and value hashes are what that board's flash holds (decoded after the PASS).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IdentityIssuer } from '../../src/identity/index.ts';
import type { LedgerRecord } from '../../src/ledger/record.ts';
import { decodePartition } from '../../src/nvs/index.ts';
import { SimBoard } from '../../src/sim/board.ts';
import type { SimBoardOptions } from '../../src/sim/board.ts';
import { SeededRandom } from '../../src/sim/rng.ts';
import { rigPortPath, startRig } from '../reliability/station-rig.ts';
import { makeBundleFolder, releaseRegion, settingsFor } from './identity-fixture.ts';

export interface LineOptions {
  boards: number;
  slots: number;
  faultRate: number;
  /** Share of failed boards that come back for a retest. */
  retestRate: number;
  seed: number;
  log?: (line: string) => void;
}

export interface LineFigures {
  boards: number;
  attempts: number;
  passes: number;
  failures: Record<string, number>;
  retests: number;
  pulls: number;
  pool: {
    total: number;
    free: number;
    committed: number;
    burned: number;
    reserved: number;
    releases: number;
  };
  serialsToTwoMacs: string[];
  credentialsToTwoMacs: string[];
  lost: string[];
  readBackChecked: number;
  readBackWrong: string[];
  passWithoutIdentity: number;
  seconds: number;
}

type Trouble =
  { kind: 'fault'; fault: string } | { kind: 'chip'; options: Partial<SimBoardOptions> } | { kind: 'unplug' };

function troubleFor(rng: SeededRandom): Trouble {
  const menu: Trouble[] = [
    { kind: 'fault', fault: 'no-sync' },
    { kind: 'fault', fault: 'write-error' },
    { kind: 'fault', fault: 'write-error:0x100000' }, // the app, after mfg_nvs: the identity stays with the MAC
    { kind: 'fault', fault: 'silent-corruption' },
    { kind: 'fault', fault: `disconnect:${20_000 + rng.int(900_000)}` },
    { kind: 'fault', fault: `brownout:${10_000 + rng.int(900_000)}` },
    { kind: 'fault', fault: 'bit-flip:0.00002' },
    { kind: 'fault', fault: 'slow-flash:3' },
    { kind: 'fault', fault: 'secure-boot' },
    { kind: 'chip', options: { flashSize: '2MB' } },
    { kind: 'unplug' },
    { kind: 'unplug' },
  ];
  return menu[rng.int(menu.length)];
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** What the board's own mfg_nvs holds for the per-board keys: serial text and each value's SHA-256. */
function onBoard(bytes: Uint8Array, keys: readonly { namespace: string; key: string }[]) {
  const decoded = decodePartition(bytes);
  const found = new Map<string, string>();
  let serial: string | undefined;
  for (const item of decoded.partition.items) {
    if (item.kind !== 'entry') continue;
    if (!keys.some((k) => k.namespace === item.namespace && k.key === item.key)) continue;
    const v = item.value;
    if (v.type === 'string') {
      found.set(`${item.namespace}/${item.key}`, sha256(Buffer.from(`${v.value}\0`)));
      if (item.key === 'sn') serial = v.value;
    } else if (v.type === 'blob') found.set(`${item.namespace}/${item.key}`, sha256(v.value));
  }
  return { serial, hashes: found, problems: decoded.problems.length };
}

export async function runIdentityLine(o: LineOptions): Promise<LineFigures> {
  const t0 = Date.now();
  const dir = await mkdtemp(path.join(tmpdir(), 'identity-line-'));
  const bundles = Math.ceil(o.boards * 1.1) + 20;
  await makeBundleFolder(path.join(dir, 'pool'), bundles);
  const settings = settingsFor(dir, { lowWater: 5 });
  const issuer = await IdentityIssuer.open(settings, await releaseRegion());
  const rig = await startRig({
    concurrency: o.slots,
    keepEvents: false,
    policy: { regionRetries: 1, boardRetriesPerBaud: 0 },
    identity: { issuer, partition: 'mfg_nvs' },
  });
  const mfg = rig.firmware.regions.find((r) => r.label === 'mfg_nvs')!;
  const keys = [
    { namespace: 'factory_param', key: 'sn' },
    { namespace: 'client_cert', key: 'client_cert.0' },
    { namespace: 'client_key', key: 'client_key.0' },
  ];
  const rng = new SeededRandom(o.seed);
  const pullAt = new Map<string, () => void>();
  rig.station.bus.subscribe((e) => {
    if (e.type === 'progress' && e.progress.overallDone > e.progress.overallTotal / 3) {
      const pull = pullAt.get(e.slot);
      pullAt.delete(e.slot);
      pull?.();
    }
  });
  // Boards that failed and come back: their flash goes with them.
  const comeback: SimBoard[] = [];
  /** MAC → what its flash held right after each PASS. */
  const passedFlash = new Map<string, ReturnType<typeof onBoard>[]>();
  let next = 0;
  let attempts = 0;
  let retests = 0;
  let pulls = 0;
  const failures: Record<string, number> = {};
  let passes = 0;

  async function position(slotIndex: number): Promise<void> {
    const slot = rigPortPath(slotIndex);
    while (next < o.boards || comeback.length > 0) {
      let board: SimBoard;
      let trouble: Trouble | undefined;
      const back = comeback.shift();
      if (back) {
        // The same board, fault gone (re-seated, reworked): same MAC, the flash as it was left.
        board = new SimBoard({ timing: 'fast', mac: back.mac, seed: o.seed * 7 + retests });
        board.flash.program(0, back.flash.read(0, 0x200000));
        retests++;
      } else {
        const index = next++;
        trouble = rng.next() < o.faultRate ? troubleFor(rng) : undefined;
        const mac =
          `24:0A:C4:6B:${((index >> 8) & 0xff).toString(16).padStart(2, '0')}:${(index & 0xff).toString(16).padStart(2, '0')}`.toUpperCase();
        board = new SimBoard({
          timing: 'fast',
          mac,
          seed: o.seed * 100_000 + index,
          ...(trouble?.kind === 'fault' && { faults: [trouble.fault] }),
          ...(trouble?.kind === 'chip' && trouble.options),
        });
      }
      if (trouble?.kind === 'unplug') {
        pullAt.set(slot, () => {
          pulls++;
          rig.bus.unplug(slot);
        });
      }
      const result = await rig.plug(slot, board);
      pullAt.delete(slot);
      attempts++;
      if (result.result === 'pass') {
        passes++;
        const seen = onBoard(board.flash.read(mfg.offset, mfg.data.length), keys);
        const mac = board.mac.toUpperCase();
        passedFlash.set(mac, [...(passedFlash.get(mac) ?? []), seen]);
      } else {
        const code = result.code ?? 'fail?';
        failures[code] = (failures[code] ?? 0) + 1;
        if (!back && rng.next() < o.retestRate) comeback.push(board);
      }
      rig.bus.unplug(slot);
      if (attempts % 250 === 0)
        o.log?.(`identity line: ${attempts} attempts, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
  }
  try {
    await Promise.all(Array.from({ length: o.slots }, (_, i) => position(i)));
    const { records } = await rig.records();
    const report = issuer.report();
    return {
      ...judge(records, passedFlash, report, settings.journal),
      boards: o.boards,
      attempts,
      passes,
      failures,
      retests,
      pulls,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    await rig.close();
    await issuer.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function judge(
  records: LedgerRecord[],
  passedFlash: Map<string, ReturnType<typeof onBoard>[]>,
  report: ReturnType<IdentityIssuer['report']>,
  journal: string,
) {
  const serialMacs = new Map<string, Set<string>>();
  const credentialMacs = new Map<string, Set<string>>();
  const add = (m: Map<string, Set<string>>, k: string | undefined, mac: string) => {
    if (k === undefined) return;
    const s = m.get(k) ?? new Set<string>();
    s.add(mac);
    m.set(k, s);
  };
  let passWithoutIdentity = 0;
  let readBackChecked = 0;
  const readBackWrong: string[] = [];
  const keptBy = new Set<string>();
  for (const r of records) {
    if (!r.mac) continue;
    // Only an identity that reached the board (kept or committed) belongs to it; a released one went back.
    if (r.identity && r.identity.outcome !== 'released') {
      add(serialMacs, r.identity.serial, r.mac);
      add(credentialMacs, r.identity.credential, r.mac);
    }
    if (r.identity?.outcome === 'kept') keptBy.add(r.mac);
    if (r.result !== 'pass') continue;
    if (r.identity?.outcome !== 'committed') {
      passWithoutIdentity++;
      continue;
    }
    const seen = passedFlash.get(r.mac)?.shift();
    readBackChecked++;
    const want = new Map(r.identity.values.map((v) => [`${v.namespace}/${v.key}`, v.sha256]));
    const same =
      seen !== undefined &&
      seen.problems === 0 &&
      seen.serial === r.identity.serial &&
      want.size === seen.hashes.size &&
      [...want].every(([k, h]) => seen.hashes.get(k) === h);
    if (!same) readBackWrong.push(`${r.mac} ${r.identity.serial}`);
  }
  const twice = (m: Map<string, Set<string>>) =>
    [...m].filter(([, macs]) => macs.size > 1).map(([k, macs]) => `${k}: ${[...macs].join(' ')}`);
  const total = report.total ?? 0;
  const free = report.free ?? 0;
  const lost: string[] = [];
  if (total !== free + report.committed + report.burned + report.reserved)
    lost.push(
      `pool ${total} != free ${free} + committed ${report.committed} + burned ${report.burned} + reserved ${report.reserved} (${journal})`,
    );
  if (report.reserved !== 0) lost.push(`${report.reserved} still reserved after the run`);
  for (const b of report.burnedList) {
    if (!keptBy.has(b.mac)) lost.push(`burned ${b.serial} by ${b.mac} without a 'kept' record`);
  }
  return {
    pool: {
      total,
      free,
      committed: report.committed,
      burned: report.burned,
      reserved: report.reserved,
      releases: report.releases,
    },
    serialsToTwoMacs: twice(serialMacs),
    credentialsToTwoMacs: twice(credentialMacs),
    lost,
    readBackChecked,
    readBackWrong,
    passWithoutIdentity,
  };
}
