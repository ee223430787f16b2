/**
 * The UI's one store, fed by station events. It is mutable and cheap to update (32 boards × 50 progress events/s
 * must cost next to nothing); React only ever sees immutable snapshots taken at ≤ 10 Hz (see sampler.ts).
 * Over 400 lines on purpose: one store fed by events, as Ink's examples have it — every event kind changes the
 * same slot and header state, and splitting it would spread one state machine over files.
 */
import type { BoardInfo, ProgressInfo, SlotState, StationEvent } from '../station/events.ts';
import { isBusySlotState } from '../station/events.ts';
import type { FailureCode } from '../ledger/failure-codes.ts';
import type { SlotConfig, StationHeader } from './controls.ts';
import { FAILURE_WORDS } from './failure-words.ts';
import { LotYield } from './yield-figures.ts';
import type { LotContext, YieldFigures } from './yield-figures.ts';
import { screenSafe, screenSafeEvent } from './screen-safe-text.ts';
import { slotComparator } from './slot-order.ts';
import type { FixtureLayout } from './slot-order.ts';

export type RunState = 'running' | 'paused' | 'stopping' | 'stopped';

export interface SlotResult {
  result: 'pass' | 'fail';
  code?: FailureCode;
  message?: string;
  durationMs: number;
  recorded: boolean;
}

export interface SlotView {
  portPath: string;
  name: string;
  tty?: string;
  /** The slot's AT port, when it has one: its boards get the post-flash test. */
  atPort?: string;
  attached: boolean;
  state: SlotState;
  attempt: number;
  board?: BoardInfo;
  baud?: number;
  message?: string;
  progress?: ProgressInfo;
  result?: SlotResult;
  /** Outcome of the board that was in this slot before it was removed (shown dimmed on an empty slot). */
  lastResult?: SlotResult;
  awaitingRemoval: boolean;
  /** When the slot entered its current state (ms since epoch). */
  since: number;
  /** Retries of the board now in the slot (region writes, resets, baud steps, MD5 queries). */
  retries: number;
  /** The latest retry, for the tile: 'retry 1/2: no reply'. Cleared once the board moves past it. */
  notice?: string;
  /** Seconds the board has not answered while writing or verifying (from 3 s on); the tile says it waits. */
  waitingSeconds?: number;
}

export type LogLevel = 'info' | 'warn' | 'error' | 'pass' | 'fail';

export interface LogLine {
  id: number;
  time: number;
  level: LogLevel;
  slotName?: string;
  text: string;
}

/** The link to the central database, when one is configured (header field). */
export interface CentralView {
  link: 'connecting' | 'online' | 'offline' | 'stopped';
  lagRecords: number;
  lagSeconds: number;
}

export interface UiSnapshot {
  now: number;
  header: Readonly<StationHeader>;
  central?: CentralView;
  runState: RunState;
  detection?: string;
  /** Slots in screen order: configured ones in config order, then the rest in natural port-path order. */
  slots: readonly SlotView[];
  /** The configured fixture layout (port paths, null = gap), when there is one. */
  fixture?: FixtureLayout;
  yieldFigures: YieldFigures;
  /** Log lines that arrived since the previous snapshot; `key` changes with every new batch. */
  logBatch: { key: number; lines: readonly LogLine[] };
}

interface SlotRecord extends SlotView {
  /** When the UI last heard the board make progress (its own clock: a stall is measured where it is seen). */
  activityAt: number;
  /** Region being written when the latest retry was announced; the notice goes once the write moves on. */
  noticeRegion?: number;
  /** The board now in the slot has its recorded result counted in the yield figures. */
  counted?: boolean;
  /** The result's log line is written once, when the result is on disk (PASS is never shown before that). */
  resultLogged?: boolean;
  /** Bumped on every change; snapshots reuse the previous frozen copy when unchanged. */
  rev: number;
  snapRev: number;
  snap?: SlotView;
}

export interface StoreOptions {
  header: StationHeader;
  /** Log every retry and board message too (`--verbose`); otherwise one line per board outcome. */
  verbose?: boolean;
  slots?: readonly SlotConfig[];
  /** The fixture's shape as rows of port paths (null = a gap); see slot-order.ts. */
  fixture?: FixtureLayout;
  now?: () => number;
}

