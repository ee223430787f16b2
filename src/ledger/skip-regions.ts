/**
 * A report never looks at a record's regions, yet they are two thirds of every line and most of JSON.parse's
 * work. parseSkippingRegions validates the regions array with one anchored regular expression — only the exact
 * form the writer produces (schema key order, no whitespace), and never laxer than RegionRecordSchema — then
 * parses the rest of the line with `"regions":[]` in its place. Anything unusual returns undefined and the
 * caller parses the whole line the ordinary way, so the result never differs from a full parse except that
 * `regions` is empty — and a record with a retried region is always parsed in full, regions included.
 */
import { isCertainlyLedgerRecord } from './record-check.ts';
import type { LedgerRecord } from './record.ts';

const KEY = '"regions":[';
const COUNT = '(?:0|[1-9]\\d{0,14})'; // non-negative safe integer
const AMOUNT = '(?:0|[1-9]\\d{0,20})(?:\\.\\d{1,20})?(?:[eE][+-]?\\d{1,2})?'; // finite, non-negative
const TEXT = '"(?:[^"\\\\\\u0000-\\u001f]|\\\\(?:["\\\\/bfnrt]|u[0-9a-fA-F]{4}))*"';
const MD5 = '"[0-9a-f]{32}"';
const REGION =
  `\\{"offset":${COUNT},"label":${TEXT},"size":${COUNT},"md5Expected":${MD5}(?:,"md5Chip":${MD5})?` +
  `,"seconds":${AMOUNT},"retries":${COUNT}(?:,"skipped":(?:true|false))?\\}`;
const RETRIED = /"retries":[1-9]/;
/** Sticky: matches only at lastIndex, the `[` after the key. */
const REGIONS = new RegExp(`\\[(?:${REGION}(?:,${REGION})*)?\\]`, 'y');

export function parseSkippingRegions(line: string): LedgerRecord | undefined {
  const at = line.indexOf(KEY);
  if (at <= 0) return undefined;
  const before = line.charCodeAt(at - 1);
  // The key must follow `{` or `,`: then its quotes are real, not the inside of a string.
  if (before !== 0x7b && before !== 0x2c) return undefined;
  if (line.indexOf(KEY, at + KEY.length) !== -1) return undefined;
  const open = at + KEY.length - 1;
  REGIONS.lastIndex = open;
  const m = REGIONS.exec(line);
  if (!m) return undefined;
  // A region that was retried is worth reading (reports count passes after a retry); those lines are rare.
  if (RETRIED.test(m[0])) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(`${line.slice(0, open)}[]${line.slice(open + m[0].length)}`);
  } catch {
    return undefined;
  }
  // A later duplicate "regions" key would win in JSON.parse: then this was not the array that counts.
  if (!isCertainlyLedgerRecord(value) || value.regions.length !== 0) return undefined;
  return value;
}
