/**
 * Failure codes in words for the operator's screen. `short` fits a slot tile (≤ 24 chars); `advice` says what
 * to do. Kept in the UI because wording and length are a display concern; the codes themselves live in
 * src/ledger/failure-codes.ts.
 */
import type { FailureCode } from '../ledger/failure-codes.ts';

export const FAILURE_WORDS: Readonly<Record<FailureCode, { short: string; advice: string }>> = {
  'no-sync': { short: 'no reply from chip', advice: 'board not in download mode or bad cable; re-seat it' },
  'wrong-boot-mode': {
    short: 'wrong boot mode',
    advice: 'strapping pins hold the chip out of download mode',
  },
  'wrong-chip': { short: 'wrong chip type', advice: 'this board is not the chip the profile expects' },
  'flash-too-small': {
    short: 'flash too small',
    advice: 'the flash chip is smaller than the image set needs',
  },
  'chip-revision': {
    short: 'chip revision refused',
    advice: 'the firmware does not support this chip revision; set aside',
  },
  'security-enabled': {
    short: 'security enabled',
    advice: 'secure boot or flash encryption is on; set aside',
  },
  'write-error': { short: 'write failed', advice: 'the chip rejected a flash write; retest, then set aside' },
  'verify-mismatch': {
    short: 'verify mismatch',
    advice: 'flash content differs from the image (MD5); retest',
  },
  timeout: { short: 'timed out', advice: 'the board stopped answering; check the cable and retest' },
  disconnected: { short: 'board unplugged', advice: 'the board was removed or lost USB while busy; retest' },
  'link-error': {
    short: 'link garbled/unreachable',
    advice: 'bytes lost on the way; check cable, hub or serial server',
  },
  'boot-check-failed': {
    short: 'boot check failed',
    advice: 'firmware did not start cleanly after reset; retest',
  },
  'at-no-channel': { short: 'AT port unusable', advice: 'flashed, not tested: check the AT cable' },
  'at-no-ready': { short: 'AT: no ready', advice: 'firmware silent on the AT port; check wiring, retest' },
  'at-slow-ready': { short: 'AT: ready too late', advice: 'the board boots too slowly; retest once' },
  'at-no-answer': { short: 'AT: no answer', advice: 'AT commands unanswered; check wiring, retest' },
  'at-command-error': { short: 'AT: command refused', advice: 'not the recipe firmware; set aside' },
  'at-version-mismatch': { short: 'AT: wrong firmware', advice: 'another firmware version runs; set aside' },
  'at-module-mismatch': { short: 'AT: wrong module name', advice: 'factory parameters differ; set aside' },
  'at-mac-mismatch': { short: 'AT: other board', advice: 'the AT port is wired to another board' },
  'at-mfg-mismatch': { short: 'AT: mfg data bad', advice: 'manufacturing data unreadable; retest' },
  'at-no-ap': { short: 'AT: no Wi-Fi AP', advice: 'test access point not found; radio?' },
  'identity-unavailable': { short: 'no identity left', advice: 'refill the identity pool, then retest' },
  internal: { short: 'station error', advice: 'an internal station error; tell the line engineer' },
};
