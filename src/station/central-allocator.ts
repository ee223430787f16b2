/**
 * Identities from a pool in the factory's PostgreSQL (profile `identity.central`), behind the same seam as the
 * local pool. The station leases a block of identities (FOR UPDATE SKIP LOCKED: stations never get the same
 * one) and keeps that block, with the bundle files, and every step of every allocation in its own journal
 * first (fsynced before a promise resolves). The database hears of each step afterwards, in the background and
 * in journal order: `written` (the region started to reach a board: never returned to the pool), then
 * `committed` or `burned`. Offline, the station goes on issuing from its block and catches up when the link
 * returns; each acknowledged step is journaled (`reported`), so nothing is reported twice or forgotten.
 *
 * Idempotent by MAC: a board this station holds an identity for gets it again (from the journal); a board the
 * database says holds one (tested at another station) gets that one, when the database answers in time. While
 * offline that second check cannot be made: such a board gets a fresh identity, and the database refuses it
 * when the station catches up ('refused' in the journal, an error on stderr, docs/identity.md says more).
 *
 * In station/ because it joins two rooms of one floor (identity's journal and central's pool API).
 * One file although over 400 lines: every decision (reserve, lease, what is still to report) runs in one queue over one
 * replayed journal, and splitting that state across files would hide which step may run when.
 */
import type pg from 'pg';
import { closeClient, connectCentral, describeDatabaseError } from '../central/connection.ts';
import type { CentralTarget } from '../central/connection.ts';
import {
  identityFiles,
  identityOfBoard,
  leaseBlock,
  leasedTo,
  reportOutcome,
  reportWritten,
} from '../central/identity-pool.ts';
import type { LeasedIdentity } from '../central/identity-pool.ts';
import { migrate } from '../central/migrations.ts';
import {
  AllocationBook,
  bookCounts,
  commitRecord,
  IdentityError,
  JournalFile,
  releaseRecord,
  reusedCandidate,
  writingRecord,
} from '../identity/index.ts';
import type {
  Allocation,
  AllocationRef,
  BoardRef,
  CentralIdentitySettings,
  CredentialFile,
  IdentityAllocator,
  IdentityCandidate,
  IssuedIdentity,
  JournalRecord,
  LeaseRecord,
  PoolReport,
  PoolStatus,
  PrepareCandidate,
} from '../identity/index.ts';
import { NvsInputError } from '../nvs/index.ts';
import { BundleCache } from './central-bundle-cache.ts';

type Leased = LeaseRecord['identities'][number];
type Step = 'written' | 'burned' | 'committed' | 'refused';
export type PoolNoticeLevel = 'info' | 'warn' | 'error';

export interface CentralAllocatorOptions {
  settings: CentralIdentitySettings;
  /** This station's name (config.yaml `station`): the lease holder in the database. */
  station: string;
  target: CentralTarget;
  /** What the operator should hear (link lost, a refused step); never a secret. */
  onNotice?: (level: PoolNoticeLevel, message: string) => void;
  /** Backoff between attempts while the database is away (default 1 s doubling to 30 s). */
  retryMs?: { min: number; max: number };
  /** How long a board may wait for the database's answer about its MAC (default 3 s). */
  lookupTimeoutMs?: number;
  /** How long close() tries to report what is left (default 5 s); the rest goes on the next start. */
  drainMs?: number;
  now?: () => Date;
}

export class CentralAllocator implements IdentityAllocator {
  private readonly s: CentralIdentitySettings;
  private readonly book = new AllocationBook();
  private readonly cache: BundleCache;
  /** The block: identities leased to this station, by pool id, in seq order. */
  private readonly block = new Map<string, Leased>();
  /** Steps the database acknowledged, per allocation id. */
  private readonly reported = new Map<string, Set<Step>>();
  /** Allocations that ended without PASS after their region was written (burned unless a retest passes). */
  private readonly failed = new Set<string>();
  private readonly setAside = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  private client: pg.Client | undefined;
  private online = false;
  private closing = false;
  private wake: (() => void) | undefined;
  private pump: Promise<void> | undefined;
  /** When the database last had nothing more to lease (do not ask again at once). */
  private poolDryAt = 0;

  private constructor(
    private readonly options: CentralAllocatorOptions,
    private readonly journal: JournalFile,
  ) {
    this.s = options.settings;
    this.cache = BundleCache.besideJournal(options.settings.journal);
  }

