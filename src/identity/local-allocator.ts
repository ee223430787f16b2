/**
 * The allocator of one station: identities from a local credential pool and a serial counter, bookkept in
 * the journal file. Every decision is made inside one queue (workers of many slots call at once) and is on
 * disk before the caller hears of it.
 */
import { NvsInputError } from '../nvs/index.ts';
import { AllocationBook } from './allocation-book.ts';
import {
  bookCounts,
  commitRecord,
  releaseRecord,
  reusedCandidate,
  writingRecord,
} from './allocation-steps.ts';
import type { Allocation } from './allocation-book.ts';
import type {
  AllocationRef,
  BoardRef,
  IdentityAllocator,
  IdentityCandidate,
  IssuedIdentity,
  PoolReport,
  PoolStatus,
  PrepareCandidate,
} from './allocator.ts';
import { CredentialPool } from './credential-pool.ts';
import type { CredentialBundle, CredentialFile } from './credential-pool.ts';
import { IdentityError } from './errors.ts';
import { JournalFile, readJournal } from './journal-file.ts';
import type { JournalRecord } from './journal-records.ts';
import { SerialCounter } from './serial-counter.ts';
import type { IdentitySettings } from './settings.ts';

export interface LocalAllocatorOptions {
  settings: IdentitySettings;
  /** Clock for journal times (tests). */
  now?: () => Date;
}

export class LocalAllocator implements IdentityAllocator {
  private readonly settings: IdentitySettings;
  /** Absent when only inspecting (a report beside a running station). */
  private readonly journal: JournalFile | undefined;
  private readonly book: AllocationBook;
  private readonly pool: CredentialPool | undefined;
  private readonly now: () => Date;
  /** Bundles that could not be issued (unreadable, or too large for the region), with the reason. */
  private readonly setAside = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly serials: SerialCounter | undefined;

  private constructor(
    options: LocalAllocatorOptions,
    journal: JournalFile | undefined,
    book: AllocationBook,
    pool: CredentialPool | undefined,
  ) {
    this.settings = options.settings;
    this.now = options.now ?? (() => new Date());
    this.journal = journal;
    this.book = book;
    this.pool = pool;
    this.serials =
      options.settings.serial && new SerialCounter(options.settings.serial, options.settings.lot, book);
  }

  /**
   * Opens the journal (taking its lock), replays it, and releases what a stopped station had reserved but
   * never started writing: those identities never reached a board.
   */
  static async open(options: LocalAllocatorOptions): Promise<LocalAllocator> {
    const { settings } = options;
    if (settings.serial?.pattern.usesLot && settings.lot === '') {
      throw new IdentityError(
        'setup',
        'the serial pattern uses {lot} but no lot is set; set identity.lot in the profile or the station lot',
      );
    }
    const pool = settings.credentials ? await CredentialPool.open(settings.credentials) : undefined;
    const { journal, records } = await JournalFile.open(settings.journal);
    try {
      const book = new AllocationBook();
      records.forEach((r, i) => book.apply(r, `${settings.journal}:${i + 1}`));
      const allocator = new LocalAllocator(options, journal, book, pool);
      for (const a of book.liveAllocations()) {
        if (a.state === 'reserved')
          await allocator.write({
            op: 'release',
            id: a.id,
            at: allocator.stamp(),
            attempt: a.attempt,
            reason: 'the station stopped before writing it',
          });
      }
      return allocator;
    } catch (err) {
      await journal.close();
      throw err;
    }
  }

  /**
   * The pool as the journal says now, without taking the journal over: safe beside a running station.
   * Reservations of a station that is not running count as reserved until it starts again.
   */
  static async inspect(options: LocalAllocatorOptions): Promise<LocalAllocator> {
    const pool = options.settings.credentials
      ? await CredentialPool.open(options.settings.credentials)
      : undefined;
    const book = new AllocationBook();
    const file = options.settings.journal;
    (await readJournal(file)).forEach((r, i) => book.apply(r, `${file}:${i + 1}`));
    const allocator = new LocalAllocator(options, undefined, book, pool);
    return allocator;
  }

  reserve<T>(
    board: BoardRef,
    prepare: PrepareCandidate<T>,
  ): Promise<{ identity: IssuedIdentity; prepared: T }> {
    return this.serialized(async () => {
      const held = this.book.heldBy(board.mac);
      if (held) return this.reattach(held, board, prepare);
      return this.reserveFresh(board, prepare);
    });
  }

  markWriting(ref: AllocationRef): Promise<void> {
    return this.serialized(() => this.write(writingRecord(this.book, ref, this.stamp())));
  }

  commit(ref: AllocationRef): Promise<void> {
    return this.serialized(() => this.write(commitRecord(this.book, ref, this.stamp())));
  }

  release(ref: AllocationRef, reason: string): Promise<'released' | 'kept'> {
    return this.serialized(async () => {
      const { record, outcome } = releaseRecord(this.book, ref, reason, this.stamp());
      await this.write(record);
      return outcome;
    });
  }

  status(): PoolStatus {
    const free = this.freeCount();
    const lowWater = this.settings.lowWater;
    if (free === 0) {
      return {
        level: 'empty',
        free,
        lowWater,
        message: `identity pool empty: no ${this.emptyWhat()} left for a new board; add bundles to ${this.pool?.source ?? 'the pool'} or widen the serial range`,
      };
    }
    if (free !== undefined && free <= lowWater) {
      return {
        level: 'low',
        free,
        lowWater,
        message: `identity pool low: ${free} board${free === 1 ? '' : 's'} left (warning at ${lowWater})`,
      };
    }
    return { level: 'ok', free, lowWater };
  }

