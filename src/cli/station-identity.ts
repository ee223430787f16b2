/**
 * The station's identity pool for `run`: the profile's identity section opened against the release's own
 * region (profile `identity.partition`, e.g. mfg_nvs), before any port opens. Anything wrong with it is a
 * problem at the profile's identity section, found before the first board.
 */
import type { CentralTarget } from '../central/connection.ts';
import { identitySourceOf } from '../config/identity-settings.ts';
import { InputError } from '../config/problems.ts';
import type { StationProfile } from '../config/profile.ts';
import type { PreparedFirmware } from '../firmware/prepared.ts';
import { IdentityError, IdentityIssuer } from '../identity/index.ts';
import type { StationIdentity } from '../station/board-identity.ts';

export interface OpenedIdentity extends StationIdentity {
  issuer: IdentityIssuer;
  /** Where the pool comes from, for the screen. */
  source: string;
}

export interface IdentityStationContext {
  /** config.yaml's lot, station name and central database (the last two for a central pool). */
  lot: string;
  station: string;
  central?: CentralTarget;
  /** config.yaml, named when a central pool has no database. */
  configFile?: string;
  /** What a central pool's background link has to say (link lost, a refused step). */
  onNotice?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** Undefined when the profile has no identity section. */
export async function openStationIdentity(
  profile: StationProfile,
  firmware: PreparedFirmware,
  context: IdentityStationContext,
): Promise<OpenedIdentity | undefined> {
  const source = identitySourceOf(profile, { stationLot: context.lot });
  if (!source) return undefined;
  const settings = source.settings;
  if (source.kind === 'central' && !context.central) {
    throw new InputError({
      ...profile.declaredAt.identityCentral,
      message: `identities come from the central pool ${source.settings.pool}, but ${context.configFile ?? 'the station config'} has no central: database; add central: { url: postgres://user@host:port/db } there (or take identity.central out to use local files)`,
    });
  }
  const region = firmware.regions.find((r) => r.label === settings.partition);
  if (!region) {
    throw new InputError({
      file: profile.file,
      key: 'identity.partition',
      message: `the image set has no region '${settings.partition}' (it has ${firmware.regions.map((r) => r.label).join(', ')}); name the region that carries the identity, e.g. mfg_nvs`,
    });
  }
  try {
    let issuer: IdentityIssuer;
    let from: string;
    if (source.kind === 'central') {
      // Loaded only for a central pool: a station without a database never loads the PostgreSQL client.
      const { CentralAllocator } = await import('../station/central-allocator.ts');
      const allocator = await CentralAllocator.open({
        settings: source.settings,
        station: context.station,
        target: context.central!,
        ...(context.onNotice && { onNotice: context.onNotice }),
      });
      issuer = IdentityIssuer.withAllocator(allocator, source.settings, region.data);
      from = `central pool ${source.settings.pool}`;
    } else {
      issuer = await IdentityIssuer.open(source.settings, region.data);
      from = source.settings.credentials?.folder ?? source.settings.credentials?.manifest ?? settings.journal;
    }
    const keys = [
      ...(settings.serial ? [settings.serial] : []),
      ...Object.values(settings.credentials?.files ?? {}),
      ...settings.set,
    ].map((k) => ({ namespace: k.namespace, key: k.key }));
    return { issuer, partition: settings.partition, keys, source: from };
  } catch (err) {
    if (err instanceof IdentityError)
      throw new InputError({ file: profile.file, key: 'identity', message: err.message });
    throw err;
  }
}
