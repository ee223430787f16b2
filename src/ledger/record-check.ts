/**
 * A fast structural check of ledger records for the reader's hot path: zod's full parse costs about a third of
 * a report's time, and almost every line in a ledger is valid. This check only ever says "certainly valid";
 * anything it is unsure of goes to LedgerRecordSchema, which stays the definition (and gives the message).
 * It is at least as strict as the schema: a test compares the two on mutated records, and another fails when
 * the schema gains or loses a field, so this file is updated with it.
 */
import { FAILURE_CODES } from './failure-codes.ts';
import { TEST_STEP_RESULTS, type LedgerRecord } from './record.ts';

const REQUIRED_STRINGS = [
  'id',
  'start',
  'end',
  'station',
  'slot',
  'portPath',
  'port',
  'operator',
  'lot',
  'profile',
  'recipe',
];
const OPTIONAL_STRINGS = ['usbSerial', 'vidPid', 'mac', 'chip', 'message'];
const OPTIONAL_INTEGERS = ['revision', 'flashId', 'flashSize', 'baud'];
const OPTIONAL_BOOLEANS = ['secureBoot', 'flashEncryption', 'demoFirmware'];
const OTHER_KEYS = ['v', 'regions', 'phases', 'durationMs', 'result', 'code', 'test', 'identity', 'attempt'];

/** Every key the record schema knows, for the test that keeps this file and the schema in step. */
export const CHECKED_RECORD_KEYS: readonly string[] = [
  ...REQUIRED_STRINGS,
  ...OPTIONAL_STRINGS,
  ...OPTIONAL_INTEGERS,
  ...OPTIONAL_BOOLEANS,
  ...OTHER_KEYS,
];
export const CHECKED_REGION_KEYS: readonly string[] = [
  'offset',
  'label',
  'size',
  'md5Expected',
  'md5Chip',
  'seconds',
  'retries',
  'skipped',
];

export const CHECKED_TEST_KEYS: readonly string[] = [
  'result',
  'port',
  'baud',
  'failedStep',
  'note',
  'transcript',
];
export const CHECKED_TEST_STEP_KEYS: readonly string[] = ['step', 'command', 'lines', 'ms', 'result'];

const RECORD_KEYS = new Set(CHECKED_RECORD_KEYS);
const TEST_KEYS = new Set(CHECKED_TEST_KEYS);
const TEST_STEP_KEYS = new Set(CHECKED_TEST_STEP_KEYS);
const STEP_RESULTS = new Set<string>(TEST_STEP_RESULTS);
const REGION_KEYS = new Set(CHECKED_REGION_KEYS);
const CODES = new Set<string>(FAILURE_CODES);
const MD5 = /^[0-9a-f]{32}$/;

type Obj = Record<string, unknown>;

const isObject = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
const isAmount = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;

function onlyKeys(o: Obj, allowed: Set<string>): boolean {
  for (const k in o) if (!allowed.has(k)) return false;
  return true;
}

function isRegion(r: unknown): boolean {
  return (
    isObject(r) &&
    onlyKeys(r, REGION_KEYS) &&
    isCount(r.offset) &&
    typeof r.label === 'string' &&
    isCount(r.size) &&
    typeof r.md5Expected === 'string' &&
    MD5.test(r.md5Expected) &&
    (r.md5Chip === undefined || (typeof r.md5Chip === 'string' && MD5.test(r.md5Chip))) &&
    isAmount(r.seconds) &&
    isCount(r.retries) &&
    (r.skipped === undefined || typeof r.skipped === 'boolean')
  );
}

const isOptionalString = (x: unknown) => x === undefined || typeof x === 'string';

function isTestStep(e: unknown): boolean {
  return (
    isObject(e) &&
    onlyKeys(e, TEST_STEP_KEYS) &&
    typeof e.step === 'string' &&
    e.step !== '' &&
    isOptionalString(e.command) &&
    Array.isArray(e.lines) &&
    e.lines.every((l) => typeof l === 'string') &&
    isAmount(e.ms) &&
    typeof e.result === 'string' &&
    STEP_RESULTS.has(e.result)
  );
}

