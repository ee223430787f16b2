/**
 * One attempt's per-board identity (profile `identity:`), as the pipeline uses it: reserved once the MAC is
 * known, its own mfg_nvs bytes in place of the release's region, marked writing right before that region's
 * first byte, committed on PASS before the ledger says PASS, released on any other end (back to the pool when
 * nothing reached the board, kept by its MAC otherwise). src/identity keeps the journal; this file keeps the
 * order of the calls and turns what goes wrong into a station failure.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { erasedSectorPlan } from '../esp/erased-sectors.ts';
import { IdentityError } from '../identity/index.ts';
import type { BoardIdentity as IssuedBoardIdentity, IdentityIssuer, PoolStatus } from '../identity/index.ts';
import { DEFAULT_STEP_TIMEOUT_MS, type BoardTestPlan } from '../board-test/plan.ts';
import type { BoardIdentityRecord, BoardTestRecord } from '../ledger/record.ts';
import type { ImageRegion } from './board-link.ts';
import { StationFailure } from './failure.ts';

/** What the station shares between attempts: the issuer and where its region goes in the image set. */
export interface StationIdentity {
  issuer: Pick<IdentityIssuer, 'reserve' | 'markWriting' | 'commit' | 'release' | 'status'>;
  /** The image-set region label that carries the identity (profile `identity.partition`, e.g. mfg_nvs). */
  partition: string;
  /** Every key the identity writes (serial, credential files, fixed values): not the release's any more. */
  keys?: readonly { namespace: string; key: string }[];
}

/**
 * The post-flash test of a station with identities: AT+SYSMFG reads each board's own values back (after the
 * recipe's), and the recipe's expected values for keys the identity replaces are dropped (the release's
 * would be wrong for every board).
 */
export function withIdentityReadBack(plan: BoardTestPlan, identity: StationIdentity): BoardTestPlan {
  const replaced = new Set((identity.keys ?? []).map((k) => `${k.namespace}/${k.key}`));
  const values = (plan.mfgRead?.values ?? []).filter((v) => !replaced.has(`${v.namespace}/${v.key}`));
  return {
    ...plan,
    mfgRead: { timeoutMs: plan.mfgRead?.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS['mfg-read'], values },
  };
}

/** A value as AT+SYSMFG prints it, for the post-flash read-back. */
export interface IdentityReadBack {
  namespace: string;
  key: string;
  type: 'string' | 'binary';
  value: string;
}

export class BoardIdentityStep {
  private issued: IssuedBoardIdentity | undefined;
  private region: ImageRegion | undefined;
  private writing = false;
  private outcome: BoardIdentityRecord['outcome'] = 'reserved';

  constructor(private readonly station: StationIdentity) {}

  /** Reserves (or, for a board that holds one, finds again) this board's identity; durable when it resolves. */
  async reserve(mac: string, slot: string, attempt: number): Promise<void> {
    try {
      this.issued = await this.station.issuer.reserve(mac, slot, attempt);
    } catch (err) {
      if (err instanceof IdentityError) {
        throw new StationFailure(
          'identity-unavailable',
          `No identity for this board, so nothing was written to it: ${err.message}`,
        );
      }
      throw err;
    }
  }

  /** The image set with this board's identity region in place of the release's (same offset and size). */
  regions(regions: readonly ImageRegion[]): readonly ImageRegion[] {
    const issued = this.issued;
    if (!issued) return regions;
    const i = regions.findIndex((r) => r.label === this.station.partition);
    if (i < 0) {
      throw new StationFailure(
        'internal',
        `The image set has no region '${this.station.partition}' for the board's identity; check the profile's identity.partition.`,
      );
    }
    const base = regions[i];
    this.region ??= boardRegion(base, issued.regionBytes);
    return regions.map((r, j) => (j === i ? this.region! : r));
  }

  /** Call before writing `region`: the first byte of the identity region makes the identity the board's. */
  async beforeWrite(region: ImageRegion): Promise<void> {
    if (!this.issued || this.writing || region !== this.region) return;
    await this.station.issuer.markWriting(this.issued.reservation);
    this.writing = true;
  }

