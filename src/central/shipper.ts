/**
 * Ships a station's ledger to the central database, beside the station and never in its way: the station
 * appends to its ledger as always (the append never waits for the database) and nudges the shipper, which
 * reads the outbox, inserts each batch with ON CONFLICT DO NOTHING, and only then moves the durable position.
 * While the database is away the backlog simply stays in the ledger; the shipper retries with exponential
 * backoff and catches up in order when it is back. Link state and lag are reported through onStatus.
 */
import type pg from 'pg';
import { closeClient, connectCentral, describeDatabaseError, PasswordSourceError } from './connection.ts';
import type { CentralTarget } from './connection.ts';
import { describeAddress } from './database-url.ts';
import { migrate, SchemaTooNewError } from './migrations.ts';
import type { Outbox, PendingBatch } from './outbox.ts';
import { insertRecords } from './record-rows.ts';
import { recordsShippedBy, upsertStation } from './station-rows.ts';
import type { StationIdentity } from './station-rows.ts';

export type LinkState = 'connecting' | 'online' | 'offline' | 'stopped';

export interface CentralStatus {
  link: LinkState;
  /** Ledger lines written and not yet in the database. */
  lagRecords: number;
  /** Age of the oldest unshipped record (0 when none). */
  lagSeconds: number;
  /** Rows this shipper added to the database since it started. */
  shipped: number;
  /** The database, as a URL without secrets. */
  database: string;
  /** Why the link is offline, or what just happened. */
  message?: string;
}

export interface ShipperOptions {
  target: CentralTarget;
  outbox: Outbox;
  station: StationIdentity;
  onStatus?: (status: CentralStatus) => void;
  /** Things worth a line in the station log: unshippable ledger lines, replaced files, re-shipping. */
  onNotice?: (level: 'info' | 'warn', message: string) => void;
  /** Look for new ledger lines this often even without a nudge (default 1 s). */
  pollMs?: number;
  /** Station heartbeat interval (default 10 s). */
  heartbeatMs?: number;
  /** Backoff after a failure: first wait and ceiling (default 0.5 s → 30 s, doubling, with jitter). */
  retryFirstMs?: number;
  retryMaxMs?: number;
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
  now?: () => number;
}

/** A failure reading the local ledger or writing the position: not the database's fault. */
class LocalError extends Error {
  override name = 'LocalError';
}

export class CentralShipper {
  private readonly o: ShipperOptions;
  private readonly now: () => number;
  private client: pg.Client | undefined;
  private state: CentralStatus;
  private stopping = false;
  private loopDone: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private nudged = false;
  private lastHeartbeat = 0;
  private lastStatusAt = 0;
  private trailingStatus: NodeJS.Timeout | undefined;
  private readonly noticedProblems = new Set<string>();
  /** Drain waiters: resolved by the first pass that starts after them and finds nothing left to ship. */
  private drainWaiters: Array<{ since: number; resolve: () => void }> = [];
  private passCounter = 0;
  private readonly startedAt: Date;

  constructor(options: ShipperOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
    this.startedAt = new Date(this.now());
    this.state = {
      link: 'connecting',
      lagRecords: 0,
      lagSeconds: 0,
      shipped: 0,
      database: describeAddress(options.target.address),
    };
  }