  /**
   * Opens the journal (its lock), replays it, releases what a stopped station had reserved but never started
   * writing, then — if the database answers — settles the block with it and starts reporting in the background.
   * A database that does not answer is no reason not to start: the block in the journal is enough to flash.
   */
  static async open(options: CentralAllocatorOptions): Promise<CentralAllocator> {
    const { journal, records } = await JournalFile.open(options.settings.journal);
    const allocator = new CentralAllocator(options, journal);
    try {
      records.forEach((r, i) => allocator.applyRecord(r, `${options.settings.journal}:${i + 1}`));
      for (const a of allocator.book.liveAllocations()) {
        if (a.state === 'reserved')
          await allocator.write({
            op: 'release',
            id: a.id,
            at: allocator.stamp(),
            attempt: a.attempt,
            reason: 'the station stopped before writing it',
          });
      }
    } catch (err) {
      await journal.close();
      throw err;
    }
    await allocator.connect().catch((err) => allocator.linkLost(err));
    if (allocator.online) {
      // Settled and topped up before the first board: a station never starts with an empty block it could fill.
      await allocator
        .serialized(async () => {
          await allocator.settleWithDatabase();
          if (allocator.freeInBlock().length < allocator.s.leaseBelow) await allocator.leaseMore();
        })
        .catch((err) => allocator.linkLost(err));
    }
    allocator.pump = allocator.run();
    return allocator;
  }

  reserve<T>(
    board: BoardRef,
    prepare: PrepareCandidate<T>,
  ): Promise<{ identity: IssuedIdentity; prepared: T }> {
    // Asked outside the queue, so a slow answer holds up only this board.
    const known = this.book.heldBy(board.mac) ? Promise.resolve(undefined) : this.lookupBoard(board.mac);
    return known.then((held) =>
      this.serialized(async () => {
        const mine = this.book.heldBy(board.mac);
        if (mine) return this.reattach(mine, board, prepare);
        if (held) return this.adopt(held, board, prepare);
        return this.reserveFresh(board, prepare);
      }),
    );
  }

  markWriting(ref: AllocationRef): Promise<void> {
    return this.serialized(async () => {
      await this.write(writingRecord(this.book, ref, this.stamp()));
      this.nudge();
    });
  }

  commit(ref: AllocationRef): Promise<void> {
    return this.serialized(async () => {
      await this.write(commitRecord(this.book, ref, this.stamp()));
      this.nudge();
    });
  }

  release(ref: AllocationRef, reason: string): Promise<'released' | 'kept'> {
    return this.serialized(async () => {
      const { record, outcome } = releaseRecord(this.book, ref, reason, this.stamp());
      await this.write(record);
      this.nudge(); // a released identity may let the block want topping up again
      return outcome;
    });
  }

  status(): PoolStatus {
    const free = this.freeInBlock().length;
    const lowWater = this.s.lowWater;
    const link = this.online ? '' : ' (the database is not reachable)';
    if (free === 0) {
      return {
        level: 'empty',
        free,
        lowWater,
        message: `identity pool ${this.s.pool}: no identity left in this station's leased block${link}; ${this.online ? 'load more with esp-station identity pool load' : 'restore the link to the database'}`,
      };
    }
    if (free <= lowWater) {
      return {
        level: 'low',
        free,
        lowWater,
        message: `identity pool ${this.s.pool} low: ${free} board${free === 1 ? '' : 's'} left in this station's block${link} (warning at ${lowWater})`,
      };
    }
    return { level: 'ok', free, lowWater };
  }

  report(): PoolReport {
    return {
      total: this.block.size,
      free: this.freeInBlock().length,
      ...bookCounts(this.book),
      problems: [...this.setAside].map(([id, why]) => `identity ${id} set aside: ${why}`),
    };
  }

  /** Steps not yet acknowledged by the database (for tests and the closing message). */
  unreported(): number {
    return this.pendingSteps().length;
  }

  get isOnline(): boolean {
    return this.online;
  }

  /** Tries to report what is left for a bounded time, then closes; the journal keeps the rest for next time. */
  async close(): Promise<void> {
    const deadline = Date.now() + (this.options.drainMs ?? 5_000);
    while (this.pendingSteps().length > 0 && this.online && Date.now() < deadline) {
      this.nudge();
      await sleep(50);
    }
    this.closing = true;
    this.nudge();
    await Promise.race([this.pump, sleep(2_000)]);
    const client = this.client;
    this.client = undefined;
    await closeClient(client); // a query stuck on a stalled link ends here
    await this.pump;
    await this.queue.catch(() => undefined);
    await this.journal.close();
  }