/** A board silent this long while writing or verifying is shown as waiting (a reply timeout is running). */
const STALL_MS = 3000;

export class StationUiStore {
  /** Bumped on every change; the sampler compares it to decide whether to take a snapshot. */
  version = 0;
  private readonly now: () => number;
  private readonly header: StationHeader;
  private runState: RunState = 'running';
  /** Run state as last logged (the UI sets runState ahead of the station's own event). */
  private loggedRunState?: RunState;
  private detection?: string;
  private central?: CentralView;
  private readonly slots = new Map<string, SlotRecord>();
  /** Slot records in screen order; rebuilt when a slot appears. */
  private ordered?: SlotRecord[];
  private readonly compareSlots: (a: string, b: string) => number;
  private readonly fixture?: FixtureLayout;
  private readonly verbose: boolean;
  private pendingLog: LogLine[] = [];
  private logSeq = 0;
  private lastBatch: { key: number; lines: readonly LogLine[] } = { key: 0, lines: [] };
  private readonly lotContext: LotContext;
  private lotYield: LotYield;
  /** Bumped when a result is counted or the lot changes; figures are recomputed only then (or each minute). */
  private yieldVersion = 0;
  private yieldCache?: { version: number; minute: number; slots: number; figures: YieldFigures };

  constructor(opts: StoreOptions) {
    this.now = opts.now ?? Date.now;
    this.header = {
      ...opts.header,
      operator: screenSafe(opts.header.operator),
      lot: screenSafe(opts.header.lot),
      stationName: screenSafe(opts.header.stationName),
      profileName: screenSafe(opts.header.profileName),
    };
    this.lotContext = {
      station: opts.header.stationName,
      profile: opts.header.profileName,
      recipe: opts.header.recipeFingerprint,
      demoFirmware: opts.header.demoFirmware,
    };
    this.lotYield = new LotYield(this.header.lot, this.lotContext);
    this.compareSlots = slotComparator((opts.slots ?? []).map((s) => s.portPath));
    this.fixture = opts.fixture;
    this.verbose = opts.verbose ?? false;
    for (const s of opts.slots ?? []) this.slotFor(s.portPath, screenSafe(s.name));
  }

  handle(event: StationEvent): void {
    const e = screenSafeEvent(event);
    this.version++;
    if (e.type === 'station') {
      // A message with an unchanged state (operator, lot, a note) is logged as itself, not as 'station running'.
      const changed = e.state !== this.loggedRunState;
      this.loggedRunState = e.state;
      this.runState = e.state;
      if (e.detection) this.detection = e.detection;
      if (changed)
        this.log('info', undefined, `station ${e.state}${e.message ? `: ${e.message}` : ''}`, e.time);
      else if (e.message) this.log('info', undefined, e.message, e.time);
      return;
    }
    if (e.type === 'central') {
      if (this.central?.link !== e.link) {
        const why = e.message ? `: ${e.message}` : '';
        this.log(
          e.link === 'offline' ? 'warn' : 'info',
          undefined,
          `central database ${e.link}${why}`,
          e.time,
        );
      }
      this.central = { link: e.link, lagRecords: e.lagRecords, lagSeconds: e.lagSeconds };
      return;
    }
    if (e.type === 'log' && e.slot === '') {
      // A station-wide line (detection warnings, the central database): no slot of its own.
      this.log(e.level, undefined, e.message, e.time);
      return;
    }
    const slot = this.slotFor(e.slot);
    slot.rev++;
    switch (e.type) {
      case 'slot-attached':
        slot.attached = true;
        slot.tty = e.slotInfo.tty;
        slot.atPort = e.slotInfo.atPort;
        if (slot.name === slot.portPath && e.slotInfo.name) slot.name = e.slotInfo.name;
        this.newCycle(slot, 'detected', e.time);
        break;
      case 'slot-detached':
        slot.attached = false;
        // The next board may get another tty: an empty slot shows none rather than a stale one.
        slot.tty = undefined;
        slot.lastResult = slot.result ?? slot.lastResult;
        this.newCycle(slot, 'empty', e.time);
        // A board pulled while busy gets its own FAIL line (disconnected) when its attempt is recorded.
        break;
      case 'state':
        if (e.state === 'pass' || e.state === 'fail') {
          if (slot.state !== e.state) slot.since = e.time;
          slot.state = e.state;
          this.clearNotice(slot);
        } else if (e.state !== slot.state || slot.result) {
          this.newCycle(slot, e.state, e.time);
        }
        slot.attempt = e.attempt;
        // An empty slot has no board, whatever the event still carries.
        if (e.board && e.state !== 'empty') slot.board = e.board;
        if (e.baud !== undefined) slot.baud = e.baud;
        slot.message = e.message;
        // Bytes start moving afresh; a retry notice stays through a reconnect, not into the final verify.
        slot.activityAt = this.now();
        if (e.state === 'verifying') this.clearNotice(slot);
        break;
      case 'progress':
        slot.progress = e.progress;
        slot.activityAt = this.now();
        if (slot.noticeRegion !== undefined && e.progress.regionIndex > slot.noticeRegion)
          this.clearNotice(slot);
        break;
      case 'retry':
        slot.retries++;
        slot.notice = `retry ${e.n}/${e.of}: ${e.reason}`;
        slot.noticeRegion = slot.progress?.regionIndex ?? -1;
        slot.activityAt = this.now();
        if (this.verbose) this.log('warn', slot.name, e.message, e.time);
        break;
      case 'result':
        this.onResult(slot, e);
        break;
      case 'log':
        // Board chatter and warnings are details (headless events, --verbose); errors always show.
        if (e.level === 'error' || this.verbose) this.log(e.level, slot.name, e.message, e.time);
        break;
      case 'awaiting-removal':
        slot.awaitingRemoval = true;
        break;
    }
  }