  get status(): CentralStatus {
    return { ...this.state };
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** A record was appended: look now instead of at the next poll. Never blocks. */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  /**
   * Waits until every ledger line written before this call is in the database, or `timeoutMs` passed.
   * True when drained.
   */
  drain(timeoutMs: number): Promise<boolean> {
    this.start();
    return new Promise((resolve) => {
      const waiter = { since: this.passCounter, resolve: () => finish(true) };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (drained: boolean) => {
        clearTimeout(timer);
        this.drainWaiters = this.drainWaiters.filter((w) => w !== waiter);
        resolve(drained);
      };
      this.drainWaiters.push(waiter);
      this.nudge();
    });
  }

  /** Stops shipping (the backlog stays in the ledger) and tells the database this station stopped. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    const done = this.loopDone ?? Promise.resolve();
    // A query on a stalled link ends at the query timeout; do not wait that long to stop.
    await Promise.race([done, delay(3_000)]);
    const client = this.client;
    this.client = undefined;
    if (client) {
      this.setStatus({ link: 'stopped' }, true);
      await Promise.race([upsertStation(client, this.heartbeat()).catch(() => undefined), delay(2_000)]);
      await closeClient(client);
    } else this.setStatus({ link: 'stopped' }, true);
    clearTimeout(this.trailingStatus);
    this.trailingStatus = undefined;
  }

  private async loop(): Promise<void> {
    let wait = this.o.retryFirstMs ?? 500;
    while (!this.stopping) {
      try {
        const pass = ++this.passCounter;
        if (!this.client) await this.connect();
        const batch = await this.local(() => this.o.outbox.nextBatch());
        if (batch) {
          await this.ship(batch);
          wait = this.o.retryFirstMs ?? 500;
          continue;
        }
        await this.updateBacklog(true);
        for (const w of this.drainWaiters.filter((d) => d.since < pass)) w.resolve();
        if (this.now() - this.lastHeartbeat >= (this.o.heartbeatMs ?? 10_000)) await this.sendHeartbeat();
        wait = this.o.retryFirstMs ?? 500;
        await this.sleep(this.o.pollMs ?? 1_000);
      } catch (err) {
        if (this.stopping) break;
        if (err instanceof LocalError) {
          this.o.onNotice?.('warn', `central: ${err.message}`);
        } else {
          const client = this.client;
          this.client = undefined;
          void closeClient(client);
          const message =
            err instanceof SchemaTooNewError ? err.message : describeDatabaseError(err, this.o.target);
          this.setStatus({ link: 'offline', message }, true);
          // A schema too new or a missing password does not fix itself in a second.
          if (err instanceof SchemaTooNewError || err instanceof PasswordSourceError) {
            wait = this.o.retryMaxMs ?? 30_000;
          }
        }
        await this.updateBacklog(false).catch(() => undefined);
        // Appends do not cut the backoff short: a busy line must not hammer a database that is away.
        await this.sleep(wait * (0.75 + Math.random() * 0.5), false);
        wait = Math.min(wait * 2, this.o.retryMaxMs ?? 30_000);
      }
    }
  }

  private async connect(): Promise<void> {
    if (this.state.link !== 'offline') this.setStatus({ link: 'connecting' });
    const client = await connectCentral(this.o.target, {
      applicationName: `esp-station ${this.o.station.name}`,
      ...(this.o.connectTimeoutMs !== undefined && { connectTimeoutMs: this.o.connectTimeoutMs }),
      ...(this.o.queryTimeoutMs !== undefined && { queryTimeoutMs: this.o.queryTimeoutMs }),
    });
    try {
      const applied = await migrate(client, `esp-station ${this.o.station.name}`);
      if (applied.length > 0) {
        this.o.onNotice?.(
          'info',
          `central: database schema migrated to version ${applied[applied.length - 1].version}`,
        );
      }
      await this.checkPositionAgainstDatabase(client);
    } catch (err) {
      await closeClient(client);
      throw err;
    }
    this.client = client;
    this.setStatus({ link: 'online', message: undefined }, true);
    await this.sendHeartbeat();
  }

  /**
   * The position says what was shipped; if the database holds fewer of this station's rows (it was restored
   * from an older backup, or emptied), ship the whole ledger again: ON CONFLICT keeps that free of duplicates.
   */
  private async checkPositionAgainstDatabase(client: pg.Client): Promise<void> {
    const shipped = this.o.outbox.shippedRecords();
    let expected = 0;
    for (const n of shipped.values()) expected += n;
    if (expected === 0) return;
    const found = await recordsShippedBy(client, this.o.station.name);
    if (found >= expected) return;
    this.o.onNotice?.(
      'warn',
      `central: the database holds ${found} of the ${expected} records this station shipped (restored from an ` +
        'older backup?); shipping the whole ledger again, without duplicates',
    );
    for (const name of shipped.keys()) await this.local(() => this.o.outbox.restartFile(name));
  }

  private async ship(batch: PendingBatch): Promise<void> {
    for (const p of batch.problems) {
      const key = `${p.file}:${p.line}`;
      if (this.noticedProblems.has(key)) continue;
      this.noticedProblems.add(key);
      this.o.onNotice?.('warn', `central: ${p.file}:${p.line}: ${p.kind} line not shipped: ${p.message}`);
    }
    const client = this.client as pg.Client;
    const added = await insertRecords(client, batch.records);
    await this.local(() => this.o.outbox.commit(batch));
    this.state.shipped += added;
    await this.updateBacklog(false);
    if (this.now() - this.lastHeartbeat >= 2_000) await this.sendHeartbeat();
  }

  private heartbeat() {
    return {
      ...this.o.station,
      link: this.state.link,
      lagRecords: this.state.lagRecords,
      lagSeconds: this.state.lagSeconds,
      startedAt: this.startedAt,
      heartbeatSeconds: Math.max(1, Math.round((this.o.heartbeatMs ?? 10_000) / 1000)),
    };
  }

  private async sendHeartbeat(): Promise<void> {
    if (!this.client) return;
    await upsertStation(this.client, this.heartbeat());
    this.lastHeartbeat = this.now();
  }

  private async updateBacklog(force: boolean): Promise<void> {
    const backlog = await this.local(() => this.o.outbox.backlog());
    const lagSeconds =
      backlog.records > 0 && backlog.oldestEndMs !== undefined
        ? Math.max(0, Math.round((this.now() - backlog.oldestEndMs) / 1000))
        : 0;
    this.setStatus({ lagRecords: backlog.records, lagSeconds }, force);
  }

  /** Publishes link changes at once, lag-only changes at most once a second (or when forced and changed). */
  private setStatus(change: Partial<CentralStatus>, force = false): void {
    const before = this.state;
    const next = { ...before, ...change };
    if ('message' in change && change.message === undefined) delete next.message;
    this.state = next;
    const linkChanged = next.link !== before.link || next.message !== before.message;
    const lagChanged = next.lagRecords !== before.lagRecords || next.lagSeconds !== before.lagSeconds;
    if (!linkChanged && !lagChanged) return;
    const t = this.now();
    if (!linkChanged && !force && t - this.lastStatusAt < 1_000) {
      // Throttled, not dropped: the latest lag goes out when the second is over.
      this.trailingStatus ??= setTimeout(() => this.publishStatus(), 1_000 - (t - this.lastStatusAt));
      return;
    }
    this.publishStatus();
  }

  private publishStatus(): void {
    clearTimeout(this.trailingStatus);
    this.trailingStatus = undefined;
    this.lastStatusAt = this.now();
    this.o.onStatus?.({ ...this.state });
  }

  private async local<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new LocalError(
        `the ledger or its outbox position cannot be read or written: ${(err as Error).message}`,
      );
    }
  }

  private sleep(ms: number, wakeOnNudge = true): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (wakeOnNudge && this.nudged) {
      this.nudged = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      const stopOnly = () => {
        if (this.stopping) done();
      };
      this.wake = wakeOnNudge
        ? () => {
            this.nudged = false;
            this.wake = undefined;
            done();
          }
        : stopOnly;
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
