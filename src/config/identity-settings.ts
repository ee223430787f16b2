/** The profile's identity section, resolved for src/identity: absolute paths, the lot decided. */
import path from 'node:path';
import type { IdentitySettings } from '../identity/index.ts';
import type { StationProfile } from './profile.ts';

export interface IdentityContext {
  /** The station's lot (config.yaml), used when the profile names none. */
  stationLot: string;
  /** Where var/ lives for the default journal (the working folder, like the ledger's default). */
  workDir?: string;
}

export function identitySettingsOf(
  profile: StationProfile,
  context: IdentityContext,
): IdentitySettings | undefined {
  const section = profile.identity;
  if (!section) return undefined;
  const fromProfile = (p: string) => path.resolve(profile.baseDir, p);
  const safeName = profile.name.replace(/[^A-Za-z0-9._-]/g, '_');
  const credentials = section.credentials && {
    folder: section.credentials.folder === undefined ? undefined : fromProfile(section.credentials.folder),
    manifest:
      section.credentials.manifest === undefined ? undefined : fromProfile(section.credentials.manifest),
    files: section.credentials.files,
  };
  return {
    partition: section.partition,
    journal: section.journal
      ? fromProfile(section.journal)
      : path.resolve(context.workDir ?? process.cwd(), 'var/identity', `${safeName}.jsonl`),
    lot: section.lot ?? context.stationLot,
    serial: section.serial,
    credentials,
    set: section.set,
    lowWater: section.lowWater,
  };
}
