/**
 * The station: detection feeds slots, slots feed a p-queue of per-board pipelines, every outcome goes to the
 * ledger before anyone is told. One AbortController per board, so an unplug, hang or failure stays in its slot.
 */
import PQueue from 'p-queue';
import type { LedgerRecord } from '../ledger/record.ts';
import type { BoardLink } from './board-link.ts';
import type { BridgeDevice, DetectionMode, DeviceSource } from './detect/bridge-device.ts';
import type { BoardInfo, ProgressInfo, SlotInfo, SlotState, StationEvent } from './events.ts';
import { StationEventBus } from './events.ts';
import type { FailureCode } from '../ledger/failure-codes.ts';
import { StationAbort } from './failure.ts';
import type { LedgerSink } from './ledger-sink.ts';
import type { AttemptOutcome, PipelineEvent, PipelineFirmware, PipelinePolicy } from './pipeline.ts';
import { runPipeline } from './pipeline.ts';

export interface StationFirmware extends PipelineFirmware {
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
  /** Why this detection mode, e.g. 'polling: udevd is not running'; shown in the 'station' event. */
  detectionNote?: string;
  now?: () => number;
}

export type StationRunState = 'idle' | 'running' | 'paused' | 'stopping' | 'stopped';

export interface SlotSnapshot extends SlotInfo {
  state: SlotState;
  present: boolean;
  busy: boolean;
  awaitingRemoval: boolean;
  attempt: number;
  board?: BoardInfo;
  baud?: number;
  progress?: ProgressInfo;
  message?: string;
  lastResult?: { result: 'pass' | 'fail'; code?: FailureCode; message?: string; recorded: boolean };
}

export interface StationSnapshot {
  state: StationRunState;
  detection?: DetectionMode;
  stationName: string;
  profileName: string;
  recipeFingerprint: string;
  chip: string;
  demoFirmware: boolean;
  operator: string;
  lot: string;
  inFlight: number;
  queued: number;
  passed: number;
  failed: number;
  slots: SlotSnapshot[];
}

interface SlotRuntime extends SlotSnapshot {
  controller?: AbortController;
  queuedTask: boolean;
  /** A board plugged in while the previous one's aborted attempt is still being recorded. */
  pendingAttach?: BridgeDevice;
  /** A native-USB board vanished after its reset; its removal takes effect when this timer fires. */
  reenumerationTimer?: NodeJS.Timeout;
}

/** Espressif's own USB (USB-Serial/JTAG, USB-OTG ROM CDC): the chip itself is the USB device. */
const NATIVE_USB_VID = '303a';

/** A source may explain its mode after start (e.g. hotplug that fell back to polling). */
function sourceNote(source: DeviceSource): string | undefined {
  const note = (source as { note?: unknown }).note;
  return typeof note === 'string' ? note : undefined;
}

export class Station {
  readonly bus: StationEventBus;
  private readonly queue: PQueue;
  private readonly slots = new Map<string, SlotRuntime>();
  private readonly slotNames = new Map<string, string>();
  private runState: StationRunState = 'idle';
  private operator: string;
  private lot: string;
  private passed = 0;
  private failed = 0;
  private inFlightCount = 0;
  private readonly now: () => number;
  private readonly completions = new Set<(o: { slot: string; outcome: AttemptOutcome }) => void>();

  constructor(private readonly opts: StationOptions) {
    this.bus = opts.bus ?? new StationEventBus();
    this.now = opts.now ?? Date.now;
    this.operator = opts.operator ?? '';
    this.lot = opts.lot ?? '';
    for (const s of opts.slots ?? []) this.slotNames.set(s.usbPath, s.name);
    const concurrency = opts.concurrency ?? Math.max(1, opts.slots?.length || 4);
    this.queue = new PQueue({ concurrency, autoStart: true });
  }