  /** Shows the new operator at once; the log line comes from the station's own event (once). */
  setOperator(s: string): void {
    this.version++;
    this.header.operator = screenSafe(s);
  }

  setLot(s: string): void {
    this.version++;
    const lot = screenSafe(s);
    if (lot !== this.lotYield.lot) {
      this.lotYield = new LotYield(lot, this.lotContext, this.lotYield.today(this.now()));
      this.yieldVersion++;
    }
    this.header.lot = lot;
  }

  /** Optimistic run state after a key press; the station's own 'station' event confirms or corrects it. */
  setRunState(s: RunState): void {
    this.version++;
    this.runState = s;
  }

  get currentRunState(): RunState {
    return this.runState;
  }

  /** Boards the UI sees as busy (the controls' own count is authoritative for the quit question). */
  get busyCount(): number {
    let n = 0;
    for (const s of this.slots.values()) if (isBusySlotState(s.state)) n++;
    return n;
  }

  snapshot(): UiSnapshot {
    const now = this.now();
    if (this.pendingLog.length > 0) {
      this.lastBatch = { key: this.pendingLog[0].id, lines: this.pendingLog };
      this.pendingLog = [];
    }
    this.markWaiting(now);
    const slots: SlotView[] = [];
    this.ordered ??= [...this.slots.values()].sort((a, b) => this.compareSlots(a.portPath, b.portPath));
    for (const rec of this.ordered) {
      if (!rec.snap || rec.snapRev !== rec.rev) {
        const {
          counted: _c,
          resultLogged: _l,
          rev: _r,
          snapRev: _s,
          snap: _p,
          activityAt: _a,
          noticeRegion: _n,
          ...view
        } = rec;
        rec.snap = Object.freeze(view);
        rec.snapRev = rec.rev;
      }
      slots.push(rec.snap);
    }
    return {
      now,
      header: { ...this.header },
      ...(this.central && { central: this.central }),
      runState: this.runState,
      detection: this.detection,
      slots,
      ...(this.fixture && { fixture: this.fixture }),
      yieldFigures: this.figures(now),
      logBatch: this.lastBatch,
    };
  }

  /** Boards silent while writing or verifying: their tiles say so, counting the seconds. */
  private markWaiting(now: number): void {
    for (const rec of this.slots.values()) {
      const silent = now - rec.activityAt;
      const waiting =
        (rec.state === 'flashing' || rec.state === 'verifying') && silent >= STALL_MS
          ? Math.floor(silent / 1000)
          : undefined;
      if (waiting !== rec.waitingSeconds) {
        rec.waitingSeconds = waiting;
        rec.rev++;
      }
    }
  }