  /** The board passed: durable before the ledger record says PASS. */
  async commit(): Promise<void> {
    if (!this.issued) return;
    try {
      await this.station.issuer.commit(this.issued.reservation);
    } catch (err) {
      throw new StationFailure(
        'internal',
        `The board passed but its identity could not be committed (${(err as Error).message}); it keeps its identity by its MAC. Fix the identity journal and retest the board.`,
      );
    }
    this.outcome = 'committed';
  }

  /** The attempt ended without PASS. Never throws: a journal that cannot be written is reported by the caller. */
  async release(reason: string): Promise<string | undefined> {
    if (!this.issued || this.outcome === 'committed') return undefined;
    try {
      this.outcome = await this.station.issuer.release(this.issued.reservation, reason);
      return undefined;
    } catch (err) {
      // The journal keeps it reserved (or writing): the next start releases or keeps it as the journal says.
      return `the identity could not be released (${(err as Error).message}); the journal settles it when the station starts again`;
    }
  }

  /** Values the post-flash test reads back with AT+SYSMFG (strings as text, blobs as their bytes). */
  readBack(): IdentityReadBack[] {
    const issued = this.issued;
    if (!issued) return [];
    return issued.values.values.map((v) => ({
      namespace: v.namespace,
      key: v.key,
      type: v.type === 'string' ? 'string' : 'binary',
      // NVS stores a string with its terminating NUL; AT+SYSMFG prints the text without it.
      value: Buffer.from(v.type === 'string' ? v.bytes.subarray(0, -1) : v.bytes).toString('latin1'),
    }));
  }

  /** The ledger record's identity section; undefined when none was reserved. */
  record(test?: BoardTestRecord): BoardIdentityRecord | undefined {
    const issued = this.issued;
    if (!issued) return undefined;
    const readBack = test && atReadBack(test, issued.values.values);
    const { serial, credential, values } = issued.values;
    return {
      ...(serial !== undefined && { serial }),
      ...(credential !== undefined && { credential }),
      values: values.map((v) => ({
        namespace: v.namespace,
        key: v.key,
        type: v.type,
        size: v.size,
        sha256: v.sha256,
      })),
      reused: issued.reused,
      outcome: this.outcome,
      ...(readBack && { readBack }),
    };
  }

  status(): PoolStatus {
    return this.station.issuer.status();
  }
}

/** A region like the release's, carrying the board's bytes: compressed and hashed once per board. */
function boardRegion(base: ImageRegion, bytes: Uint8Array): ImageRegion {
  if (bytes.length !== base.data.length) {
    throw new StationFailure(
      'internal',
      `The board's ${base.label} is ${bytes.length} bytes but the image set's region is ${base.data.length}; the identity must keep the release's size.`,
    );
  }
  const deflate = (d: Uint8Array) => deflateSync(d, { level: 9 });
  const erasedPlan = erasedSectorPlan({ offset: base.offset, data: bytes }, deflate);
  return {
    offset: base.offset,
    label: base.label,
    data: bytes,
    compressed: deflate(bytes),
    // Same offset and size as the release's region, so the same sectors are shared (or not).
    ...(base.rereadAfterAll !== undefined && { rereadAfterAll: base.rereadAfterAll }),
    ...(erasedPlan && { erasedPlan }),
    md5: createHash('md5').update(bytes).digest('hex'),
  };
}

/** Whether the AT test read every per-board value back as written; undefined when it did not get to them. */
function atReadBack(
  test: BoardTestRecord,
  values: readonly { namespace: string; key: string }[],
): 'match' | 'mismatch' | undefined {
  let read = 0;
  for (const v of values) {
    const command = `AT+SYSMFG=1,"${v.namespace}","${v.key}"`;
    const step = test.transcript.find((s) => s.step === 'mfg-read' && s.command === command);
    if (!step) continue;
    if (step.result !== 'ok') return 'mismatch';
    read++;
  }
  return read === values.length && values.length > 0 ? 'match' : undefined;
}
