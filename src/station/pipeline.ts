/**
 * One board in one slot, from detected to PASS/FAIL: connect → identify → check → flash (per region) → verify →
 * reset → boot check. Publishes a StationEvent for every state change and returns what the ledger records.
 * It never throws: every way out is an AttemptOutcome with one FailureCode.
 * Over 400 lines on purpose: the attempt's order (esptool's) and its retry ladder (region, board, baud) read
 * top to bottom in one place; the guards, the boot check, the AT test and the policy types are their own files.
 */
import { stripVTControlCharacters } from 'node:util';
import type { BoardIdentityRecord, RegionRecord } from '../ledger/record.ts';
import type { BoardIdentityStep } from './board-identity.ts';
import { AtClient } from '../board-test/at-client.ts';
import type { BoardFacts, BoardTestPlan } from '../board-test/plan.ts';
import { runBoardTest } from '../board-test/run-test.ts';
import type { BoardTestRecord } from '../ledger/record.ts';
import type { Transport } from '../serial/transport.ts';
import { watchBootOutput } from './boot-check.ts';
import { checkChip, checkFlash } from './board-guards.ts';
import { ladderForSlot } from './bridge-ladder.ts';
import type { BoardIdentity, BoardLink, BoardSession, ImageRegion, RegionOutcome } from './board-link.ts';
import type { BoardInfo, ProgressInfo, SlotInfo, SlotState } from './events.ts';
import type { FailureCode } from '../ledger/failure-codes.ts';
import { classifyFailure, retryReason, isRetryableWriteError, StationFailure } from './failure.ts';

import type { PipelineFirmware, PipelinePolicy } from './pipeline-policy.ts';

export type { PipelineFirmware, PipelinePolicy } from './pipeline-policy.ts';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

export type PipelineEvent =
  | { type: 'state'; state: SlotState; board?: BoardInfo; baud?: number; message?: string }
  | { type: 'progress'; progress: ProgressInfo }
  /** A region written and verified by the chip's MD5 (or found unchanged and skipped). */
  | { type: 'region'; region: RegionRecord }
  | {
      type: 'retry';
      scope: 'connect' | 'region' | 'board' | 'md5';
      n: number;
      of: number;
      reason: string;
      message: string;
    }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export interface PipelineInput {
  slot: SlotInfo;
  link: BoardLink;
  policy: PipelinePolicy;
  firmware: PipelineFirmware;
  signal: AbortSignal;
  /** Publishes to the bus; the station adds slot, time and attempt. */
  publish(event: PipelineEvent): void;
  /** Attempt number for this MAC (1 = first time this ledger sees the board). */
  attemptNumberFor(mac: string): number | Promise<number>;
  /** This board's own identity region (profile `identity:`), reserved once its MAC is known. */
  identity?: BoardIdentityStep;
  /** Forward the flasher's own lines (boot log, stub/baud notes) as 'info' log events; noisy, for debugging. */
  linkLog?: boolean;
  /**
   * What the test should find on this board beyond its MAC: values written to its mfg_nvs alone (src/identity
   * hands them over once it writes per-board data).
   */
  testFacts?: (board: BoardIdentity) => Omit<BoardFacts, 'mac'> | Promise<Omit<BoardFacts, 'mac'>>;
  /** Minimum ms between progress events per board (the UI samples at ≤ 10 Hz anyway). */
  progressIntervalMs?: number;
  now?: () => number;
}

export interface AttemptOutcome {
  start: number;
  end: number;
  result: 'pass' | 'fail';
  code?: FailureCode;
  message?: string;
  board?: BoardIdentity;
  boardInfo?: BoardInfo;
  regions: RegionRecord[];
  baud?: number;
  phases: Record<string, number>;
  attempt: number;
  /** The post-flash test: transcript and result, or why it was skipped. */
  test?: BoardTestRecord;
  /** What the board got from the identity pool, and where that identity stands now. */
  identity?: BoardIdentityRecord;
}