  // --- reserving, inside the queue ---

  private async reattach<T>(a: Allocation, board: BoardRef, prepare: PrepareCandidate<T>) {
    const candidate = reusedCandidate(
      a,
      a.credential && a.poolId && a.files
        ? { id: a.credential, files: await this.cache.read(a.poolId, a.files) }
        : undefined,
    );
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

  /** The board holds an identity in the database already (another station, or a lost journal): that one. */
  private async adopt<T>(held: BoardHeld, board: BoardRef, prepare: PrepareCandidate<T>) {
    const entry = this.block.get(held.id);
    const files = entry?.files ? await this.cache.read(held.id, entry.files) : held.files;
    return this.reserveAs(
      { id: held.id, seq: held.seq, serial: held.serial, credential: held.credential },
      files,
      board,
      prepare,
      true,
    );
  }

  private async reserveFresh<T>(board: BoardRef, prepare: PrepareCandidate<T>) {
    let leasedNow = false;
    for (;;) {
      const entry = this.freeInBlock()[0];
      if (!entry) {
        if (!leasedNow && this.online) {
          leasedNow = true; // the block ran dry between two top-ups: lease now, the board waits for it
          await this.leaseMore().catch((err) => this.linkLost(err));
          continue;
        }
        throw new IdentityError('pool-empty', this.status().message ?? 'identity pool empty');
      }
      let files: CredentialFile[] | undefined;
      try {
        files = entry.files ? await this.cache.read(entry.id, entry.files) : undefined;
      } catch (err) {
        this.setAside.set(entry.id, (err as Error).message);
        continue;
      }
      try {
        return await this.reserveAs(entry, files, board, prepare, false);
      } catch (err) {
        if (err instanceof NvsInputError) {
          this.setAside.set(entry.id, err.message);
          continue;
        }
        throw err;
      }
    }
  }

  private async reserveAs<T>(
    entry: Leased,
    files: CredentialFile[] | undefined,
    board: BoardRef,
    prepare: PrepareCandidate<T>,
    reused: boolean,
  ) {
    const candidate: IdentityCandidate = {
      id: this.book.nextId(),
      mac: board.mac,
      lot: this.s.lot,
      serial: entry.serial,
      seq: entry.seq,
      credential: entry.credential !== undefined && files ? { id: entry.credential, files } : undefined,
      reused,
    };
    const prepared = await prepare(candidate);
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
      poolId: entry.id,
    });
    this.nudge();
    return { identity: { ...candidate, slot: board.slot, attempt: board.attempt }, prepared };
  }

  /** The database's word on a MAC, or nothing when it does not answer in time (then the block decides). */
  private async lookupBoard(mac: string): Promise<BoardHeld | undefined> {
    if (!this.online || !this.client) return undefined;
    const ask = () =>
      this.withClient(async (client): Promise<BoardHeld | undefined> => {
        const held = await identityOfBoard(client, this.s.pool, mac);
        if (!held) return undefined;
        const files = (await identityFiles(client, this.s.pool, [held.id])).get(held.id);
        return { ...held, ...(files && { files }) };
      });
    const timeout = this.options.lookupTimeoutMs ?? 3_000;
    try {
      return await Promise.race([
        ask(),
        sleep(timeout).then(() => {
          throw new Error(`no answer within ${timeout} ms`);
        }),
      ]);
    } catch (err) {
      this.notice(
        'warn',
        `identity pool ${this.s.pool}: could not ask the database which identity MAC ${mac} holds (${this.describe(err)}); it gets one from this station's block`,
      );
      return undefined;
    }
  }

  // --- the block ---

  /** Unused identities of the block, lowest seq first. */
  private freeInBlock(): Leased[] {
    const used = new Set<string>();
    for (const a of this.book.all()) if (a.poolId && a.state !== 'released') used.add(a.poolId);
    return [...this.block.values()]
      .filter((e) => !used.has(e.id) && !this.setAside.has(e.id))
      .sort((a, b) => a.seq - b.seq);
  }

  /** Pool ids this station ever let reach a board or holds now (never given back, never unleased). */
  private usedPoolIds(): Set<string> {
    const used = new Set<string>();
    for (const a of this.book.all()) if (a.poolId && a.state !== 'released') used.add(a.poolId);
    return used;
  }

  /** Leases a block from the database: its files to disk first, then the journal, then it is issued. */
  private async leaseMore(): Promise<void> {
    let leased: LeasedIdentity[];
    try {
      leased = await this.withClient((c) => leaseBlock(c, this.s.pool, this.options.station, this.s.block));
    } catch (err) {
      if ((err as { code?: string }).code !== '23503') throw err;
      // A foreign key on the pool's name: no such pool (yet). Not a link problem; ask again later.
      this.poolDryAt = Date.now();
      if (!this.saidNoPool)
        this.notice(
          'error',
          `identity pool ${this.s.pool} does not exist in the database; load it with esp-station identity pool load --pool ${this.s.pool}`,
        );
      this.saidNoPool = true;
      return;
    }
    if (leased.length < this.s.block) this.poolDryAt = Date.now();
    await this.takeIntoBlock(leased);
  }

  private async takeIntoBlock(leased: readonly LeasedIdentity[]): Promise<void> {
    if (leased.length === 0) return;
    const ids = leased.filter((l) => l.credential !== undefined).map((l) => l.id);
    const files = await this.withClient((c) => identityFiles(c, this.s.pool, ids));
    const identities: Leased[] = [];
    for (const l of leased) {
      const f = files.get(l.id);
      if (f) await this.cache.store(l.id, f);
      identities.push({
        id: l.id,
        seq: l.seq,
        ...(l.serial !== undefined && { serial: l.serial }),
        ...(l.credential !== undefined && { credential: l.credential }),
        ...(f && { files: Object.fromEntries(f.map((x) => [x.member, x.sha256])) }),
      });
    }
    await this.write({
      op: 'lease',
      id: `lease-${leased[0].leaseId}`,
      at: this.stamp(),
      pool: this.s.pool,
      identities,
    });
  }

  /**
   * At start, with the database: identities it leased to this station that the journal never heard of (a
   * crash between the two) join the block; unused ones an operator returned leave it.
   */
  private async settleWithDatabase(): Promise<void> {
    const inDatabase = await this.withClient((c) => leasedTo(c, this.s.pool, this.options.station));
    const unknown = inDatabase.filter((l) => !this.block.has(l.id));
    await this.takeIntoBlock(unknown);
    const leasedIds = new Set(inDatabase.map((l) => l.id));
    const used = this.usedPoolIds();
    const gone = [...this.block.keys()].filter((id) => !leasedIds.has(id) && !used.has(id));
    if (gone.length > 0) {
      await this.write({ op: 'unlease', id: `unlease-${Date.now()}`, at: this.stamp(), ids: gone });
      this.notice(
        'info',
        `identity pool ${this.s.pool}: ${gone.length} unused identit${gone.length === 1 ? 'y was' : 'ies were'} returned to the pool while this station was away; they are no longer issued here`,
      );
    }
  }

  // --- reporting to the database, in the background ---

  private pendingSteps(): { a: Allocation; step: Exclude<Step, 'refused'> }[] {
    const out: { a: Allocation; step: Exclude<Step, 'refused'> }[] = [];
    for (const a of this.book.all()) {
      if (!a.poolId || a.state === 'released' || a.state === 'reserved') continue;
      const done = this.reported.get(a.id) ?? new Set<Step>();
      if (done.has('refused')) continue;
      if (!done.has('written')) out.push({ a, step: 'written' });
      else if (a.committed && !done.has('committed')) out.push({ a, step: 'committed' });
      else if (!a.committed && this.failed.has(a.id) && !done.has('burned') && !done.has('committed'))
        out.push({ a, step: 'burned' });
    }
    return out;
  }

  private async run(): Promise<void> {
    const retry = this.options.retryMs ?? { min: 1_000, max: 30_000 };
    let backoff = retry.min;
    while (!this.closing) {
      const steps = this.pendingSteps();
      const wantsLease =
        this.freeInBlock().length < this.s.leaseBelow && Date.now() - this.poolDryAt > retry.max;
      if (steps.length === 0 && !wantsLease) {
        await this.idle(retry.max);
        continue;
      }
      try {
        if (!this.online) await this.connect();
        for (const { a, step } of steps) await this.reportStep(a, step);
        if (wantsLease) await this.serialized(() => this.leaseMore());
        backoff = retry.min;
      } catch (err) {
        this.linkLost(err);
        await this.idle(backoff);
        backoff = Math.min(backoff * 2, retry.max);
      }
    }
  }

  private async reportStep(a: Allocation, step: Exclude<Step, 'refused'>): Promise<void> {
    const where = { pool: this.s.pool, id: a.poolId as string, station: this.options.station };
    let refusal: string | undefined;
    if (step === 'written') {
      const r = await this.withClient((c) => reportWritten(c, where));
      if (r !== 'ok')
        refusal = `the database no longer has identity ${where.id} leased to this station (was its block returned with identity pool return?)`;
    } else {
      const r = await this.withClient((c) => reportOutcome(c, { ...where, mac: a.mac, outcome: step }));
      if (!r.ok) {
        refusal =
          r.reason === 'board-has-another'
            ? `MAC ${a.mac} already holds identity ${r.heldId} of the pool (from station ${r.heldBy ?? '?'}); this station wrote ${where.id} to it while offline. ${where.id} is spent (never issued again) and stays with the board in this station's journal; the database keeps ${r.heldId} for the board — decide whether to rework or scrap it`
            : r.reason === 'given-to-another-board'
              ? `identity ${where.id} is on MAC ${r.mac} in the database, not on ${a.mac}`
              : `identity ${where.id} is ${r.state} in the database, not leased to this station`;
      }
    }
    await this.serialized(() =>
      this.write({
        op: 'reported',
        id: a.id,
        at: this.stamp(),
        step: refusal ? 'refused' : step,
        ...(refusal !== undefined && { note: refusal }),
      }),
    );
    if (refusal) this.notice('error', `identity pool ${this.s.pool}: ${refusal}`);
  }

  private async connect(): Promise<void> {
    await closeClient(this.client);
    this.client = undefined;
    const client = await connectCentral(this.options.target, {
      applicationName: `esp-station ${this.options.station} identity`,
      connectTimeoutMs: 5_000,
      queryTimeoutMs: 15_000,
    });
    try {
      await migrate(client, `esp-station ${this.options.station}`);
    } catch (err) {
      await closeClient(client);
      throw err;
    }
    this.client = client;
    if (!this.online) {
      this.online = true;
      this.notice('info', `identity pool ${this.s.pool}: database reachable`);
    }
  }

  private linkLost(err: unknown): void {
    const was = this.online;
    this.online = false;
    const client = this.client;
    this.client = undefined;
    void closeClient(client);
    if (was || !this.warnedOffline) {
      this.warnedOffline = true;
      this.notice(
        'warn',
        `identity pool ${this.s.pool}: database not reachable (${this.describe(err)}); flashing goes on from this station's leased block (${this.freeInBlock().length} left), steps are reported when it is back`,
      );
    }
  }

  private warnedOffline = false;
  private saidNoPool = false;

  private describe(err: unknown): string {
    return describeDatabaseError(err, this.options.target);
  }

  private requireClient(): pg.Client {
    if (!this.client) throw new Error('not connected');
    return this.client;
  }

  /** One conversation at a time on the one client (a lease is a transaction; nothing may slip into it). */
  private withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const run = this.dbTurn.then(() => fn(this.requireClient()));
    this.dbTurn = run.catch(() => undefined);
    return run;
  }

  private dbTurn: Promise<unknown> = Promise.resolve();

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private nudge(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private notice(level: PoolNoticeLevel, message: string): void {
    this.options.onNotice?.(level, message);
  }

  // --- the journal ---

  private applyRecord(r: JournalRecord, where?: string): void {
    switch (r.op) {
      case 'lease':
        for (const i of r.identities) this.block.set(i.id, i);
        return;
      case 'unlease':
        for (const id of r.ids) this.block.delete(id);
        return;
      case 'reported': {
        const set = this.reported.get(r.id) ?? new Set<Step>();
        set.add(r.step);
        this.reported.set(r.id, set);
        return;
      }
      case 'failed':
        this.failed.add(r.id);
        break;
      case 'commit':
        this.failed.delete(r.id);
        break;
    }
    this.book.apply(r, where);
  }

  private async write(record: JournalRecord): Promise<void> {
    await this.journal.append(record);
    this.applyRecord(record);
  }

  private stamp(): string {
    return (this.options.now?.() ?? new Date()).toISOString();
  }

  private serialized<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

interface BoardHeld {
  id: string;
  seq: number;
  serial?: string;
  credential?: string;
  files?: CredentialFile[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
