/**
 * Every allocation the journal knows, rebuilt by replaying it: which MAC holds which serial and bundle,
 * and in what state. Pure bookkeeping; the allocator decides, the journal makes it durable.
 */
import { IdentityError } from './errors.ts';
import type { JournalRecord, ReserveRecord } from './journal-records.ts';

export type AllocationState = 'reserved' | 'writing' | 'committed' | 'released';

export interface Allocation {
  id: string;
  mac: string;
  slot: string;
  attempt: number;
  lot: string;
  serial?: string;
  seq?: number;
  credential?: string;
  files?: Record<string, string>;
  /** The identity's id in a central pool. */
  poolId?: string;
  state: AllocationState;
  /** Passed at least once: stays committed through later retests. */
  committed: boolean;
  reservedAt: string;
  updatedAt: string;
}

export class AllocationBook {
  private readonly byId = new Map<string, Allocation>();
  /** MAC → its allocation while it is not released. */
  private readonly live = new Map<string, Allocation>();
  private readonly liveSerials = new Map<string, Allocation>();
  private readonly liveCredentials = new Map<string, Allocation>();
  private reserveCount = 0;
  releases = 0;

  apply(record: JournalRecord, where = 'journal'): void {
    if (record.op === 'lease' || record.op === 'unlease' || record.op === 'reported') return; // a central pool's
    if (record.op === 'reserve') {
      this.addReservation(record, where);
      return;
    }
    const a = this.byId.get(record.id);
    if (!a) throw new IdentityError('setup', `${where}: ${record.op} for unknown allocation ${record.id}`);
    a.updatedAt = record.at;
    switch (record.op) {
      case 'reattach':
        a.slot = record.slot;
        a.attempt = record.attempt;
        return;
      case 'writing':
        if (a.state !== 'committed') a.state = 'writing';
        return;
      case 'commit':
        a.state = 'committed';
        a.committed = true;
        return;
      case 'failed':
        return;
      case 'release':
        a.state = 'released';
        this.unbind(a);
        this.releases++;
        return;
    }
  }

  private addReservation(r: ReserveRecord, where: string): void {
    if (this.byId.has(r.id))
      throw new IdentityError('setup', `${where}: allocation ${r.id} is reserved twice`);
    const clash =
      this.live.get(r.mac) ??
      (r.serial ? this.liveSerials.get(r.serial) : undefined) ??
      (r.credential ? this.liveCredentials.get(r.credential) : undefined);
    if (clash)
      throw new IdentityError(
        'setup',
        `${where}: allocation ${r.id} overlaps ${clash.id} (MAC ${clash.mac}); the journal was not written by one station`,
      );
    const a: Allocation = {
      id: r.id,
      mac: r.mac,
      slot: r.slot,
      attempt: r.attempt,
      lot: r.lot,
      serial: r.serial,
      seq: r.seq,
      credential: r.credential,
      files: r.files,
      ...(r.poolId !== undefined && { poolId: r.poolId }),
      state: 'reserved',
      committed: false,
      reservedAt: r.at,
      updatedAt: r.at,
    };
    this.byId.set(a.id, a);
    this.live.set(a.mac, a);
    if (a.serial) this.liveSerials.set(a.serial, a);
    if (a.credential) this.liveCredentials.set(a.credential, a);
    this.reserveCount++;
  }

  private unbind(a: Allocation): void {
    this.live.delete(a.mac);
    if (a.serial && this.liveSerials.get(a.serial) === a) this.liveSerials.delete(a.serial);
    if (a.credential && this.liveCredentials.get(a.credential) === a)
      this.liveCredentials.delete(a.credential);
  }

  get(id: string): Allocation | undefined {
    return this.byId.get(id);
  }

  heldBy(mac: string): Allocation | undefined {
    return this.live.get(mac);
  }

  serialHolder(serial: string): Allocation | undefined {
    return this.liveSerials.get(serial);
  }

  credentialHolder(id: string): Allocation | undefined {
    return this.liveCredentials.get(id);
  }

  /** Every allocation the journal names, released ones too, in reservation order. */
  all(): Allocation[] {
    return [...this.byId.values()];
  }

  /** Allocations not released, in reservation order. */
  liveAllocations(): Allocation[] {
    return [...this.live.values()];
  }

  nextId(): string {
    return `A${String(this.reserveCount + 1).padStart(6, '0')}`;
  }
}
