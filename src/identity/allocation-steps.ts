/**
 * The allocation steps every allocator takes the same way over its AllocationBook (the contract in
 * allocator.ts): which journal record a step writes, when a call is stale, and the counts a pool report shows.
 * Where identities come from (a local pool, a central lease) is the allocator's own business.
 */
import type { Allocation, AllocationBook } from './allocation-book.ts';
import type { AllocationRef, IdentityCandidate, PoolReport } from './allocator.ts';
import type { CredentialFile } from './credential-pool.ts';
import { IdentityError } from './errors.ts';
import type { JournalRecord } from './journal-records.ts';

/** The allocation `ref` names, if that attempt still holds it; a stale call is refused. */
export function heldAllocation(book: AllocationBook, ref: AllocationRef): Allocation {
  const a = book.get(ref.id);
  if (!a || a.state === 'released')
    throw new IdentityError('stale', `allocation ${ref.id} is not held by any board`);
  if (a.attempt !== ref.attempt) {
    throw new IdentityError(
      'stale',
      `allocation ${ref.id} belongs to attempt ${a.attempt} of MAC ${a.mac} now, not attempt ${ref.attempt}`,
    );
  }
  return a;
}

/** The record of "the region's first byte goes to the board now". */
export function writingRecord(book: AllocationBook, ref: AllocationRef, at: string): JournalRecord {
  heldAllocation(book, ref);
  return { op: 'writing', id: ref.id, at, attempt: ref.attempt };
}

/** The record of a pass; a board cannot pass with an identity whose region never started to reach it. */
export function commitRecord(book: AllocationBook, ref: AllocationRef, at: string): JournalRecord {
  const a = heldAllocation(book, ref);
  if (a.state === 'reserved') {
    throw new IdentityError(
      'stale',
      `allocation ${a.id} (MAC ${a.mac}) was never written; a board cannot pass without its identity region`,
    );
  }
  return { op: 'commit', id: ref.id, at, attempt: ref.attempt };
}

/** Any other end: back to the pool if nothing was written, else kept by the MAC. */
export function releaseRecord(
  book: AllocationBook,
  ref: AllocationRef,
  reason: string,
  at: string,
): { record: JournalRecord; outcome: 'released' | 'kept' } {
  const a = heldAllocation(book, ref);
  return a.state === 'reserved'
    ? { record: { op: 'release', id: a.id, at, attempt: ref.attempt, reason }, outcome: 'released' }
    : { record: { op: 'failed', id: a.id, at, attempt: ref.attempt, reason }, outcome: 'kept' };
}

/** A board that holds `a` gets it again. */
export function reusedCandidate(
  a: Allocation,
  credential: { id: string; files: CredentialFile[] } | undefined,
): IdentityCandidate {
  return { id: a.id, mac: a.mac, lot: a.lot, serial: a.serial, seq: a.seq, credential, reused: true };
}

/** What the book says of its allocations, for a pool report. */
export function bookCounts(
  book: AllocationBook,
): Pick<PoolReport, 'reserved' | 'burned' | 'committed' | 'releases' | 'burnedList'> {
  const live = book.liveAllocations();
  const burned = live.filter((a) => a.state === 'writing' && !a.committed);
  return {
    reserved: live.filter((a) => a.state === 'reserved').length,
    burned: burned.length,
    committed: live.filter((a) => a.committed).length,
    releases: book.releases,
    burnedList: burned.map((a) => ({
      id: a.id,
      mac: a.mac,
      serial: a.serial,
      credential: a.credential,
      since: a.updatedAt,
    })),
  };
}
