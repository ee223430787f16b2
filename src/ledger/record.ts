/**
 * One ledger record = one attempt on one board. Written by the station (src/station), read by reports.
 * The zod schema is the single definition; the TypeScript type is inferred from it.
 */
import { z } from 'zod';
import { FAILURE_CODES } from './failure-codes.ts';

export const LEDGER_SCHEMA_VERSION = 1;

export const RegionRecordSchema = z.strictObject({
  offset: z.number().int().nonnegative(),
  label: z.string(),
  size: z.number().int().nonnegative(),
  md5Expected: z.string().regex(/^[0-9a-f]{32}$/),
  /** MD5 the chip computed over the region; absent if the region was never verified. */
  md5Chip: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .optional(),
  seconds: z.number().nonnegative(),
  retries: z.number().int().nonnegative(),
  /** True when the region was skipped because the chip already held it (on-chip MD5 matched). */
  skipped: z.boolean().optional(),
});

/** How one step of the post-flash test ended: answered right, answered wrong, no answer in time, ERROR. */
export const TEST_STEP_RESULTS = ['ok', 'fail', 'timeout', 'error'] as const;

/** One step of the post-flash test on the AT port (src/board-test): the command, what came back, how long. */
export const TestStepRecordSchema = z.strictObject({
  step: z.string().min(1),
  command: z.string().optional(),
  lines: z.array(z.string()),
  ms: z.number().nonnegative(),
  result: z.enum(TEST_STEP_RESULTS),
});

export const BoardTestRecordSchema = z.strictObject({
  /** skipped: the profile has the test on, but the slot has no AT port (the UART0 boot check stood alone). */
  result: z.enum(['pass', 'fail', 'skipped']),
  /** The AT port (tty or socket URL) and its baud. */
  port: z.string().optional(),
  baud: z.number().int().positive().optional(),
  /** The step that failed; the record's code says how. */
  failedStep: z.string().optional(),
  /** Why the test was skipped. */
  note: z.string().optional(),
  transcript: z.array(TestStepRecordSchema),
});

/**
 * What a board got from the identity pool (profile `identity:`, src/identity) in this attempt, and where the
 * identity stands at the end of it: committed (PASS), kept by the board's MAC (its region was written),
 * released back to the pool (nothing reached the board) or still reserved (the journal could not be written).
 */
export const BoardIdentityRecordSchema = z.strictObject({
  serial: z.string().optional(),
  /** The credential bundle's id. */
  credential: z.string().optional(),
  /** Each per-board value with the SHA-256 of the bytes stored in the partition. */
  values: z.array(
    z.strictObject({
      namespace: z.string(),
      key: z.string(),
      type: z.enum(['string', 'blob']),
      size: z.number().int().nonnegative(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
  /** True when this MAC held this identity before (a retest gets the same one). */
  reused: z.boolean(),
  outcome: z.enum(['committed', 'kept', 'released', 'reserved']),
  /** The post-flash test's AT+SYSMFG read every per-board value back as written, or not (absent: not read). */
  readBack: z.enum(['match', 'mismatch']).optional(),
});

export const LedgerRecordSchema = z.strictObject({
  v: z.literal(LEDGER_SCHEMA_VERSION),
  /** Unique id of this attempt (station + time + slot). */
  id: z.string(),
  start: z.string(), // ISO 8601
  end: z.string(),
  station: z.string(),
  slot: z.string(), // slot name
  portPath: z.string(),
  port: z.string(), // tty or socket URL
  usbSerial: z.string().optional(),
  vidPid: z.string().optional(), // "10c4:ea60"
  operator: z.string(),
  lot: z.string(),
  /** Board serial number = base MAC, upper-case colon form; absent if the board never identified. */
  mac: z.string().optional(),
  chip: z.string().optional(),
  revision: z.number().int().optional(),
  flashId: z.number().int().optional(),
  flashSize: z.number().int().optional(),
  secureBoot: z.boolean().optional(),
  flashEncryption: z.boolean().optional(),
  profile: z.string(),
  recipe: z.string(), // recipe fingerprint (sha256 hex)
  demoFirmware: z.boolean().optional(),
  regions: z.array(RegionRecordSchema),
  baud: z.number().int().optional(),
  /** Phase name → milliseconds (connect, identify, check, stub, write, verify, reset, bootCheck). */
  phases: z.record(z.string(), z.number().nonnegative()),
  durationMs: z.number().nonnegative(),
  result: z.enum(['pass', 'fail']),
  code: z.enum(FAILURE_CODES).optional(),
  message: z.string().optional(),
  /** The post-flash test on the AT port, when the profile has one. */
  test: BoardTestRecordSchema.optional(),
  /** The board's own serial and credentials, when the profile has an identity section and one was reserved. */
  identity: BoardIdentityRecordSchema.optional(),
  /** 1 for the first attempt on this MAC (as known to this ledger), 2 for the first retest, ... */
  attempt: z.number().int().positive(),
});

export type LedgerRecord = z.infer<typeof LedgerRecordSchema>;
export type RegionRecord = z.infer<typeof RegionRecordSchema>;
export type BoardTestRecord = z.infer<typeof BoardTestRecordSchema>;
export type BoardIdentityRecord = z.infer<typeof BoardIdentityRecordSchema>;
export type TestStepRecord = z.infer<typeof TestStepRecordSchema>;
