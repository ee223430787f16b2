/**
 * The station: detection feeds slots (slots.ts), slots feed a p-queue of per-board pipelines, every outcome goes
 * to the ledger before anyone is told. One AbortController per board, so an unplug, hang or failure stays in its
 * slot.
 * Over 400 lines on purpose: start, offer, pause, stop (twice), the queue and the record hand-off share one
 * lifecycle and its counters; what stands alone (slots, the attempt record, the pipeline) is in its own file.
 */
import PQueue from 'p-queue';
import { attemptRecord } from './attempt-record.ts';
import { BoardIdentityStep, type StationIdentity } from './board-identity.ts';
import { IdentityPoolWatch } from './identity-pool-watch.ts';
import type { BoardLink } from './board-link.ts';
import type { DeviceSource } from './detect/bridge-device.ts';
import type { SlotInfo, StationEvent } from './events.ts';
import type { ChipName } from '../esp/chips/chip.ts';
import { StationEventBus } from './events.ts';
import { classifyFailure, StationAbort } from './failure.ts';
import type { LedgerSink } from './ledger-sink.ts';
import type { AttemptOutcome, PipelineFirmware, PipelinePolicy } from './pipeline.ts';
import { runPipeline } from './pipeline.ts';
import { Slots, type SlotRuntime } from './slots.ts';
import type { AtPortConfig } from './detect/at-pairing.ts';

/** A forced stop (second Ctrl+C) waits this long for a board's flasher to wind down before recording it anyway. */
export const ABORT_IN_FLIGHT_MS = 2000;

export interface StationFirmware extends PipelineFirmware {
  chip: ChipName;
  fingerprint: string;
  demo: boolean;
  profileName: string;
}

export interface StationOptions {
  stationName: string;
  operator?: string;
  lot?: string;
  firmware: StationFirmware;
  policy: PipelinePolicy;
  /** Named slots by USB port path; boards on other ports get a slot named after the port path. */
  slots?: readonly { name: string; usbPath: string }[];
  /** Boards flashed at once; default one per configured slot (at least 1... or 4 when no slots are named). */
  concurrency?: number;
  source: DeviceSource;
  offerPresentAtStart?: boolean;
  link: BoardLink;
  ledger: LedgerSink;
  bus?: StationEventBus;
  /** A board taking longer than this is failed with 'timeout' (a hang never blocks a worker forever). */
  boardTimeoutMs?: number;
  progressIntervalMs?: number;
  /** Forward the flasher's boot-log lines as 'info' log events (debugging; noisy on the operator screen). */
  linkLog?: boolean;
  /**
   * Espressif native-USB boards (VID 303a) drop off the bus and come back when the chip resets. A removal of such a
   * board after its final reset is held this long (default 5 s): if the same USB serial number (its MAC) comes back
   * on the same port, it is the same board re-enumerating, not a new board to flash.
   */
  reenumerationGraceMs?: number;
  /** After a board timeout, how long the pipeline gets to wind down before the slot gives up on it (5 s). */
  abortGraceMs?: number;
  /** Where each slot's AT port is (config.yaml `atPort`); unset: no slot has one. */
  atPorts?: AtPortConfig;
  /** Per-board serials and credentials (profile `identity:`); unset: every board gets the release's mfg_nvs. */
  identity?: StationIdentity;
  /** Why this detection mode, e.g. 'polling: udevd is not running'; shown in the 'station' event. */
  detectionNote?: string;
  now?: () => number;
}

export type StationRunState = 'idle' | 'running' | 'paused' | 'stopping' | 'stopped';

/** A source may explain its mode after start (e.g. hotplug that fell back to polling). */
function sourceNote(source: DeviceSource): string | undefined {
  const note = (source as { note?: unknown }).note;
  return typeof note === 'string' ? note : undefined;
}