  get detection(): DetectionMode {
    return this.opts.source.mode;
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
    for (const [usbPath, name] of this.slotNames) this.ensureSlot(usbPath, name);
    await this.opts.source.start(
      {
        attach: (d) => this.attached(d),
        detach: (p) => this.detached(p),
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
  }

  /** No new boards start; boards in flight finish. */
  pause(): void {
    if (this.runState !== 'running') return;
    this.runState = 'paused';
    this.queue.pause();
    this.publish({ type: 'station', time: this.now(), state: 'paused' });
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
      await this.queue.onIdle();
      return;
    }
    this.runState = 'stopping';
    this.publish({ type: 'station', time: this.now(), state: 'stopping' });
    await this.opts.source.stop().catch(() => undefined);
    for (const slot of this.slots.values()) {
      if (slot.queuedTask && !slot.busy)
        slot.controller?.abort(new StationAbort('station-stop', 'station stopped'));
      if (slot.busy && opts.abortInFlight) {
        slot.controller?.abort(new StationAbort('station-stop', 'station stopped'));
      }
    }
    for (const slot of this.slots.values()) {
      if (slot.reenumerationTimer) {
        clearTimeout(slot.reenumerationTimer);
        delete slot.reenumerationTimer;
      }
    }
    this.queue.start(); // a paused queue would never drain its aborted tasks
    await this.queue.onIdle();
    this.runState = 'stopped';
    this.publish({ type: 'station', time: this.now(), state: 'stopped' });
  }

  snapshot(): StationSnapshot {
    const fw = this.opts.firmware;
    return {
      state: this.runState,
      detection: this.opts.source.mode,
      stationName: this.opts.stationName,
      profileName: fw.profileName,
      recipeFingerprint: fw.fingerprint,
      chip: fw.chip,
      demoFirmware: fw.demo,
      operator: this.operator,
      lot: this.lot,
      inFlight: this.inFlightCount,
      queued: this.queue.size,
      passed: this.passed,
      failed: this.failed,
      slots: [...this.slots.values()]
        .map((s) => {
          const { controller: _c, queuedTask: _q, reenumerationTimer: _t, pendingAttach: _p, ...snap } = s;
          return structuredClone(snap);
        })
        .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true })),
    };
  }

  private stationState(): 'running' | 'paused' | 'stopping' | 'stopped' {
    return this.runState === 'idle' ? 'stopped' : this.runState;
  }

  private publish(e: StationEvent): void {
    this.bus.publish(e);
  }

  private ensureSlot(portPath: string, name?: string): SlotRuntime {
    let slot = this.slots.get(portPath);
    if (!slot) {
      slot = {
        portPath,
        name: name ?? this.slotNames.get(portPath) ?? portPath,
        tty: '',
        vid: '',
        pid: '',
        state: 'empty',
        present: false,
        busy: false,
        awaitingRemoval: false,
        attempt: 0,
        queuedTask: false,
      };
      this.slots.set(portPath, slot);
    }
    return slot;
  }

  private slotInfo(s: SlotRuntime): SlotInfo {
    return {
      portPath: s.portPath,
      name: s.name,
      tty: s.tty,
      vid: s.vid,
      pid: s.pid,
      ...(s.usbSerial !== undefined && { usbSerial: s.usbSerial }),
    };
  }

  private attached(d: BridgeDevice): void {
    if (this.runState === 'stopping' || this.runState === 'stopped') return;
    const slot = this.ensureSlot(d.portPath);
    if (slot.busy && !slot.present) {
      // The previous board was pulled and its attempt is still winding down: one attempt per slot at a time.
      slot.pendingAttach = d;
      return;
    }
    if (slot.reenumerationTimer) {
      clearTimeout(slot.reenumerationTimer);
      delete slot.reenumerationTimer;
      if (d.usbSerial !== undefined && d.usbSerial === slot.usbSerial && d.vid === slot.vid) {
        // The same chip is back after its reset: follow its new tty, keep its result, never flash it again.
        this.publish({
          type: 'log',
          time: this.now(),
          slot: slot.portPath,
          level: 'info',
          message: `native USB board re-enumerated as ${d.tty}`,
        });
      } else {
        // Another board: the held removal of the previous one happens now.
        this.removeBoard(slot);
      }
    }
    if (slot.present) {
      // Same physical port seen again without a removal in between (a re-enumerated native-USB board, or a
      // source repeating itself): follow its tty, never start a second attempt.
      if (slot.tty !== d.tty) {
        slot.tty = d.tty;
        this.publish({
          type: 'slot-attached',
          time: this.now(),
          slot: slot.portPath,
          slotInfo: this.slotInfo(slot),
        });
      }
      return;
    }
    Object.assign(slot, { tty: d.tty, vid: d.vid, pid: d.pid, present: true, awaitingRemoval: false });
    if (d.usbSerial !== undefined) slot.usbSerial = d.usbSerial;
    else delete slot.usbSerial;
    delete slot.board;
    delete slot.progress;
    delete slot.lastResult;
    delete slot.baud;
    delete slot.message;
    this.publish({
      type: 'slot-attached',
      time: this.now(),
      slot: slot.portPath,
      slotInfo: this.slotInfo(slot),
    });
    this.setState(slot, 'detected');
    this.enqueue(slot);
  }

  private detached(portPath: string): void {
    const slot = this.slots.get(portPath);
    if (slot?.pendingAttach) {
      delete slot.pendingAttach;
      return;
    }
    if (!slot || !slot.present || slot.reenumerationTimer) return;
    const afterReset = slot.awaitingRemoval || slot.state === 'resetting' || slot.state === 'boot-check';
    if (slot.vid === NATIVE_USB_VID && slot.usbSerial !== undefined && afterReset) {
      slot.reenumerationTimer = setTimeout(() => {
        delete slot.reenumerationTimer;
        this.removeBoard(slot);
      }, this.opts.reenumerationGraceMs ?? 5000);
      return;
    }
    this.removeBoard(slot);
  }

  private removeBoard(slot: SlotRuntime): void {
    if (!slot.present) return;
    const portPath = slot.portPath;
    const wasBusy = slot.busy || slot.queuedTask;
    slot.present = false;
    slot.awaitingRemoval = false;
    slot.controller?.abort(new StationAbort('unplugged', 'board unplugged'));
    this.publish({ type: 'slot-detached', time: this.now(), slot: portPath, wasBusy });
    if (!slot.busy) this.setState(slot, 'empty');
  }

  private enqueue(slot: SlotRuntime): void {
    const controller = new AbortController();
    slot.controller = controller;
    slot.queuedTask = true;
    this.queue
      .add(() => this.runAttempt(slot, controller), { signal: controller.signal })
      .catch(() => {
        // Aborted while waiting (unplugged or station stopping): the board was never touched, nothing to record.
        if (slot.controller === controller) slot.queuedTask = false;
      });
  }

  private setState(
    slot: SlotRuntime,
    state: SlotState,
    extra: Partial<PipelineEvent & { type: 'state' }> = {},
  ): void {
    slot.state = state;
    if (extra.board) slot.board = extra.board;
    if (extra.baud !== undefined) slot.baud = extra.baud;
    slot.message = extra.message;
    this.publish({
      type: 'state',
      time: this.now(),
      slot: slot.portPath,
      state,
      attempt: slot.attempt,
      ...(slot.board && { board: slot.board }),
      ...(slot.baud !== undefined && { baud: slot.baud }),
      ...(extra.message !== undefined && { message: extra.message }),
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
    const info = this.slotInfo(slot);
    const started = this.now();
    let abandoned = false;
    let hardTimer: NodeJS.Timeout | undefined;
    // If the flasher ignores the abort (a bug, a wedged native call), the slot must not hang forever either.
    const hardDeadline = new Promise<AttemptOutcome>((resolve) => {
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
    try {
      outcome = await Promise.race([
        runPipeline({
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
            if (e.type === 'state') this.setState(slot, e.state, e);
            else if (e.type === 'progress') {
              slot.progress = e.progress;
              this.publish({ type: 'progress', time: this.now(), slot: slot.portPath, progress: e.progress });
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
    }
    await this.record(slot, info, outcome);
    slot.busy = false;
    this.inFlightCount--;
    for (const fn of this.completions) fn({ slot: slot.portPath, outcome });
    const next = slot.pendingAttach;
    if (next) {
      delete slot.pendingAttach;
      this.attached(next);
    }
  }

  /** Ledger first (write + fsync), then the result event, then the screen may say PASS. */
  private async record(slot: SlotRuntime, info: SlotInfo, outcome: AttemptOutcome): Promise<void> {
    const rec = this.ledgerRecord(info, outcome);
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
    if (outcome.result === 'pass') this.passed++;
    else this.failed++;
    slot.lastResult = {
      result: outcome.result,
      ...(outcome.code !== undefined && { code: outcome.code }),
      ...(outcome.message !== undefined && { message: outcome.message }),
      recorded,
    };
    delete slot.progress;
    this.publish({
      type: 'result',
      time: this.now(),
      slot: slot.portPath,
      result: outcome.result,
      ...(outcome.code !== undefined && { code: outcome.code }),
      ...(outcome.message !== undefined && { message: outcome.message }),
      ...(outcome.boardInfo && { board: outcome.boardInfo }),
      durationMs: outcome.end - outcome.start,
      attempt: outcome.attempt,
      recorded,
    });
    this.setState(slot, outcome.result, outcome.message !== undefined ? { message: outcome.message } : {});
    if (slot.present) {
      // The board stays in the slot until someone pulls it; it is never flashed again while it is there.
      slot.awaitingRemoval = true;
      this.publish({ type: 'awaiting-removal', time: this.now(), slot: slot.portPath });
    } else {
      this.setState(slot, 'empty');
    }
  }

  private ledgerRecord(info: SlotInfo, o: AttemptOutcome): LedgerRecord {
    const fw = this.opts.firmware;
    const b = o.board;
    const startIso = new Date(o.start).toISOString();
    return {
      v: 1,
      id: `${this.opts.stationName}/${startIso}/${info.portPath}`,
      start: startIso,
      end: new Date(o.end).toISOString(),
      station: this.opts.stationName,
      slot: info.name,
      portPath: info.portPath,
      port: info.tty,
      ...(info.usbSerial !== undefined && { usbSerial: info.usbSerial }),
      ...(info.vid && { vidPid: `${info.vid}:${info.pid}` }),
      operator: this.operator,
      lot: this.lot,
      ...(b && {
        mac: b.mac,
        chip: b.chip,
        revision: b.revision,
        ...(b.flashId !== undefined && { flashId: b.flashId }),
        ...(b.flashSizeBytes !== undefined && { flashSize: b.flashSizeBytes }),
        secureBoot: b.secureBoot,
        flashEncryption: b.flashEncryption,
      }),
      profile: fw.profileName,
      recipe: fw.fingerprint,
      ...(fw.demo && { demoFirmware: true }),
      regions: o.regions,
      ...(o.baud !== undefined && { baud: o.baud }),
      phases: Object.fromEntries(Object.entries(o.phases).map(([k, v]) => [k, Math.max(0, Math.round(v))])),
      durationMs: Math.max(0, o.end - o.start),
      result: o.result,
      ...(o.code !== undefined && { code: o.code }),
      ...(o.message !== undefined && { message: o.message }),
      attempt: o.attempt,
    };
  }
}
