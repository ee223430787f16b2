/**
 * What can stop a board from getting its identity, as values the station can act on: `code` says which
 * case it is, the message says what to do.
 */
export type IdentityErrorCode =
  /** No free serial or credential bundle left: stop taking boards until the pool is refilled. */
  | 'pool-empty'
  /** The pool, the journal or the release's mfg_nvs is not usable as configured. */
  | 'setup'
  /** A bundle's files changed or vanished after a board got them. */
  | 'bundle-changed'
  /** A call for an attempt that is no longer the board's current one, or for an unknown reservation. */
  | 'stale';

export class IdentityError extends Error {
  readonly code: IdentityErrorCode;
  constructor(code: IdentityErrorCode, message: string) {
    super(message);
    this.name = 'IdentityError';
    this.code = code;
  }
}
