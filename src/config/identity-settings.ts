/** The profile's identity section, resolved for src/identity: absolute paths, the lot decided. */
import path from 'node:path';
import type { CentralIdentitySettings, IdentitySettings } from '../identity/index.ts';
import type { StationProfile } from './profile.ts';

export interface IdentityContext {
  /** The station's lot (config.yaml), used when the profile names none. */
  stationLot: string;
  /** Where var/ lives for the default journal (the working folder, like the ledger's default). */
  workDir?: string;
}

/** Where a profile's identities come from: its own files (local), or a pool in the central database. */
export type IdentitySource =
  { kind: 'local'; settings: IdentitySettings } | { kind: 'central'; settings: CentralIdentitySettings };

export function identitySourceOf(
  profile: StationProfile,
  context: IdentityContext,
): IdentitySource | undefined {
  const section = profile.identity;
  if (!section) return undefined;
  if (!section.central) {
    const settings = identitySettingsOf(profile, context);
    return settings && { kind: 'local', settings };
  }
  const { pool, block, leaseBelow } = section.central;
  return {
    kind: 'central',
    settings: {
      partition: section.partition,
      ...(section.serial && { serial: { namespace: section.serial.namespace, key: section.serial.key } }),
      ...(section.credentials && { credentials: { files: section.credentials.files } }),
      set: section.set,
      pool,
      block,
      leaseBelow,
      journal: journalOf(profile, context),
      lot: section.lot ?? context.stationLot,
      lowWater: section.lowWater,
    },
  };
}

function journalOf(profile: StationProfile, context: IdentityContext): string {
  const section = profile.identity!;
  const safeName = profile.name.replace(/[^A-Za-z0-9._-]/g, '_');
  return section.journal
    ? path.resolve(profile.baseDir, section.journal)
    : path.resolve(context.workDir ?? process.cwd(), 'var/identity', `${safeName}.jsonl`);
}

/** The settings of a profile whose identities come from its own files (undefined for a central pool). */
export function identitySettingsOf(
  profile: StationProfile,
  context: IdentityContext,
): IdentitySettings | undefined {
  const section = profile.identity;
  if (!section || section.central) return undefined;
  const fromProfile = (p: string) => path.resolve(profile.baseDir, p);
  const credentials = section.credentials && {
    folder: section.credentials.folder === undefined ? undefined : fromProfile(section.credentials.folder),
    manifest:
      section.credentials.manifest === undefined ? undefined : fromProfile(section.credentials.manifest),
    files: section.credentials.files,
  };
  return {
    partition: section.partition,
    journal: journalOf(profile, context),
    lot: section.lot ?? context.stationLot,
    // The section's checks gave a local pool its pattern.
    serial: section.serial && {
      ...section.serial,
      pattern: section.serial.pattern!,
      prefix: section.serial.prefix ?? '',
      start: section.serial.start ?? 1,
    },
    credentials,
    set: section.set,
    lowWater: section.lowWater,
  };
}
