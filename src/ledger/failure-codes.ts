/**
 * The fixed list of failure codes: every FAIL carries exactly one, with a sentence an operator understands.
 * Part of the ledger's record schema (a record with another code is refused), so it lives with the schema;
 * the station and the screen import it from here.
 */
export const FAILURE_CODES = [
  'no-sync',
  'wrong-boot-mode',
  'wrong-chip',
  'flash-too-small',
  'chip-revision',
  'security-enabled',
  'write-error',
  'verify-mismatch',
  'timeout',
  'disconnected',
  'link-error',
  'boot-check-failed',
  // The post-flash test on the AT port (src/board-test), one code per way it goes wrong.
  'at-no-channel',
  'at-no-ready',
  'at-slow-ready',
  'at-no-answer',
  'at-command-error',
  'at-version-mismatch',
  'at-module-mismatch',
  'at-mac-mismatch',
  'at-mfg-mismatch',
  'at-no-ap',
  // The profile's identity section: no serial or credential could be reserved, so nothing was written.
  'identity-unavailable',
  'internal',
] as const;

export type FailureCode = (typeof FAILURE_CODES)[number];