export function toBoardInfo(b: BoardIdentity): BoardInfo {
  return {
    chip: b.chip,
    chipDisplay: b.displayName,
    revision: b.revision,
    mac: b.mac,
    ...(b.flashId !== undefined && { flashId: b.flashId }),
    ...(b.flashSizeBytes !== undefined && { flashSizeBytes: b.flashSizeBytes }),
    secureBoot: b.secureBoot,
    flashEncryption: b.flashEncryption,
    ...(b.crystalMhz !== undefined && { crystalMhz: b.crystalMhz }),
  };
}

function toRegionRecord(
  r: Omit<RegionOutcome, 'md5Chip' | 'skipped' | 'compressed'> & Partial<RegionOutcome>,
): RegionRecord {
  return {
    offset: r.offset,
    label: r.label,
    size: r.size,
    md5Expected: r.md5Expected,
    ...(r.md5Chip !== undefined && { md5Chip: r.md5Chip }),
    seconds: Math.max(0, r.seconds),
    retries: r.retries,
    ...(r.skipped && { skipped: true }),
  };
}

/** Runs one attempt. Resolves (never rejects) with the outcome to record. */
export async function runPipeline(input: PipelineInput): Promise<AttemptOutcome> {
  const now = input.now ?? Date.now;
  const { policy, signal, slot, link } = input;
  const start = now();
  const phases: Record<string, number> = {};
  const regionRecords = new Map<number, RegionRecord>();
  /** Retries per region across the whole attempt, board retries and baud steps included. */
  const retriesSoFar = new Map<number, number>();
  let board: BoardIdentity | undefined;
  let boardInfo: BoardInfo | undefined;
  let baud: number | undefined;
  let attempt = 1;
  let session: BoardSession | undefined;
  let testRecord: BoardTestRecord | undefined;
  let atPort: { transport: Transport; client: AtClient } | undefined;

  const state = (s: SlotState, message?: string): void =>
    input.publish({
      type: 'state',
      state: s,
      ...(boardInfo && { board: boardInfo }),
      ...(baud !== undefined && { baud }),
      ...(message !== undefined && { message }),
    });
  const log = (level: 'info' | 'warn' | 'error', message: string): void =>
    input.publish({ type: 'log', level, message });
  /** Something is tried again: the tile says so in a few words, the headless events keep the whole sentence. */
  const retry = (
    scope: 'connect' | 'region' | 'board' | 'md5',
    n: number,
    of: number,
    err: unknown,
    message: string,
  ) => input.publish({ type: 'retry', scope, n, of, reason: retryReason(err), message });
  const timed = async <T>(phase: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = now();
    try {
      return await fn();
    } finally {
      phases[phase] = (phases[phase] ?? 0) + (now() - t0);
    }
  };

  const connect = async (): Promise<BoardSession> => {
    const total = policy.connectAttempts ?? Math.max(2, link.connectStrategies(slot));
    let last: unknown;
    for (let i = 0; i < total; i++) {
      signal.throwIfAborted();
      try {
        return await link.connect(slot, {
          attempt: i,
          signal,
          ...(input.linkLog && { onLog: (line: string) => log('info', line) }),
        });
      } catch (err) {
        last = err;
        if (signal.aborted) throw err;
        const kind = (err as { kind?: string }).kind;
        // Only a board that did not sync is worth another reset strategy; a vanished port is not.
        if (kind === 'disconnected' || kind === 'aborted') throw err;
        if (i + 1 < total)
          retry(
            'connect',
            i + 1,
            total - 1,
            err,
            `connect attempt ${i + 1} failed (${(err as Error).message}); trying another reset`,
          );
      }
    }
    throw last;
  };

  try {
    state('connecting');
    session = await timed('connect', connect);

    state('identifying');
    board = await timed('identify', () => session!.identify(signal));
    boardInfo = toBoardInfo(board);
    attempt = await input.attemptNumberFor(board.mac);
    state('identifying', `${boardInfo.chipDisplay} rev ${board.revision} ${board.mac}`);

    state('checking');
    await timed('check', async () => checkChip(board!, input.firmware, policy));
    await timed('identity', async () => input.identity?.reserve(board!.mac, slot.name, attempt));

    const ladder = ladderForSlot(policy.baudLadder, slot, log);
    let regions: readonly ImageRegion[] | undefined;
    let flashSizeBytes = 0;
    let erased = false;
    let done = false;
    let lastErr: unknown;
    ladder: for (let step = 0; step < ladder.length; step++) {
      for (let boardTry = 0; boardTry <= policy.boardRetriesPerBaud; boardTry++) {
        if (step > 0 || boardTry > 0) {
          state('connecting', `retrying the board at ${ladder[step]} baud`);
          session = await timed('connect', connect);
        }
        try {
          // Inside the try: a bridge that cannot hold this baud often fails right at the switch (or the stub
          // upload); that too is a reason to step down the ladder, not to give up.
          baud = await timed('stub', () =>
            session!.prepareWrites({ stub: policy.stub, baud: ladder[step], signal }),
          );
          if (!regions) {
            // As esptool: the flash is identified once the loader runs, and checked before the first write.
            const flash = await timed('check', () => session!.detectFlash(signal));
            board = { ...board!, ...flash };
            boardInfo = toBoardInfo(board);
            state('checking');
            regions = checkFlash(board, input.firmware, policy, log);
            if (input.identity) regions = input.identity.regions(regions);
            // SPI_SET_PARAMS: esptool falls back to 4 MB when the size cannot be told from the id.
            flashSizeBytes =
              board.flashSizeBytes ??
              Math.max(
                input.firmware.declaredFlashBytes ?? 0,
                input.firmware.requiredFlashBytes,
                4 * 1024 * 1024,
              );
          }
          await session!.setFlashSize(flashSizeBytes, signal);
          if (policy.eraseAll && !erased) {
            state('flashing', 'erasing the whole flash');
            await timed('erase', () => session!.eraseFlash(signal));
            erased = true;
          }
          await writeAll(
            session!,
            regions,
            regions.reduce((n, r) => n + r.data.length, 0),
          );
          done = true;
          break ladder;
        } catch (err) {
          if (signal.aborted || !isRetryableWriteError(err)) throw err;
          lastErr = err;
          const boardTries = ladder.length * (policy.boardRetriesPerBaud + 1);
          const tried = step * (policy.boardRetriesPerBaud + 1) + boardTry + 1;
          if (tried < boardTries)
            retry(
              'board',
              tried,
              boardTries - 1,
              err,
              `writing at ${ladder[step]} baud failed: ${(err as Error).message}`,
            );
          else log('warn', `writing at ${ladder[step]} baud failed: ${(err as Error).message}`);
          await session!.close().catch(() => undefined);
          session = undefined;
        }
      }
    }
    if (!done || !regions) throw lastErr;
    const written = regions;

    // Each region's MD5 was read right after it was written; only a later region's erase can spoil it since, and
    // erases stay inside the later region's own 4 KB sectors. So read again the regions sharing a sector with a
    // region written after them (rereadAfterAll, made once per recipe), all of them when the layout is unknown.
    state('verifying');
    await timed('verify', async () => {
      for (const r of written.filter((x) => x.rereadAfterAll !== false)) {
        const md5 = await readMd5(session!, r);
        const rec = regionRecords.get(r.offset);
        if (rec) rec.md5Chip = md5;
        if (md5 !== r.md5) {
          // It matched right after it was written: a region written later spoiled it.
          throw new StationFailure(
            'verify-mismatch',
            r.rereadAfterAll
              ? `Region ${r.label} at 0x${r.offset.toString(16)} reads back MD5 ${md5}, expected ${r.md5}, after later regions were written: it shares a 4 KB flash sector with one of them, whose erase cleared it. Give each region sectors of its own in the image set.`
              : `Region ${r.label} at 0x${r.offset.toString(16)} reads back MD5 ${md5}, expected ${r.md5}. Retest once; a repeat means bad flash.`,
          );
        }
      }
    });

    if (policy.resetAfter && !session!.canReset) {
      log(
        'warn',
        'this link has no reset lines (raw TCP): the board was not reset, so it still runs the loader and its boot was not checked',
      );
      if (policy.test)
        testRecord = skippedTest('the board was not reset (no reset lines), so its firmware never ran');
    } else if (policy.resetAfter) {
      // Listen on the AT port from before the reset: ESP-AT says `ready` once, about a second after it.
      if (policy.test) atPort = await timed('test', () => openAtPort(policy.test!));
      state('resetting');
      await timed('reset', () => session!.hardReset(signal));
      if (policy.bootCheck) {
        const check = policy.bootCheck;
        state(
          'boot-check',
          `watching the boot log for '${check.expect[check.expect.length - 1] ?? 'a clean start'}'`,
        );
        const r = await timed('bootCheck', () => watchBootOutput(session!, check, signal));
        if (!r.ok) {
          const tail = lastLines(r.output, 2);
          throw new StationFailure(
            'boot-check-failed',
            `After the reset the board did not start cleanly: ${r.reason}` +
              `${tail ? ` (last output: ${tail})` : ' (no output)'}. Retest once; a repeat means the board or image is wrong.`,
          );
        }
      }
      if (atPort && policy.test) await timed('test', () => atTest(atPort!.client, policy.test!.plan));
    }
    // The identity is the board's for good before anything says PASS.
    await input.identity?.commit();
    return finish('pass');
  } catch (err) {
    const c = classifyFailure(err, signal.aborted ? signal.reason : undefined);
    const problem = await input.identity?.release(`${c.code}: ${c.message}`);
    if (problem) log('error', problem);
    return finish('fail', c.code, c.message);
  } finally {
    atPort?.client.dispose();
    await atPort?.transport.close().catch(() => undefined);
    await session?.close().catch(() => undefined);
  }

  function finish(result: 'pass' | 'fail', code?: FailureCode, message?: string): AttemptOutcome {
    return {
      start,
      end: now(),
      result,
      ...(code !== undefined && { code }),
      ...(message !== undefined && { message }),
      ...(board && { board }),
      ...(boardInfo && { boardInfo }),
      regions: [...regionRecords.values()].sort((a, b) => a.offset - b.offset),
      ...(baud !== undefined && { baud }),
      phases,
      attempt,
      ...(testRecord && { test: testRecord }),
      ...(input.identity?.record() && { identity: input.identity.record(testRecord) }),
    };
  }

  function skippedTest(note: string): BoardTestRecord {
    log('warn', `not tested on the AT port: ${note}`);
    return { result: 'skipped', note, transcript: [] };
  }

  /**
   * The slot's AT port, open and listened to. A slot without one skips the test (the UART0 boot check stands
   * alone) unless the profile requires it; a port that is there but cannot be opened is a broken fixture.
   */
  async function openAtPort(test: {
    plan: BoardTestPlan;
    requireAtPort: boolean;
  }): Promise<{ transport: Transport; client: AtClient } | undefined> {
    if (!slot.atPort || !link.openAtPort) {
      const why = slot.atPortMissing ?? 'this slot has no AT port';
      if (test.requireAtPort) {
        throw new StationFailure(
          'at-no-channel',
          `The board was flashed but not tested: ${why}, and the profile requires the AT test. Check the slot's AT wiring and config.yaml, then retest.`,
        );
      }
      testRecord = skippedTest(why);
      return undefined;
    }
    try {
      const transport = await link.openAtPort(slot, { baud: test.plan.baud, signal });
      return { transport, client: new AtClient(transport) };
    } catch (err) {
      if (signal.aborted) throw err;
      throw new StationFailure(
        'at-no-channel',
        `The board was flashed but not tested: its AT port ${slot.atPort} could not be opened (${(err as Error).message}). Check the slot's AT cable or bridge (and that nothing else holds the port), then retest.`,
      );
    }
  }

  async function atTest(client: AtClient, plan: BoardTestPlan): Promise<void> {
    state('testing', "waiting for 'ready' on the AT port");
    const facts: BoardFacts = { ...(await input.testFacts?.(board!)), mac: board!.mac };
    const r = await runBoardTest(client, plan, facts, {
      signal,
      onStep: (step, text) => state('testing', step === 'ready' ? text : `${step}: ${text}`),
    });
    testRecord = {
      result: r.passed ? 'pass' : 'fail',
      port: r.port,
      baud: r.baud,
      ...(r.failedStep !== undefined && { failedStep: r.failedStep }),
      transcript: r.transcript,
    };
    if (!r.passed) throw new StationFailure(r.code!, r.message!);
  }

  /** The chip's MD5 of a region; a garbled or lost reply is not bad flash, so the (read-only) query is repeated. */
  async function readMd5(s: BoardSession, r: ImageRegion): Promise<string> {
    for (let tries = 0; ; tries++) {
      try {
        return await s.flashMd5(r.offset, r.data.length, signal);
      } catch (err) {
        if (signal.aborted || !isRetryableWriteError(err) || tries >= policy.regionRetries) throw err;
        retry(
          'md5',
          tries + 1,
          policy.regionRetries,
          err,
          `reading the MD5 of ${r.label} failed (${(err as Error).message}); asking again`,
        );
      }
    }
  }

  async function writeAll(
    s: BoardSession,
    regions: readonly ImageRegion[],
    totalBytes: number,
  ): Promise<void> {
    const minGap = input.progressIntervalMs ?? 100;
    let before = 0;
    for (let i = 0; i < regions.length; i++) {
      const r = regions[i];
      const prior = regionRecords.get(r.offset);
      // Regions verified at a faster baud stay written; a board retry only redoes what failed.
      if (prior?.md5Chip === r.md5) {
        before += r.data.length;
        continue;
      }
      state('flashing', `${r.label} @0x${r.offset.toString(16)}`);
      await input.identity?.beforeWrite(r);
      let retries = 0;
      const earlier = retriesSoFar.get(r.offset) ?? 0;
      const t0 = now();
      while (true) {
        let lastSent = 0;
        let rateT = now();
        let rateBytes = 0;
        let bytesPerSecond = 0;
        try {
          const out = await timed('write', () =>
            s.writeRegion(r, {
              signal,
              skipUnchanged: policy.skipUnchanged,
              compress: policy.compress,
              onProgress: (p) => {
                const t = now();
                if (t - rateT >= 250) {
                  bytesPerSecond = ((p.done - rateBytes) * 1000) / (t - rateT);
                  rateT = t;
                  rateBytes = p.done;
                }
                if (t - lastSent < minGap && p.done < p.total) return;
                lastSent = t;
                const overallDone = before + p.done;
                input.publish({
                  type: 'progress',
                  progress: {
                    regionIndex: i,
                    regionCount: regions.length,
                    regionOffset: r.offset,
                    regionLabel: r.label,
                    regionDone: p.done,
                    regionTotal: p.total,
                    overallDone,
                    overallTotal: totalBytes,
                    bytesPerSecond: Math.max(0, Math.round(bytesPerSecond)),
                    ...(bytesPerSecond > 0 && {
                      etaSeconds: Math.round((totalBytes - overallDone) / bytesPerSecond),
                    }),
                  },
                });
              },
            }),
          );
          const record = toRegionRecord({
            ...out,
            retries: earlier + retries + out.retries,
            seconds: (now() - t0) / 1000,
          });
          regionRecords.set(r.offset, record);
          input.publish({ type: 'region', region: record });
          break;
        } catch (err) {
          if (signal.aborted || !isRetryableWriteError(err) || retries >= policy.regionRetries) {
            // The next board try (or baud step) counts on from here: the region has failed retries+1 times.
            retriesSoFar.set(r.offset, earlier + retries + 1);
            regionRecords.set(
              r.offset,
              toRegionRecord({
                offset: r.offset,
                label: r.label,
                size: r.data.length,
                md5Expected: r.md5,
                seconds: (now() - t0) / 1000,
                retries: earlier + retries,
              }),
            );
            throw err;
          }
          retries++;
          retry(
            'region',
            retries,
            policy.regionRetries,
            err,
            `region ${r.label} failed (${(err as Error).message}); retry ${retries}/${policy.regionRetries}`,
          );
        }
      }
      before += r.data.length;
    }
  }
}

/** The last `n` non-empty lines of what a board printed, without control sequences, for a one-line message. */
function lastLines(output: string, n: number): string {
  return stripVTControlCharacters(output)
    .split('\n')
    .map((l) => l.replace(CONTROL, '').trim())
    .filter(Boolean)
    .slice(-n)
    .join(' | ')
    .slice(0, 160);
}