  report(): PoolReport {
    return {
      total: this.totalCount(),
      free: this.freeCount(),
      ...bookCounts(this.book),
      problems: [
        ...(this.pool?.problems ?? []),
        ...[...this.setAside].map(([id, why]) => `bundle ${id} set aside: ${why}`),
      ],
    };
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.journal?.close();
  }

  // --- inside the queue ---

  private async reattach<T>(a: Allocation, board: BoardRef, prepare: PrepareCandidate<T>) {
    const candidate = reusedCandidate(a, a.credential ? await this.readIssuedBundle(a) : undefined);
    const prepared = await prepare(candidate);
    await this.write({
      op: 'reattach',
      id: a.id,
      at: this.stamp(),
      slot: board.slot,
      attempt: board.attempt,
    });
    return { identity: { ...candidate, slot: board.slot, attempt: board.attempt }, prepared };
  }

  private async reserveFresh<T>(board: BoardRef, prepare: PrepareCandidate<T>) {
    const serial = this.serials?.pick(board.mac);
    if (this.serials && !serial) throw this.emptyError();
    let refreshed = false;
    for (;;) {
      const bundle = this.pool ? this.pickBundle() : undefined;
      if (this.pool && !bundle) {
        if (!refreshed) {
          refreshed = true; // an operator may have added bundles since the pool was listed
          await this.pool.refresh();
          continue;
        }
        throw this.emptyError();
      }
      let files: CredentialFile[] | undefined;
      if (bundle) {
        try {
          files = await this.pool!.read(bundle);
        } catch (err) {
          this.setAside.set(bundle.id, (err as Error).message);
          continue;
        }
      }
      const candidate: IdentityCandidate = {
        id: this.book.nextId(),
        mac: board.mac,
        lot: this.settings.lot,
        serial: serial?.text,
        seq: serial?.seq,
        credential: bundle && files ? { id: bundle.id, files } : undefined,
        reused: false,
      };
      let prepared: T;
      try {
        prepared = await prepare(candidate);
      } catch (err) {
        if (bundle && err instanceof NvsInputError) {
          this.setAside.set(bundle.id, err.message);
          continue;
        }
        throw err;
      }
      await this.write({
        op: 'reserve',
        id: candidate.id,
        at: this.stamp(),
        mac: board.mac,
        slot: board.slot,
        attempt: board.attempt,
        lot: candidate.lot,
        serial: candidate.serial,
        seq: candidate.seq,
        credential: candidate.credential?.id,
        files: files ? Object.fromEntries(files.map((f) => [f.member, f.sha256])) : undefined,
      });
      if (serial?.seq !== undefined) this.serials?.take(serial.seq);
      return { identity: { ...candidate, slot: board.slot, attempt: board.attempt }, prepared };
    }
  }

  /** The bundle as issued: its files must be the ones the journal recorded, or the board would get others. */
  private async readIssuedBundle(a: Allocation): Promise<{ id: string; files: CredentialFile[] }> {
    const id = a.credential as string;
    const gone = () =>
      new IdentityError(
        'bundle-changed',
        `MAC ${a.mac} holds bundle ${id}, which is no longer in ${this.pool?.source ?? 'the pool'}; put it back so the board gets the same credentials`,
      );
    let bundle = this.pool?.find(id);
    let files: CredentialFile[] | undefined;
    if (bundle) files = await this.pool!.read(bundle).catch(() => undefined);
    if (!files) {
      await this.pool?.refresh();
      bundle = this.pool?.find(id);
      if (!bundle) throw gone();
      files = await this.pool!.read(bundle);
    }
    for (const f of files) {
      const expected = a.files?.[f.member];
      if (expected !== undefined && expected !== f.sha256) {
        throw new IdentityError(
          'bundle-changed',
          `bundle ${id}: ${f.member} changed since MAC ${a.mac} got it (SHA-256 ${expected.slice(0, 12)}… then, ${f.sha256.slice(0, 12)}… now); restore the original file`,
        );
      }
    }
    return { id, files };
  }

  private pickBundle(): CredentialBundle | undefined {
    return this.pool?.bundles.find((b) => this.isFree(b));
  }

  private freeCount(): number | undefined {
    const counts: number[] = [];
    const serials = this.serials?.counts();
    if (serials) counts.push(serials.free);
    if (this.pool) counts.push(this.pool.bundles.filter((b) => this.isFree(b)).length);
    return counts.length ? Math.min(...counts) : undefined;
  }

  private totalCount(): number | undefined {
    const counts: number[] = [];
    const serials = this.serials?.counts();
    if (serials) counts.push(serials.total);
    if (this.pool) counts.push(this.pool.bundles.length);
    return counts.length ? Math.min(...counts) : undefined;
  }

  private isFree(bundle: CredentialBundle): boolean {
    return !this.book.credentialHolder(bundle.id) && !this.setAside.has(bundle.id);
  }

  private emptyWhat(): string {
    const serials = this.serials?.counts();
    return serials && serials.free === 0 && this.serials ? this.serials.describe() : 'credential bundle';
  }

  private emptyError(): IdentityError {
    const setAside = this.setAside.size
      ? ` (${this.setAside.size} bundle${this.setAside.size === 1 ? '' : 's'} set aside, e.g. ${[...this.setAside][0].join(': ')})`
      : '';
    return new IdentityError(
      'pool-empty',
      `identity pool empty: no ${this.emptyWhat()} left for a new board${setAside}; refill ${this.pool?.source ?? 'the pool'} and start again`,
    );
  }

  private async write(record: JournalRecord): Promise<void> {
    if (!this.journal) throw new Error('this allocator only inspects the journal');
    await this.journal.append(record);
    this.book.apply(record);
    if (record.op === 'release') this.serials?.rebuild(); // its serial number is free again
  }

  private stamp(): string {
    return this.now().toISOString();
  }

  private serialized<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
