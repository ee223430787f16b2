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
]);

export type JournalRecord = z.infer<typeof JournalRecordSchema>;
export type ReserveRecord = Extract<JournalRecord, { op: 'reserve' }>;