function isTest(t: unknown): boolean {
  return (
    isObject(t) &&
    onlyKeys(t, TEST_KEYS) &&
    (t.result === 'pass' || t.result === 'fail' || t.result === 'skipped') &&
    isOptionalString(t.port) &&
    (t.baud === undefined || (Number.isSafeInteger(t.baud) && (t.baud as number) > 0)) &&
    isOptionalString(t.failedStep) &&
    isOptionalString(t.note) &&
    Array.isArray(t.transcript) &&
    t.transcript.every(isTestStep)
  );
}

export const CHECKED_IDENTITY_KEYS: readonly string[] = [
  'serial',
  'credential',
  'values',
  'reused',
  'outcome',
  'readBack',
];
export const CHECKED_IDENTITY_VALUE_KEYS: readonly string[] = ['namespace', 'key', 'type', 'size', 'sha256'];
const IDENTITY_KEYS = new Set(CHECKED_IDENTITY_KEYS);
const IDENTITY_VALUE_KEYS = new Set(CHECKED_IDENTITY_VALUE_KEYS);
const IDENTITY_OUTCOMES = new Set(['committed', 'kept', 'released', 'reserved']);
const SHA256 = /^[0-9a-f]{64}$/;

function isIdentityValue(v: unknown): boolean {
  return (
    isObject(v) &&
    onlyKeys(v, IDENTITY_VALUE_KEYS) &&
    typeof v.namespace === 'string' &&
    typeof v.key === 'string' &&
    (v.type === 'string' || v.type === 'blob') &&
    isCount(v.size) &&
    typeof v.sha256 === 'string' &&
    SHA256.test(v.sha256)
  );
}

function isIdentity(i: unknown): boolean {
  return (
    isObject(i) &&
    onlyKeys(i, IDENTITY_KEYS) &&
    isOptionalString(i.serial) &&
    isOptionalString(i.credential) &&
    Array.isArray(i.values) &&
    i.values.every(isIdentityValue) &&
    typeof i.reused === 'boolean' &&
    typeof i.outcome === 'string' &&
    IDENTITY_OUTCOMES.has(i.outcome) &&
    (i.readBack === undefined || i.readBack === 'match' || i.readBack === 'mismatch')
  );
}

/** True only when `value` is certainly a valid LedgerRecord; false means "ask the schema". */
export function isCertainlyLedgerRecord(value: unknown): value is LedgerRecord {
  if (!isObject(value) || value.v !== 1 || !onlyKeys(value, RECORD_KEYS)) return false;
  for (const k of REQUIRED_STRINGS) if (typeof value[k] !== 'string') return false;
  for (const k of OPTIONAL_STRINGS) if (value[k] !== undefined && typeof value[k] !== 'string') return false;
  for (const k of OPTIONAL_INTEGERS)
    if (value[k] !== undefined && !Number.isSafeInteger(value[k])) return false;
  for (const k of OPTIONAL_BOOLEANS)
    if (value[k] !== undefined && typeof value[k] !== 'boolean') return false;
  if (value.result !== 'pass' && value.result !== 'fail') return false;
  if (value.code !== undefined && !(typeof value.code === 'string' && CODES.has(value.code))) return false;
  if (!(Number.isSafeInteger(value.attempt) && (value.attempt as number) > 0)) return false;
  if (!isAmount(value.durationMs)) return false;
  const phases = value.phases;
  if (!isObject(phases)) return false;
  for (const k in phases) if (!isAmount(phases[k])) return false;
  if (!Array.isArray(value.regions)) return false;
  for (const r of value.regions) if (!isRegion(r)) return false;
  if (value.test !== undefined && !isTest(value.test)) return false;
  if (value.identity !== undefined && !isIdentity(value.identity)) return false;
  return true;
}
