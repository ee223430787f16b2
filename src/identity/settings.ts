/**
 * The profile's `identity:` section as this room uses it: paths resolved, patterns checked (the schema in
 * src/config validates the file and reports file:line:column; this is the shape it hands over).
 */
import type { NvsValue } from '../nvs/index.ts';
import type { SerialPattern } from './serial-pattern.ts';

export interface NvsTarget {
  namespace: string;
  key: string;
}

export interface SerialSettings extends NvsTarget {
  pattern: SerialPattern;
  /** `{prefix}` in the pattern. */
  prefix: string;
  /** First `{seq}` (default 1) and the last one the pool may issue (default: the largest the width holds). */
  start: number;
  end?: number;
}

export interface CredentialFileTarget extends NvsTarget {
  /** blob (default) as ESP-AT stores certificates, or string for a text value. */
  type: 'blob' | 'string';
}

export interface CredentialSettings {
  /** A folder with one sub-folder per bundle (the sub-folder's name is the bundle's id)… */
  folder?: string;
  /** …or a CSV manifest `id,<member>,<member>…` whose paths are relative to the manifest. */
  manifest?: string;
  /** Bundle member (a file name in the bundle folder, or a manifest column) → where it goes. */
  files: Record<string, CredentialFileTarget>;
}

export interface FixedValue extends NvsTarget {
  value: NvsValue;
}

export interface IdentitySettings {
  /** The image-set region that carries the identity (ESP-AT: mfg_nvs). */
  partition: string;
  /** The allocation journal (JSONL, append + fsync); absolute. */
  journal: string;
  /** `{lot}` in the serial pattern; the station's lot when the profile names none. */
  lot: string;
  serial?: SerialSettings;
  credentials?: CredentialSettings;
  /** Written into every board's region as given. */
  set: FixedValue[];
  /** Warn when fewer boards than this can still get an identity. */
  lowWater: number;
}

/** What a board's region is built from, wherever its identities come from (a local pool or a central one). */
export interface RegionSettings {
  partition: string;
  /** Where the serial goes. */
  serial?: NvsTarget;
  /** Where each bundle member goes. */
  credentials?: { files: Record<string, CredentialFileTarget> };
  set: FixedValue[];
}

/**
 * The profile's `identity:` section with `central:` set: identities (serials, bundles and their files) are
 * leased in blocks from a pool in the factory's PostgreSQL; the journal keeps the block and every step.
 */
export interface CentralIdentitySettings extends RegionSettings {
  /** The pool's name in the database (`identity pool load --pool NAME`). */
  pool: string;
  /** Identities leased at a time. */
  block: number;
  /** Lease another block when fewer unused ones than this are left. */
  leaseBelow: number;
  journal: string;
  lot: string;
  lowWater: number;
}
