/**
 * From a station profile to firmware: resolve the image set, work out the flash settings, run every check,
 * and (when all pass) prepare the firmware once. The station calls `loadProfileFirmware`; `esp-station
 * check` calls `inspectProfileFirmware` to print the map and the problems.
 */
import type { StationProfile } from '../config/profile.ts';
import { InputError } from '../config/problems.ts';
import type { Problem } from '../config/problems.ts';
import { chipByName } from '../esp/chips/index.ts';
import type { ChipFacts } from '../esp/chips/index.ts';
import type { FlashSettings } from './flash-settings.ts';
import { checkImageSet } from './image-set-checks.ts';
import type { ImageSetCheck } from './image-set-checks.ts';
import type { ImageSet } from './image-set.ts';
import { resolveImageSet } from './image-set-source.ts';
import { readAtRelease } from './at-release.ts';
import { atTestSetup } from './at-test-plan.ts';
import { prepareFirmware } from './prepared.ts';
import type { PreparedFirmware, PrepareOptions } from './prepared.ts';

/** The profile's flash settings win; unset fields come from the image set; else the header is kept. */
export function effectiveFlashSettings(profile: Pick<StationProfile, 'flash'>, set: ImageSet): FlashSettings {
  return {
    mode: (profile.flash.mode ?? set.settings.mode ?? 'keep') as FlashSettings['mode'],
    freq: profile.flash.freq ?? set.settings.freq ?? 'keep',
    size: profile.flash.size ?? set.settings.size ?? 'keep',
  };
}

export interface FirmwareInspection {
  chip: ChipFacts;
  imageSet: ImageSet;
  settings: FlashSettings;
  check: ImageSetCheck;
  problems: Problem[];
  /** Present when there are no problems. */
  prepared?: PreparedFirmware;
}

export async function inspectProfileFirmware(
  profile: StationProfile,
  opts: Pick<PrepareOptions, 'deflate'> & {
    signal?: AbortSignal;
    /** false: only check (other problems are already known, so the firmware will not be used). */
    prepare?: boolean;
  } = {},
): Promise<FirmwareInspection> {
  const chip = chipByName(profile.chip);
  if (!chip) throw new InputError({ ...profile.declaredAt.chip, message: `unknown chip ${profile.chip}` });
  opts.signal?.throwIfAborted();
  const imageSet = await resolveImageSet(profile.imageSet, {
    baseDir: profile.baseDir,
    declaredIn: profile.declaredAt.imageSet,
  });
  opts.signal?.throwIfAborted();
  const r = await inspectImageSet(imageSet, chip, effectiveFlashSettings(profile, imageSet), {
    profileName: profile.name,
    demo: profile.demo,
    minFlashSize: profile.checks.minFlashSize,
    deflate: opts.deflate,
    prepare: opts.prepare,
  });
  // A bad flash setting written in the profile points at the profile's flash: key, not at the image set.
  const problems = r.problems.map((p) =>
    p.key?.startsWith('flash.') && profile.flash[p.key.slice(6) as keyof typeof profile.flash] !== undefined
      ? { ...p, ...profile.declaredAt.flash, key: p.key }
      : p,
  );
  let prepared = problems.length === 0 ? r.prepared : undefined;
  if (prepared && profile.test) {
    // What the boards must answer on the AT port comes from the checked, prepared bytes of this image set.
    const release = await readAtRelease(imageSet, prepared.regions);
    const t = atTestSetup(profile.test, release, profile.declaredAt.test);
    problems.push(...t.problems);
    prepared = t.setup ? Object.freeze({ ...prepared, atTest: t.setup }) : undefined;
  }
  return { ...r, problems, prepared };
}

/** Checks an image set for a chip and prepares it when nothing is wrong. */
export async function inspectImageSet(
  imageSet: ImageSet,
  chip: ChipFacts,
  settings: FlashSettings,
  opts: Pick<PrepareOptions, 'deflate' | 'profileName' | 'demo'> & {
    minFlashSize?: number;
    prepare?: boolean;
  } = {},
): Promise<FirmwareInspection> {
  const check = await checkImageSet(imageSet, chip, settings, { minFlashSize: opts.minFlashSize });
  // In file order, so an engineer can walk the file top to bottom.
  const problems = [...check.problems].sort(
    (a, b) => (a.file === b.file ? 0 : a.file < b.file ? -1 : 1) || (a.line ?? 0) - (b.line ?? 0),
  );
  const prepared =
    problems.length === 0 && opts.prepare !== false
      ? prepareFirmware(imageSet, settings, {
          chip: chip.name,
          profileName: opts.profileName,
          demo: opts.demo,
          deflate: opts.deflate,
          // Prepare exactly the bytes that were checked (a file replaced in between must not slip through).
          readFile: (file) => {
            const l = check.loaded.find((x) => x.file === file);
            if (!l) throw new Error(`inspectImageSet: ${file} was not loaded by the checks`);
            return l.data;
          },
        })
      : undefined;
  return { chip, imageSet, settings, check, problems, prepared };
}

/** Checked, prepared firmware for a profile; every problem at once as an InputError. */
export async function loadProfileFirmware(
  profile: StationProfile,
  opts: { signal?: AbortSignal } = {},
): Promise<PreparedFirmware> {
  const r = await inspectProfileFirmware(profile, opts);
  if (!r.prepared) throw new InputError(r.problems);
  return r.prepared;
}
