/**
 * Every simulated fault × every pipeline phase where it can strike, through one real Station: each board ends
 * FAIL with the code the fault calls for, or PASS only when its flash equals the image set byte for byte.
 * Byte-counted faults are armed the moment their phase begins, as far into it as half of what the phase took on
 * a clean run, so they strike there under any load; the test checks where disconnects and brown-outs hit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimBoard } from '../../src/sim/board.ts';
import type { FailureCode } from '../../src/ledger/failure-codes.ts';
import { armAtPhase, PhaseRecorder, PhaseWatcher } from './pipeline-phases.ts';
import type { Phase, PhaseSpan } from './pipeline-phases.ts';
import { flashDifference, rigPortPath, startRig } from './station-rig.ts';
import type { ResultEvent } from './station-rig.ts';

/** 'pass' = must PASS (and then its flash must match); codes = must FAIL with one of them; both = either. */
interface Expect {
  pass: boolean;
  codes: readonly FailureCode[];
}
const mustPass: Expect = { pass: true, codes: [] };
const failWith = (...codes: FailureCode[]): Expect => ({ pass: false, codes });
/** Transient trouble: the pipeline's retries may recover (then the flash must be exact) or fail with a code. */
const recoverOr = (...codes: FailureCode[]): Expect => ({ pass: true, codes });

interface Cell {
  name: string;
  /** Faults the board has from power-up. */
  faults: string[];
  expect: Expect;
  /** A byte-counted fault armed when the board enters `phase`, from its byte counters at that moment. */
  aim?: { phase: Phase; fault: (start: { total: number; toChip: number }) => string };
  /** Disconnects and brown-outs are checked against the phase they actually struck in. */
  kind?: 'disconnect' | 'brownout';
  /** Something already on the board's flash before it is plugged. */
  prepare?: (board: SimBoard) => void;
}

/** Half of what a phase took on the clean run: how far into the phase a fault is aimed. */
const half = ([a, b]: [number, number]): number => Math.floor((b - a) / 2);

function cellsFor(
  spans: PhaseSpan[],
  regions: readonly { offset: number; label: string; data: Uint8Array }[],
): Cell[] {
  const cells: Cell[] = [];
  for (const s of spans) {
    // A phase that sends nothing (the final verify when no region shares a sector with a later one) cannot be
    // aimed at by a byte-counted fault.
    if (s.total[1] <= s.total[0]) continue;
    cells.push({
      name: `disconnect in ${s.phase}`,
      faults: [],
      expect: failWith('disconnected'),
      aim: { phase: s.phase, fault: (at) => `disconnect:${at.total + half(s.total)}` },
      kind: 'disconnect',
    });
    // The chip only counts what it receives: after the hard reset the host sends nothing, so no brown-out there.
    if (s.toChip[1] - s.toChip[0] >= 2) {
      cells.push({
        name: `brownout in ${s.phase}`,
        faults: [],
        expect: recoverOr('no-sync', 'wrong-boot-mode', 'timeout', 'write-error', 'verify-mismatch'),
        aim: { phase: s.phase, fault: (at) => `brownout:${at.toChip + half(s.toChip)}` },
        kind: 'brownout',
      });
    }
    // A burst of line noise: 8 wire bytes all corrupted, or all lost, in the middle of the phase.
    const into = half(s.total);
    const width = Math.min(8, Math.max(1, s.total[1] - s.total[0] - into));
    for (const noise of ['bit-flip', 'drop-bytes']) {
      cells.push({
        name: `${noise} burst in ${s.phase}`,
        faults: [],
        expect: s.phase.startsWith('write:')
          ? // Writes are retried block by block and region by region: one burst must not cost a board.
            mustPass
          : s.phase === 'boot'
            ? // The boot log is only read for the pattern: garbled bytes can hide 'ready'.
              recoverOr('boot-check-failed')
            : recoverOr('no-sync', 'timeout', 'write-error', 'verify-mismatch'),
        aim: { phase: s.phase, fault: (at) => `${noise}:1@${at.total + into}+${width}` },
      });
    }
  }
  for (const r of regions) {
    // A blank (all-0xFF) region is never programmed on a fresh board, which already reads erased: a program
    // fault cannot strike there, and the board may PASS — with its flash byte-exact, as always checked.
    const blank = r.data.every((b) => b === 0xff);
    cells.push({
      name: `write-error in write:${r.label}`,
      faults: [`write-error:0x${r.offset.toString(16)}`],
      expect: blank ? recoverOr('write-error') : failWith('write-error'),
    });
    cells.push({
      name: `silent-corruption in write:${r.label}`,
      faults: [`silent-corruption:0x${r.offset.toString(16)}`],
      expect: blank ? recoverOr('verify-mismatch') : failWith('verify-mismatch'),
    });
  }
  // A used board: old, different bytes under every region (blank ones included) must all be replaced.
  cells.push({
    name: 'used board (old data under every region)',
    faults: [],
    expect: mustPass,
    prepare: (board) => {
      for (const r of regions)
        board.flash.program(r.offset, new Uint8Array(Math.min(r.data.length, 0x3000)).fill(0x5a));
    },
  });
  cells.push(
    { name: 'no-sync in connect', faults: ['no-sync'], expect: failWith('no-sync', 'wrong-boot-mode') },
    { name: 'noise all along', faults: ['bit-flip:0.05'], expect: failWith('no-sync', 'timeout') },
    { name: 'lossy line all along', faults: ['drop-bytes:0.05'], expect: failWith('no-sync', 'timeout') },
    { name: 'slow-flash in every write', faults: ['slow-flash:4'], expect: mustPass },
    { name: 'secure-boot in check', faults: ['secure-boot'], expect: failWith('security-enabled') },
    { name: 'flash-encryption in check', faults: ['flash-encryption'], expect: failWith('security-enabled') },
  );
  return cells;
}

