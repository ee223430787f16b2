/**
 * The seam between the station and wherever identities come from. The local allocator (a journal file and
 * a folder or manifest of bundles) implements it today; a central one (PostgreSQL, identities leased with
 * FOR UPDATE SKIP LOCKED) can implement the same calls later without the pipeline noticing.
 *
 * The contract every implementation keeps:
 * - reserve is idempotent by MAC: a board that holds an identity (reserved, written or committed) gets
 *   the same one again; only a board with none takes a fresh one;
 * - every step is durable before its promise resolves;
 * - an identity that may have reached a board (markWriting done) is never issued to another MAC;
 * - release gives an identity back only if it never reached the board; otherwise the MAC keeps it.
 */
import type { CredentialFile } from './credential-pool.ts';

/** One attempt on one board, as the pipeline knows it after identify. */
export interface BoardRef {
  /** Upper-case colon form, e.g. 24:0A:C4:12:34:56. */
  mac: string;
  slot: string;
  attempt: number;
}

/** Names one reservation for one attempt; calls for an older attempt of the board are refused. */
export interface AllocationRef {
  id: string;
  attempt: number;
}

/** What an allocator offers for a board, before it is made durable. */
export interface IdentityCandidate {
  id: string;
  mac: string;
  lot: string;
  serial?: string;
  seq?: number;
  credential?: { id: string; files: CredentialFile[] };
  /** True when this MAC held this identity before (a retest). */
  reused: boolean;
}

export type IssuedIdentity = IdentityCandidate & AllocationRef & { slot: string };

/**
 * Turns a candidate into what the board needs (its region bytes). Runs before the reservation is made
 * durable; when it throws an NvsInputError (a bundle that does not fit the region) a fresh candidate's bundle
 * is set aside and the next one tried.
 */
export type PrepareCandidate<T> = (candidate: IdentityCandidate) => T | Promise<T>;

export type PoolLevel = 'ok' | 'low' | 'empty';

/** What the station acts on before it takes a board. */
export interface PoolStatus {
  level: PoolLevel;
  /** Boards that can still get a fresh identity; undefined when nothing limits it (a MAC-only serial). */
  free?: number;
  lowWater: number;
  /** For the screen when the level is low or empty. */
  message?: string;
}

export interface PoolReport {
  /** Identities the pool holds in all (undefined when unbounded). */
  total?: number;
  free?: number;
  /** Bound to a board whose region was not written yet. */
  reserved: number;
  /** Written to a board that has not passed: kept by that MAC, never issued again. */
  burned: number;
  /** On a board that passed. */
  committed: number;
  /** Times an identity went back to the pool (failed before its region was written). */
  releases: number;
  burnedList: { id: string; mac: string; serial?: string; credential?: string; since: string }[];
  /** Bundles set aside, and why. */
  problems: string[];
}

export interface IdentityAllocator {
  reserve<T>(
    board: BoardRef,
    prepare: PrepareCandidate<T>,
  ): Promise<{ identity: IssuedIdentity; prepared: T }>;
  /** Call right before the first byte of the region goes to the board. */
  markWriting(ref: AllocationRef): Promise<void>;
  /** The board passed with this identity. */
  commit(ref: AllocationRef): Promise<void>;
  /** The attempt ended without PASS: back to the pool if never written ('released'), else kept by the MAC. */
  release(ref: AllocationRef, reason: string): Promise<'released' | 'kept'>;
  status(): PoolStatus;
  report(): PoolReport;
  close(): Promise<void>;
}
