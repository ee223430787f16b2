/**
 * The allocation journal's lines. One line per step, appended and fsynced before the step counts:
 * reserve (an identity bound to a MAC, slot and attempt) → reattach (the same board again) → writing (its
 * region is about to reach the flash) → commit (PASS) | failed (kept by the MAC) | release (back to the pool).
 */
import { z } from 'zod';

const base = {
  /** Allocation id, unique in the journal. */
  id: z.string().min(1),
  at: z.string(),
};

export const JournalRecordSchema = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('reserve'),
    ...base,
    mac: z.string(),
    slot: z.string(),
    attempt: z.number().int().positive(),
    lot: z.string(),
    serial: z.string().optional(),
    seq: z.number().int().nonnegative().optional(),
    credential: z.string().optional(),
    /** Member → SHA-256 of the file as issued; a changed file is never re-issued silently. */
    files: z.record(z.string(), z.string()).optional(),
    /** The identity's id in a central pool (a station drawing from PostgreSQL). */
    poolId: z.string().optional(),
  }),
  z.strictObject({
    op: z.literal('reattach'),
    ...base,
    slot: z.string(),
    attempt: z.number().int().positive(),
  }),
  z.strictObject({ op: z.literal('writing'), ...base, attempt: z.number().int().positive() }),
  z.strictObject({ op: z.literal('commit'), ...base, attempt: z.number().int().positive() }),
  z.strictObject({
    op: z.literal('failed'),
    ...base,
    attempt: z.number().int().positive(),
    reason: z.string(),
  }),
  z.strictObject({
    op: z.literal('release'),
    ...base,
    attempt: z.number().int().nonnegative(),
    reason: z.string(),
  }),
  // A station drawing from a central pool also keeps, before anything else happens, the block it leased…
  z.strictObject({
    op: z.literal('lease'),
    ...base,
    pool: z.string(),
    identities: z.array(
      z.strictObject({
        id: z.string().min(1),
        seq: z.number().int(),
        serial: z.string().optional(),
        credential: z.string().optional(),
        /** Member → SHA-256; the files themselves are cached beside the journal. */
        files: z.record(z.string(), z.string()).optional(),
      }),
    ),
  }),
  // …identities of its block an operator returned to the pool (never used here)…
  z.strictObject({ op: z.literal('unlease'), ...base, ids: z.array(z.string()) }),
  // …and each step the database has acknowledged for an allocation (id), so nothing is reported twice or lost.
  z.strictObject({
    op: z.literal('reported'),
    ...base,
    step: z.enum(['written', 'burned', 'committed', 'refused']),
    note: z.string().optional(),
  }),
]);

/** Steps of a central pool's own bookkeeping, not of an allocation. */
export const CENTRAL_OPS = ['lease', 'unlease', 'reported'] as const;

export type JournalRecord = z.infer<typeof JournalRecordSchema>;
export type ReserveRecord = Extract<JournalRecord, { op: 'reserve' }>;
export type LeaseRecord = Extract<JournalRecord, { op: 'lease' }>;
export type CentralRecord = Extract<JournalRecord, { op: (typeof CENTRAL_OPS)[number] }>;
export type AllocationRecord = Exclude<JournalRecord, CentralRecord>;
