/**
 * A board's identity region: the release's own mfg_nvs (decoded once) with the fixed values, the board's
 * serial and its credential files set, generated at the release's size. Everything else in the release's
 * partition keeps its place and its bytes.
 */
import { createHash } from 'node:crypto';
import { decodePartition, generatePartition, stringBytes, withValue } from '../nvs/index.ts';
import type { NvsPartition, NvsValue } from '../nvs/index.ts';
import type { IdentityCandidate } from './allocator.ts';
import { IdentityError } from './errors.ts';
import type { RegionSettings } from './settings.ts';

export interface RegionBase {
  partition: NvsPartition;
  size: number;
}

/** What a board got, for its ledger record: each per-board value with the SHA-256 of the bytes stored. */
export interface BoardValues {
  serial?: string;
  credential?: string;
  values: {
    namespace: string;
    key: string;
    type: 'string' | 'blob';
    size: number;
    sha256: string;
    /** The bytes stored (for the read-back after boot; not journaled). */
    bytes: Uint8Array;
  }[];
}

export interface BoardRegion {
  values: BoardValues;
  regionBytes: Uint8Array;
}

/** Decodes the release's partition; a base that does not verify is refused (its copy would carry the damage). */
export function regionBase(bytes: Uint8Array, label: string): RegionBase {
  const decoded = decodePartition(bytes);
  if (decoded.problems.length > 0) {
    throw new IdentityError(
      'setup',
      `${label}: the release's partition does not verify (${decoded.problems[0]}); use the release's own file`,
    );
  }
  return { partition: decoded.partition, size: bytes.length };
}

/** Throws NvsInputError when the values do not fit (the allocator then sets the bundle aside). */
export function buildBoardRegion(
  base: RegionBase,
  settings: RegionSettings,
  identity: IdentityCandidate,
): BoardRegion {
  let partition = base.partition;
  for (const fixed of settings.set) partition = withValue(partition, fixed.namespace, fixed.key, fixed.value);
  const values: BoardValues['values'] = [];
  const put = (namespace: string, key: string, value: NvsValue & { type: 'string' | 'blob' }) => {
    partition = withValue(partition, namespace, key, value);
    const stored = value.type === 'string' ? stringBytes(value.value) : value.value;
    values.push({
      namespace,
      key,
      type: value.type,
      size: stored.length,
      sha256: createHash('sha256').update(stored).digest('hex'),
      bytes: stored,
    });
  };
  if (settings.serial && identity.serial !== undefined)
    put(settings.serial.namespace, settings.serial.key, { type: 'string', value: identity.serial });
  const credentials = settings.credentials;
  if (credentials && identity.credential) {
    for (const file of identity.credential.files) {
      const target = credentials.files[file.member];
      const value: NvsValue & { type: 'string' | 'blob' } =
        target.type === 'string'
          ? { type: 'string', value: Buffer.from(file.bytes).toString('utf8') }
          : { type: 'blob', value: file.bytes };
      put(target.namespace, target.key, value);
    }
  }
  return {
    values: { serial: identity.serial, credential: identity.credential?.id, values },
    regionBytes: generatePartition(partition, base.size),
  };
}
