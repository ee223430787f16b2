/**
 * config.yaml → its profile → the profile's image set, every problem of every stage at once: a duplicate slot
 * in config.yaml does not hide a missing image in the profile. Stops only where a stage cannot be read at all.
 */
import { InputError } from '../config/problems.ts';
import type { Problem } from '../config/problems.ts';
import { loadProfile } from '../config/profile.ts';
import type { StationProfile } from '../config/profile.ts';
import { inspectStationConfig } from '../config/station-config.ts';
import type { StationConfig } from '../config/station-config.ts';
import { inspectProfileFirmware } from '../firmware/profile-firmware.ts';
import type { PreparedFirmware } from '../firmware/prepared.ts';

export interface StationInputs {
  config: StationConfig;
  profile: StationProfile;
  firmware: PreparedFirmware;
}

/** Throws one InputError with `earlier` (e.g. the command line's problems) and every stage's problems. */
export async function loadStationInputs(configFile: string, earlier: Problem[] = []): Promise<StationInputs> {
  const problems = [...earlier];
  const fail = (): never => {
    throw new InputError(problems);
  };
  const c = await inspectStationConfig(configFile).catch((err: unknown) => {
    if (!(err instanceof InputError)) throw err;
    return { config: undefined, problems: err.problems }; // the file itself could not be read
  });
  problems.push(...c.problems);
  if (!c.config) return fail();
  let profile: StationProfile;
  try {
    profile = await loadProfile(c.config.profilePath);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    problems.push(...err.problems);
    return fail();
  }
  // With problems already found the firmware will not be used: check it, do not prepare (compress) it.
  const inspection = await inspectProfileFirmware(profile, { prepare: problems.length === 0 }).catch(
    (err: unknown) => {
      if (!(err instanceof InputError)) throw err;
      problems.push(...err.problems);
      return undefined;
    },
  );
  if (inspection) problems.push(...inspection.problems);
  if (problems.length > 0 || !inspection?.prepared) return fail();
  return { config: c.config, profile, firmware: inspection.prepared };
}
