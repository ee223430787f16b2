/**
 * The station's identity pool for `run`: the profile's identity section opened against the release's own
 * region (profile `identity.partition`, e.g. mfg_nvs), before any port opens. Anything wrong with it is a
 * problem at the profile's identity section, found before the first board.
 */
import { identitySettingsOf } from '../config/identity-settings.ts';
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

/** Undefined when the profile has no identity section. */
export async function openStationIdentity(
  profile: StationProfile,
  firmware: PreparedFirmware,
  stationLot: string,
): Promise<OpenedIdentity | undefined> {
  const settings = identitySettingsOf(profile, { stationLot });
  if (!settings) return undefined;
  const region = firmware.regions.find((r) => r.label === settings.partition);
  if (!region) {
    throw new InputError({
      file: profile.file,
      key: 'identity.partition',
      message: `the image set has no region '${settings.partition}' (it has ${firmware.regions.map((r) => r.label).join(', ')}); name the region that carries the identity, e.g. mfg_nvs`,
    });
  }
  try {
    const issuer = await IdentityIssuer.open(settings, region.data);
    const source = settings.credentials?.folder ?? settings.credentials?.manifest ?? settings.journal;
    const keys = [
      ...(settings.serial ? [settings.serial] : []),
      ...Object.values(settings.credentials?.files ?? {}),
      ...settings.set,
    ].map((k) => ({ namespace: k.namespace, key: k.key }));
    return { issuer, partition: settings.partition, keys, source };
  } catch (err) {
    if (err instanceof IdentityError)
      throw new InputError({ file: profile.file, key: 'identity', message: err.message });
    throw err;
  }
}
