/** The fixed list of failure codes: every FAIL carries exactly one, with a sentence an operator understands. */
export const FAILURE_CODES = [
  'no-sync',
  'wrong-boot-mode',
  'wrong-chip',
  'flash-too-small',
  'security-enabled',
  'write-error',
  'verify-mismatch',
  'timeout',
  'disconnected',
  'boot-check-failed',
  'internal',
] as const;

export type FailureCode = (typeof FAILURE_CODES)[number];

export function isFailureCode(s: string): s is FailureCode {
  return (FAILURE_CODES as readonly string[]).includes(s);
}