test('fault matrix: every fault × every phase ends with the right code, and no false PASS', async (t) => {
  const rig = await startRig({
    concurrency: 16,
    // Keep failing boards short: one region retry, no same-baud board retry (the baud ladder still steps down).
    policy: { regionRetries: 1, boardRetriesPerBaud: 0 },
  });
  t.after(() => rig.close());
  const { firmware } = rig;

  // 1. A clean board alone: how many wire bytes each phase spans.
  const clean = new SimBoard({ timing: 'fast', mac: '24:0A:C4:FA:00:00' });
  const recorder = new PhaseRecorder(rig.station.bus, rigPortPath(0), clean);
  const cleanResult = await rig.plug(rigPortPath(0), clean);
  rig.bus.unplug(rigPortPath(0));
  assert.equal(cleanResult.result, 'pass', cleanResult.message);
  const spans = recorder.spans();
  const expectedPhases = [
    'connect',
    'identify',
    'stub',
    'baud',
    ...firmware.regions.map((r) => `write:${r.label}`),
    'verify',
    'boot',
  ];
  assert.deepEqual(
    spans.map((s) => s.phase),
    expectedPhases,
  );

  for (const s of spans) {
    t.diagnostic(
      `phase ${s.phase.padEnd(22)} wire bytes ${s.total.join('..')}, to chip ${s.toChip.join('..')}`,
    );
  }

  // 2. Every cell on its own board, plus clean bystanders, all in one batch through the same station.
  const cells = cellsFor(spans, firmware.regions);
  const bystanders = 6;
  const boards = [
    ...cells.map((cell, i) => ({ cell, pos: i + 1 })),
    ...Array.from({ length: bystanders }, (_, k) => ({
      cell: { name: `bystander ${k + 1}`, faults: [], expect: mustPass } as Cell,
      pos: cells.length + 1 + k,
    })),
  ];
  const runs = boards.map(({ cell, pos }) => {
    const slot = rigPortPath(pos);
    const board = new SimBoard({
      timing: 'fast',
      faults: cell.faults,
      seed: pos,
      mac: `24:0A:C4:FA:${(pos >> 8).toString(16).padStart(2, '0')}:${(pos & 0xff).toString(16).padStart(2, '0')}`,
    });
    cell.prepare?.(board);
    const aimed = cell.aim && armAtPhase(rig.station.bus, slot, board, cell.aim.phase, cell.aim.fault);
    const watcher = aimed?.watcher ?? new PhaseWatcher(rig.station.bus, slot, board);
    const armed = (): string | undefined => aimed?.armed();
    let struck: Phase | undefined;
    if (cell.kind === 'disconnect') board.once('link-lost', () => (struck ??= watcher.phase));
    if (cell.kind === 'brownout') {
      board.on('mode', (m) => {
        // The brown-out reboots the chip: the first reboot once the chip has received the armed count.
        const n = Number(armed()?.split(':')[1] ?? Number.POSITIVE_INFINITY);
        if (board.stats.toChip >= n && (m === 'app' || m === 'download')) struck ??= watcher.phase;
      });
    }
    return { cell, board, slot, watcher, armed, struck: () => struck, result: rig.plug(slot, board) };
  });
  const results: ResultEvent[] = await Promise.all(runs.map((r) => r.result));

  // 3. Judge every board.
  const wrong: string[] = [];
  let passes = 0;
  for (const [i, run] of runs.entries()) {
    run.watcher.stop();
    const res = results[i];
    const { cell, board } = run;
    const outcome = res.result === 'pass' ? 'PASS' : `FAIL ${res.code}`;
    t.diagnostic(
      `${cell.name.padEnd(42)} ${outcome.padEnd(24)} ${String(res.durationMs).padStart(6)} ms  ${run.armed() ?? cell.faults.join(' ')}`,
    );
    if (res.result === 'pass') {
      passes++;
      const diff = flashDifference(board, firmware.regions);
      if (diff) wrong.push(`${cell.name}: FALSE PASS, flash differs in ${diff}`);
      if (!cell.expect.pass) wrong.push(`${cell.name}: PASS, expected FAIL ${cell.expect.codes.join('|')}`);
    } else if (!cell.expect.codes.includes(res.code!)) {
      wrong.push(
        `${cell.name}: ${outcome} (${res.message}), expected ${[cell.expect.pass ? 'PASS' : '', ...cell.expect.codes].filter(Boolean).join('|')}`,
      );
    }
    if (!res.recorded) wrong.push(`${cell.name}: result not recorded`);
    if (cell.aim !== undefined && run.armed() === undefined) {
      wrong.push(`${cell.name}: never reached ${cell.aim.phase}, the fault was not armed`);
    }
    if (cell.aim !== undefined && cell.kind !== undefined && run.struck() !== cell.aim.phase) {
      wrong.push(`${cell.name}: struck in ${run.struck() ?? 'no phase'}, aimed at ${cell.aim.phase}`);
    }
  }
  assert.deepEqual(wrong, [], `${wrong.length} of ${runs.length} boards went wrong`);
  assert.ok(passes >= bystanders + 1, 'the bystanders and the slow board passed');

  // 4. One ledger record per board (plus the clean run), each parsing, each result as announced.
  const { records, problems } = await rig.records();
  assert.equal(problems, 0);
  assert.equal(records.length, runs.length + 1);
  const bySlot = new Map(records.map((r) => [r.portPath, r]));
  for (const [i, run] of runs.entries()) {
    const rec = bySlot.get(run.slot);
    assert.ok(rec, `record for ${run.cell.name}`);
    assert.equal(rec.result, results[i].result, run.cell.name);
    assert.equal(rec.code, results[i].code, run.cell.name);
  }
});