export class Station {
  readonly bus: StationEventBus;
  private readonly queue: PQueue;
  private readonly slots: Slots;
  private runState: StationRunState = 'idle';
  private operator: string;
  private lot: string;
  private inFlightCount = 0;
  private readonly now: () => number;
  /**
   * Attempts under way. p-queue counts a task done the moment its signal aborts, while the attempt still winds
   * down and records the board; stop() waits for these, so 'stopped' means every attempt is in the ledger.
   */
  private readonly running = new Set<Promise<void>>();
  /** Per busy slot: record the board as stopped now, flasher or not (a forced stop). */
  private readonly giveUp = new Map<string, () => void>();
  private readonly completions = new Set<(o: { slot: string; outcome: AttemptOutcome }) => void>();
  private readonly pool: IdentityPoolWatch | undefined;

  constructor(private readonly opts: StationOptions) {
    this.bus = opts.bus ?? new StationEventBus();
    this.now = opts.now ?? Date.now;
    this.operator = opts.operator ?? '';
    this.lot = opts.lot ?? '';
    this.slots = new Slots({
      names: opts.slots,
      publish: (e) => this.publish(e),
      now: this.now,
      accepting: () => this.runState !== 'stopping' && this.runState !== 'stopped',
      enqueue: (slot) => this.enqueue(slot),
      reenumerationGraceMs: opts.reenumerationGraceMs,
      ...(opts.atPorts && { atPorts: opts.atPorts }),
    });
    const concurrency = opts.concurrency ?? Math.max(1, opts.slots?.length || 4);
    this.queue = new PQueue({ concurrency, autoStart: true });
    this.pool =
      opts.identity &&
      new IdentityPoolWatch(opts.identity.issuer, (level, message) => {
        this.publish({ type: 'log', time: this.now(), slot: '', level, message });
        // No board is flashed without its identity: boards wait until the pool is refilled and the
        // operator resumes (a retest board that holds an identity is served then too).
        if (level === 'error') this.pause(message);
      });
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  get state(): StationRunState {
    return this.runState;
  }

  setOperator(s: string): void {
    this.operator = s;
    this.publish({
      type: 'station',
      time: this.now(),
      state: this.stationState(),
      message: `operator: ${s}`,
    });
  }

  setLot(s: string): void {
    this.lot = s;
    this.publish({ type: 'station', time: this.now(), state: this.stationState(), message: `lot: ${s}` });
  }

  /** Called after each attempt's record is on disk (tests and `--once` count these). */
  onAttemptDone(fn: (o: { slot: string; outcome: AttemptOutcome }) => void): () => void {
    this.completions.add(fn);
    return () => this.completions.delete(fn);
  }

  async start(): Promise<void> {
    if (this.runState !== 'idle') throw new Error(`station already ${this.runState}`);
    this.runState = 'running';
    this.slots.createConfigured();
    await this.opts.source.start(
      {
        attach: (d) => this.slots.attached(d),
        detach: (p) => this.slots.detached(p),
        warn: (m) => this.publish({ type: 'log', time: this.now(), slot: '', level: 'warn', message: m }),
      },
      { offerPresent: this.opts.offerPresentAtStart ?? true },
    );
    this.publish({
      type: 'station',
      time: this.now(),
      state: 'running',
      detection: this.opts.source.mode,
      message: `detection: ${sourceNote(this.opts.source) ?? this.opts.detectionNote ?? this.opts.source.mode}`,
    });
    this.pool?.check();
  }

  /** No new boards start; boards in flight finish. `reason` is shown when the station pauses itself. */
  pause(reason?: string): void {
    if (this.runState !== 'running') return;
    this.runState = 'paused';
    this.queue.pause();
    this.publish({ type: 'station', time: this.now(), state: 'paused', ...(reason && { message: reason }) });
  }

  resume(): void {
    if (this.runState !== 'paused') return;
    this.runState = 'running';
    this.queue.start();
    this.publish({ type: 'station', time: this.now(), state: 'running' });
  }

  /**
   * Graceful stop: detection stops, boards waiting to start are dropped (they were never touched, so there is no
   * attempt to record), boards in flight finish and are recorded. `abortInFlight` fails them instead.
   */
  async stop(opts: { abortInFlight?: boolean } = {}): Promise<void> {
    if (this.runState === 'stopped' || this.runState === 'stopping') {
      // The second Ctrl+C (or a second quit) while boards finish: fail them now rather than wait.
      if (opts.abortInFlight) this.abortInFlight();
      await this.drained();
      return;
    }
    this.runState = 'stopping';
    this.publish({ type: 'station', time: this.now(), state: 'stopping' });
    await this.opts.source.stop().catch(() => undefined);
    for (const slot of this.slots.values()) {
      if (slot.queuedTask && !slot.busy)
        slot.controller?.abort(new StationAbort('station-stop', 'station stopped'));
    }
    if (opts.abortInFlight) this.abortInFlight();
    this.slots.clearReenumerationTimers();
    this.queue.start(); // a paused queue would never drain its aborted tasks
    await this.drained();
    this.runState = 'stopped';
    this.publish({ type: 'station', time: this.now(), state: 'stopped' });
  }

  /**
   * Fails every board in flight: its attempt is aborted and, should the flasher not wind down within
   * ABORT_IN_FLIGHT_MS, given up on; either way it is recorded as stopped by the station.
   */
  private abortInFlight(): void {
    for (const slot of this.slots.values()) {
      if (!slot.busy) continue;
      slot.controller?.abort(new StationAbort('station-stop', 'station stopped'));
      const giveUp = this.giveUp.get(slot.portPath);
      if (giveUp) setTimeout(giveUp, ABORT_IN_FLIGHT_MS).unref();
    }
  }

  /** The queue is idle and every attempt it started has been recorded. */
  private async drained(): Promise<void> {
    await this.queue.onIdle();
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private stationState(): 'running' | 'paused' | 'stopping' | 'stopped' {
    return this.runState === 'idle' ? 'stopped' : this.runState;
  }

  private publish(e: StationEvent): void {
    this.bus.publish(e);
  }

  private enqueue(slot: SlotRuntime): void {
    const controller = new AbortController();
    slot.controller = controller;
    slot.queuedTask = true;
    this.queue
      .add(
        () => {
          const attempt = this.runAttempt(slot, controller);
          this.running.add(attempt);
          void attempt.finally(() => this.running.delete(attempt));
          return attempt;
        },
        { signal: controller.signal },
      )
      .catch(() => {
        // Aborted while waiting (unplugged or station stopping): the board was never touched, nothing to record.
        if (slot.controller === controller) slot.queuedTask = false;
      });
  }

  private async runAttempt(slot: SlotRuntime, controller: AbortController): Promise<void> {
    slot.queuedTask = false;
    if (controller.signal.aborted || !slot.present) return;
    slot.busy = true;
    slot.attempt = 1;
    this.inFlightCount++;
    const timeoutMs = this.opts.boardTimeoutMs ?? 10 * 60_000;
    const timer = setTimeout(
      () =>
        controller.abort(
          new StationAbort(
            'board-timeout',
            `The board took longer than ${Math.round(timeoutMs / 1000)} s and was stopped. Re-plug it and retest; a repeat points at the cable, hub or board.`,
          ),
        ),
      timeoutMs,
    );
    const info = this.slots.info(slot);
    const started = this.now();
    let abandoned = false;
    let hardTimer: NodeJS.Timeout | undefined;
    // If the flasher ignores the abort (a bug, a wedged native call), the slot must not hang forever either.
    const hardDeadline = new Promise<AttemptOutcome>((resolve) => {
      // A forced stop gives the flasher ABORT_IN_FLIGHT_MS to wind down, then records the board without it.
      this.giveUp.set(slot.portPath, () => {
        if (abandoned) return;
        abandoned = true;
        resolve({
          start: started,
          end: this.now(),
          result: 'fail',
          ...classifyFailure(undefined, new StationAbort('station-stop', 'station stopped')),
          regions: [],
          phases: {},
          attempt: slot.attempt || 1,
        });
      });
      hardTimer = setTimeout(
        () => {
          abandoned = true;
          resolve({
            start: started,
            end: this.now(),
            result: 'fail',
            code: 'timeout',
            message: `The board did not finish within ${Math.round(timeoutMs / 1000)} s and did not respond to being stopped. Unplug it; if this repeats, restart the station.`,
            regions: [],
            phases: {},
            attempt: slot.attempt || 1,
          });
        },
        timeoutMs + (this.opts.abortGraceMs ?? 5000),
      );
    });
    let outcome: AttemptOutcome;
    const identity = this.opts.identity && new BoardIdentityStep(this.opts.identity);
    try {
      outcome = await Promise.race([
        runPipeline({
          ...(identity && { identity, testFacts: () => ({ mfgValues: identity.readBack() }) }),
          slot: info,
          link: this.opts.link,
          policy: this.opts.policy,
          firmware: this.opts.firmware,
          signal: controller.signal,
          progressIntervalMs: this.opts.progressIntervalMs,
          linkLog: this.opts.linkLog,
          now: this.now,
          attemptNumberFor: async (mac) => {
            slot.attempt = await this.opts.ledger.attemptNumberFor(mac);
            return slot.attempt;
          },
          publish: (e) => {
            if (abandoned) return; // an abandoned pipeline must not repaint a slot that moved on
            if (e.type === 'state') this.slots.setState(slot, e.state, e);
            // Regions reach the ledger with the outcome; the screen shows progress, not each region.
            else if (e.type === 'region') return;
            else if (e.type === 'progress') {
              this.publish({ type: 'progress', time: this.now(), slot: slot.portPath, progress: e.progress });
            } else if (e.type === 'retry') {
              this.publish({ ...e, time: this.now(), slot: slot.portPath });
            } else {
              this.publish({
                type: 'log',
                time: this.now(),
                slot: slot.portPath,
                level: e.level,
                message: e.message,
              });
            }
          },
        }),
        hardDeadline,
      ]);
    } finally {
      clearTimeout(timer);
      clearTimeout(hardTimer);
      this.giveUp.delete(slot.portPath);
    }
    await this.record(slot, info, outcome);
    this.pool?.afterAttempt(outcome.code === 'identity-unavailable' ? outcome.message : undefined);
    slot.busy = false;
    this.inFlightCount--;
    for (const fn of this.completions) fn({ slot: slot.portPath, outcome });
    const next = slot.pendingAttach;
    if (next) {
      delete slot.pendingAttach;
      this.slots.attached(next);
    }
  }

  /** Ledger first (write + fsync), then the result event, then the screen may say PASS. */
  private async record(slot: SlotRuntime, info: SlotInfo, outcome: AttemptOutcome): Promise<void> {
    const rec = attemptRecord(
      {
        stationName: this.opts.stationName,
        operator: this.operator,
        lot: this.lot,
        firmware: this.opts.firmware,
      },
      info,
      outcome,
    );
    let recorded = false;
    try {
      await this.opts.ledger.append(rec);
      recorded = true;
    } catch (err) {
      // A PASS nobody can prove is not a PASS: show it as a failure and say why.
      outcome.result = 'fail';
      outcome.code = 'internal';
      outcome.message = `The ledger could not be written (${(err as Error).message}); this board is NOT recorded. Fix the ledger location and retest it.`;
      this.publish({
        type: 'log',
        time: this.now(),
        slot: slot.portPath,
        level: 'error',
        message: outcome.message,
      });
    }
    this.publish({
      type: 'result',
      time: this.now(),
      slot: slot.portPath,
      result: outcome.result,
      ...(outcome.code !== undefined && { code: outcome.code }),
      ...(outcome.message !== undefined && { message: outcome.message }),
      ...(outcome.boardInfo && { board: outcome.boardInfo }),
      startedAt: outcome.start,
      durationMs: Math.max(0, outcome.end - outcome.start),
      attempt: outcome.attempt,
      recorded,
    });
    this.slots.setState(
      slot,
      outcome.result,
      outcome.message !== undefined ? { message: outcome.message } : {},
    );
    if (slot.present) {
      // The board stays in the slot until someone pulls it; it is never flashed again while it is there.
      slot.awaitingRemoval = true;
      this.publish({ type: 'awaiting-removal', time: this.now(), slot: slot.portPath });
    } else {
      this.slots.setState(slot, 'empty');
    }
  }
}