  private clearNotice(slot: SlotRecord): void {
    slot.notice = undefined;
    slot.noticeRegion = undefined;
  }

  private figures(now: number): YieldFigures {
    const minute = Math.floor(now / 60_000);
    const c = this.yieldCache;
    if (c && c.version === this.yieldVersion && c.minute === minute && c.slots === this.slots.size) {
      return c.figures;
    }
    this.ordered ??= [...this.slots.values()].sort((x, y) => this.compareSlots(x.portPath, y.portPath));
    const figures = this.lotYield.figures(
      now,
      this.ordered.map((s) => ({ portPath: s.portPath, name: s.name })),
    );
    this.yieldCache = { version: this.yieldVersion, minute, slots: this.slots.size, figures };
    return figures;
  }

  private onResult(slot: SlotRecord, e: Extract<StationEvent, { type: 'result' }>): void {
    slot.result = {
      result: e.result,
      code: e.code,
      message: e.message,
      durationMs: e.durationMs,
      recorded: e.recorded,
    };
    slot.state = e.result;
    slot.since = e.time;
    slot.attempt = e.attempt;
    this.clearNotice(slot);
    if (e.board) slot.board = e.board;
    // Counted once, when it is on disk: the figures are the report's over the ledger, which holds only those.
    if (e.recorded && !slot.counted) {
      slot.counted = true;
      this.lotYield.add(
        {
          start: e.startedAt ?? e.time - e.durationMs,
          durationMs: e.durationMs,
          slot: slot.portPath,
          slotName: slot.name,
          result: e.result,
          ...(slot.board?.mac !== undefined && { mac: slot.board.mac }),
          ...(e.code !== undefined && { code: e.code }),
          ...(e.message !== undefined && { message: e.message }),
          lot: this.header.lot,
          operator: this.header.operator,
        },
        this.now(),
      );
      this.yieldVersion++;
    }
    if (!e.recorded || slot.resultLogged) return;
    slot.resultLogged = true;
    const mac = slot.board?.mac ? ` ${slot.board.mac}` : '';
    const retried =
      slot.retries > 0 ? ` (after ${slot.retries} ${slot.retries === 1 ? 'retry' : 'retries'})` : '';
    if (e.result === 'pass') {
      this.log('pass', slot.name, `PASS${mac} in ${(e.durationMs / 1000).toFixed(1)} s${retried}`, e.time);
    } else {
      const words = e.code ? FAILURE_WORDS[e.code].short : 'failed';
      this.log(
        'fail',
        slot.name,
        `FAIL${mac}: ${words}${retried}${e.message ? ` — ${e.message}` : ''}`,
        e.time,
      );
    }
  }

  private newCycle(slot: SlotRecord, state: SlotState, time: number): void {
    slot.state = state;
    slot.since = time;
    slot.progress = undefined;
    slot.message = undefined;
    slot.awaitingRemoval = false;
    slot.activityAt = this.now();
    slot.waitingSeconds = undefined;
    // A retry notice outlives the reconnect it causes; a new board or a result ends it.
    if (!isBusySlotState(state)) this.clearNotice(slot);
    if (slot.result) slot.lastResult = slot.result;
    slot.result = undefined;
    slot.counted = undefined;
    slot.resultLogged = undefined;
    if (state === 'empty' || state === 'detected') {
      slot.board = undefined;
      slot.baud = undefined;
      slot.attempt = 0;
      slot.retries = 0;
    }
  }

  private slotFor(portPath: string, name?: string): SlotRecord {
    let s = this.slots.get(portPath);
    if (!s) {
      s = {
        portPath,
        name: name ?? portPath,
        attached: false,
        state: 'empty',
        attempt: 0,
        awaitingRemoval: false,
        since: this.now(),
        retries: 0,
        activityAt: this.now(),
        rev: 0,
        snapRev: -1,
      };
      this.slots.set(portPath, s);
      this.ordered = undefined;
    }
    return s;
  }

  private log(level: LogLevel, slotName: string | undefined, text: string, time: number): void {
    this.pendingLog.push({ id: ++this.logSeq, time, level, slotName, text });
  }
}
