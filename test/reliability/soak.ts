/**
 * The soak (`npm run soak`, not part of `npm test`): 2,000 simulated boards through 16 slots of one real
 * Station with a 5 % fault mix, fast timing. Checks and prints: 0 false PASS (every PASS board's flash against
 * the image set by MD5), 0 lost records (one durable record per attempt), memory flat (RSS growth after
 * warm-up, sampled after a GC), no leaked handles or timers (process.getActiveResourcesInfo before/after).
 *
 *   npm run soak [-- --boards N --slots N --fault-rate R --seed S]
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SimBoard } from '../../src/sim/board.ts';
import type { SimBoardOptions } from '../../src/sim/board.ts';
import { SeededRandom } from '../../src/sim/rng.ts';
import { rigPortPath, startRig } from './station-rig.ts';
import type { ResultEvent } from './station-rig.ts';

const { values } = parseArgs({
  options: {
    boards: { type: 'string', default: '2000' },
    slots: { type: 'string', default: '16' },
    'fault-rate': { type: 'string', default: '0.05' },
    seed: { type: 'string', default: '1' },
  },
});
const BOARDS = Number(values.boards);
const SLOTS = Number(values.slots);
const FAULT_RATE = Number(values['fault-rate']);
const SEED = Number(values.seed);
/** Until V8's heap and malloc's arenas have grown to their working size (RSS rises for the first few hundred). */
const WARM_UP = Math.min(400, Math.floor(BOARDS / 5));
const SAMPLE_EVERY = Math.max(10, Math.floor(BOARDS / 40));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** What can go wrong with one board; a faulty board gets one of these (the operator's pull included). */
type Trouble =
  { kind: 'fault'; fault: string } | { kind: 'chip'; options: Partial<SimBoardOptions> } | { kind: 'unplug' };
function troubleFor(rng: SeededRandom): Trouble {
  const menu: Trouble[] = [
    { kind: 'fault', fault: 'no-sync' },
    { kind: 'fault', fault: 'write-error' },
    { kind: 'fault', fault: 'silent-corruption' },
    { kind: 'fault', fault: `disconnect:${20_000 + rng.int(900_000)}` },
    { kind: 'fault', fault: `brownout:${10_000 + rng.int(900_000)}` },
    { kind: 'fault', fault: 'bit-flip:0.00002' },
    { kind: 'fault', fault: 'drop-bytes:0.00002' },
    { kind: 'fault', fault: 'slow-flash:3' },
    { kind: 'fault', fault: 'secure-boot' },
    { kind: 'fault', fault: 'flash-encryption' },
    { kind: 'chip', options: { chip: 'esp32s3' } },
    { kind: 'chip', options: { flashSize: '2MB' } },
    { kind: 'unplug' },
  ];
  return menu[rng.int(menu.length)];
}

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;

async function main(): Promise<number> {
  const t0 = Date.now();
  const handlesBefore = resourceCounts();
  // One region retry and no same-baud board retry (the baud ladder still steps down), as in the fault matrix:
  // a faulty board gives up sooner, so the soak's time goes into boards, not into waiting out timeouts.
  const rig = await startRig({
    concurrency: SLOTS,
    keepEvents: false,
    policy: { regionRetries: 1, boardRetriesPerBaud: 0 },
  });
  const { firmware } = rig;
  const expected = firmware.regions.map((r) => ({ offset: r.offset, size: r.data.length, md5: r.md5 }));
  const rng = new SeededRandom(SEED);

  let next = 0;
  let done = 0;
  const falsePass: string[] = [];
  const notRecorded: string[] = [];
  const outcomes = new Map<string, number>();
  /** The first message of each failure code seen on a board without trouble (there should be none). */
  const examples = new Map<string, string>();
  let cleanFailed = 0;
  const macs: string[] = [];
  const rss: { board: number; rss: number; heap: number; external: number }[] = [];

  // The operator knocks a board out once a third of the image set is written.
  const pullAt = new Map<string, () => void>();
  rig.station.bus.subscribe((e) => {
    if (e.type === 'progress' && e.progress.overallDone > e.progress.overallTotal / 3) {
      const pull = pullAt.get(e.slot);
      pullAt.delete(e.slot);
      pull?.();
    }
  });

  const sample = (): void => {
    gc();
    const m = process.memoryUsage();
    rss.push({ board: done, rss: m.rss, heap: m.heapUsed, external: m.external });
  };

  async function position(slotIndex: number): Promise<void> {
    const slot = rigPortPath(slotIndex);
    while (next < BOARDS) {
      const index = next++;
      const trouble = rng.next() < FAULT_RATE ? troubleFor(rng) : undefined;
      const mac =
        `24:0A:C4:5A:${((index >> 8) & 0xff).toString(16).padStart(2, '0')}:${(index & 0xff).toString(16).padStart(2, '0')}`.toUpperCase();
      macs.push(mac);
      const board = new SimBoard({
        timing: 'fast',
        mac,
        seed: SEED * 100_000 + index,
        ...(trouble?.kind === 'fault' && { faults: [trouble.fault] }),
        ...(trouble?.kind === 'chip' && trouble.options),
      });
      if (trouble?.kind === 'unplug') pullAt.set(slot, () => rig.bus.unplug(slot));
      const result: ResultEvent = await rig.plug(slot, board);
      pullAt.delete(slot);
      const label = result.result === 'pass' ? 'pass' : (result.code ?? 'fail?');
      outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
      if (result.result === 'fail' && !trouble) cleanFailed++;
      if (result.result === 'fail' && !trouble && !examples.has(label))
        examples.set(label, `${mac}: ${result.message}`);
      if (!result.recorded) notRecorded.push(mac);
      if (result.result === 'pass') {
        for (const r of expected) {
          const md5 = createHash('md5').update(board.flash.read(r.offset, r.size)).digest('hex');
          if (md5 !== r.md5) {
            falsePass.push(
              `${mac} (${trouble ? JSON.stringify(trouble) : 'clean'}): region @0x${r.offset.toString(16)}`,
            );
          }
        }
      }
      rig.bus.unplug(slot);
      done++;
      if (done % SAMPLE_EVERY === 0) sample();
      if (done % 250 === 0) {
        process.stdout.write(`soak: ${done}/${BOARDS} boards, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
      }
    }
  }
  sample();
  await Promise.all(Array.from({ length: SLOTS }, (_, i) => position(i)));
  const seconds = (Date.now() - t0) / 1000;

  // One durable record per attempt, each board exactly once, every line parsing.
  const { records, problems } = await rig.records();
  await rig.close();
  const byMac = new Map<string, number>();
  for (const r of records) if (r.mac) byMac.set(r.mac, (byMac.get(r.mac) ?? 0) + 1);
  const withoutMac = records.filter((r) => !r.mac).length;
  const identified = macs.filter((m) => byMac.has(m)).length;
  const twice = [...byMac.values()].filter((n) => n > 1).length;
  const lost = BOARDS - records.length;

  // Memory: after warm-up, the median of the last third of the samples against the median of the first third.
  // Medians, because each sample also holds the 16 boards in flight at that moment (their sparse flash and
  // buffers swing RSS by ~20 MB); a leak shows as a trend, which the thirds compare.
  const after = rss.filter((s) => s.board >= WARM_UP);
  const third = Math.max(1, Math.floor(after.length / 3));
  const median = (xs: number[]): number => {
    const o = [...xs].sort((a, b) => a - b);
    return o.length % 2 ? o[(o.length - 1) / 2] : (o[o.length / 2 - 1] + o[o.length / 2]) / 2;
  };
  const first = after.slice(0, third);
  const last = after.slice(-third);
  const rssStart = median(first.map((s) => s.rss));
  const rssEnd = median(last.map((s) => s.rss));
  const heapStart = median(first.map((s) => s.heap));
  const heapEnd = median(last.map((s) => s.heap));
  const extStart = median(first.map((s) => s.external));
  const extEnd = median(last.map((s) => s.external));
  const rssMax = Math.max(...after.map((s) => s.rss));
  const growth = rssEnd / rssStart - 1;
  const heapGrowth = heapEnd / heapStart - 1;
  const series = after
    .filter((_, i) => i % Math.max(1, Math.floor(after.length / 10)) === 0)
    .map((s) => `${s.board}:${(s.rss / 1024 / 1024).toFixed(0)}`)
    .join(' ');

  // Handles and timers: let closed sockets and timers settle, then compare with before the station.
  await new Promise((r) => setTimeout(r, 200));
  const handlesAfter = resourceCounts();
  const leaked = Object.entries(handlesAfter)
    .map(([k2, n]) => [k2, n - (handlesBefore[k2] ?? 0)] as const)
    .filter(([, n]) => n > 0);

  const passes = outcomes.get('pass') ?? 0;
  const lines = [
    `soak: ${BOARDS} boards through ${SLOTS} slots, ${(FAULT_RATE * 100).toFixed(1)} % fault mix, seed ${SEED}, fast timing`,
    `  time:            ${seconds.toFixed(1)} s (${((BOARDS / seconds) * 60).toFixed(0)} boards/min)`,
    `  results:         ${passes} PASS, ${BOARDS - passes} FAIL  (${[...outcomes]
      .filter(([c]) => c !== 'pass')
      .sort((a, b) => b[1] - a[1])
      .map(([c, n]) => `${c} ${n}`)
      .join(', ')})`,
    ...[...examples].map(([c, m]) => `  clean board ${c}: ${m}`),
    `  clean boards:    ${cleanFailed} of the boards without a fault failed`,
    `  false PASS:      ${falsePass.length} (every PASS board's ${expected.length} regions checked by MD5)`,
    `  ledger:          ${records.length} records for ${BOARDS} attempts (lost ${lost}), ${problems} unparsable lines, ${identified} boards by MAC + ${withoutMac} never identified, ${twice} MACs twice, ${notRecorded.length} results not recorded`,
    `  memory:          after ${WARM_UP} boards of warm-up, median of first vs last third of ${after.length} samples (after a GC): RSS ${mb(rssStart)} -> ${mb(rssEnd)} (${(growth * 100).toFixed(1)} %, max ${mb(rssMax)}), heap ${mb(heapStart)} -> ${mb(heapEnd)} (${(heapGrowth * 100).toFixed(1)} %), external ${mb(extStart)} -> ${mb(extEnd)}`,
    `  RSS by board:    ${series} (MB)`,
    `  handles/timers:  before ${JSON.stringify(handlesBefore)}, after ${JSON.stringify(handlesAfter)}`,
  ];
  console.log(lines.join('\n'));
  const failures = [
    falsePass.length > 0 && `false PASS: ${falsePass.slice(0, 5).join('; ')}`,
    cleanFailed > 0 && `${cleanFailed} boards without a fault failed (a fault must not spill over)`,
    (lost !== 0 || problems !== 0 || twice !== 0 || notRecorded.length > 0) && 'lost or duplicated records',
    growth >= 0.1 && `RSS grew ${(growth * 100).toFixed(1)} % after warm-up`,
    heapGrowth >= 0.1 && `the JS heap grew ${(heapGrowth * 100).toFixed(1)} % after warm-up`,
    leaked.length > 0 && `leaked: ${JSON.stringify(Object.fromEntries(leaked))}`,
  ].filter(Boolean);
  console.log(failures.length === 0 ? 'soak: OK' : `soak: FAILED\n  ${failures.join('\n  ')}`);
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = await main();
