/**
 * The calls the per-board pipeline makes, in this order:
 *
 *   const id = await issuer.reserve(mac, slot, attempt);   // after identify; durable; region bytes ready
 *   ...write the other regions...
 *   await issuer.markWriting(id.reservation);             // right before the first byte of id.regionBytes
 *   ...write id.regionBytes at the identity partition's offset, MD5-verify...
 *   await issuer.commit(id.reservation);                  // on PASS, before the ledger record says PASS
 *   // or, on any failure or unplug:
 *   await issuer.release(id.reservation, reason);        // 'released' (never written) or 'kept' (by the MAC)
 *
 * Before taking a board the station reads issuer.status(): 'empty' means refuse boards (no board is flashed
 * without its identity), 'low' means warn.
 */
import type { AllocationRef, IdentityAllocator, PoolReport, PoolStatus } from './allocator.ts';
import { buildBoardRegion, regionBase } from './board-region.ts';
import type { BoardValues, RegionBase } from './board-region.ts';
import { LocalAllocator } from './local-allocator.ts';
import type { IdentitySettings, RegionSettings } from './settings.ts';

export interface BoardIdentity {
  /** Pass it back to markWriting, commit and release. */
  reservation: AllocationRef & { mac: string };
  values: BoardValues;
  /** The whole identity partition for this board, the size of the release's. */
  regionBytes: Uint8Array;
  /** True when this MAC had this identity before (a retest gets the same serial and credentials). */
  reused: boolean;
}

export class IdentityIssuer {
  private constructor(
    private readonly allocator: IdentityAllocator,
    private readonly settings: RegionSettings,
    private readonly base: RegionBase,
  ) {}

  /**
   * The station's own pool and journal. `releaseRegion` is the release's file for `settings.partition`
   * (ESP-AT: customized_partitions/mfg_nvs.bin), the base every board's region starts from.
   */
  static async open(settings: IdentitySettings, releaseRegion: Uint8Array): Promise<IdentityIssuer> {
    const base = regionBase(releaseRegion, settings.partition);
    return new IdentityIssuer(await LocalAllocator.open({ settings }), settings, base);
  }

  /** Any allocator (e.g. a central pool) behind the same calls. */
  static withAllocator(
    allocator: IdentityAllocator,
    settings: RegionSettings,
    releaseRegion: Uint8Array,
  ): IdentityIssuer {
    return new IdentityIssuer(allocator, settings, regionBase(releaseRegion, settings.partition));
  }

  async reserve(mac: string, slot: string, attempt: number): Promise<BoardIdentity> {
    const board = { mac: normalizeMac(mac), slot, attempt };
    const { identity, prepared } = await this.allocator.reserve(board, (candidate) =>
      buildBoardRegion(this.base, this.settings, candidate),
    );
    return {
      reservation: { id: identity.id, attempt: identity.attempt, mac: identity.mac },
      values: prepared.values,
      regionBytes: prepared.regionBytes,
      reused: identity.reused,
    };
  }

  markWriting(reservation: AllocationRef): Promise<void> {
    return this.allocator.markWriting(reservation);
  }

  commit(reservation: AllocationRef): Promise<void> {
    return this.allocator.commit(reservation);
  }

  release(reservation: AllocationRef, reason: string): Promise<'released' | 'kept'> {
    return this.allocator.release(reservation, reason);
  }

  status(): PoolStatus {
    return this.allocator.status();
  }

  report(): PoolReport {
    return this.allocator.report();
  }

  close(): Promise<void> {
    return this.allocator.close();
  }
}

/** Upper-case colon form; accepts 240ac4123456, 24-0a-c4-12-34-56, 24:0a:c4:12:34:56. */
export function normalizeMac(mac: string): string {
  const hex = mac.replace(/[:-]/g, '').toUpperCase();
  if (!/^[0-9A-F]{12}$/.test(hex)) throw new TypeError(`'${mac}' is not a MAC address`);
  return hex.match(/../g)!.join(':');
}
