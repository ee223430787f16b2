/**
 * The identity pool as the operator sees it: a warning once when it runs low (profile `identity.lowWater`),
 * an error that stops the station taking boards when it is empty or a board could not get an identity.
 * Each level is said once when it is reached, not after every board.
 */
import type { IdentityIssuer, PoolLevel } from '../identity/index.ts';

export type PoolNotice = (level: 'info' | 'warn' | 'error', message: string) => void;

export class IdentityPoolWatch {
  private level: PoolLevel = 'ok';

  constructor(
    private readonly issuer: Pick<IdentityIssuer, 'status'>,
    private readonly notify: PoolNotice,
  ) {}

  /** Reads the pool's level and says so when it changed. */
  check(): void {
    const s = this.issuer.status();
    if (s.level === this.level) return;
    const was = this.level;
    this.level = s.level;
    if (s.level === 'empty') this.notify('error', s.message ?? 'identity pool empty');
    else if (s.level === 'low')
      this.notify('warn', s.message ?? `identity pool low: ${s.free ?? '?'} left (lowWater ${s.lowWater})`);
    else if (was !== 'ok') this.notify('info', `identity pool refilled: ${s.free ?? 'no limit'} free`);
  }

  /** After each recorded attempt; `unavailable` is the message of a board that got no identity. */
  afterAttempt(unavailable?: string): void {
    if (unavailable !== undefined) {
      this.level = 'empty';
      this.notify('error', unavailable);
      return;
    }
    this.check();
  }
}
