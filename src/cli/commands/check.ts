/**
 * `esp-station check`: validate config, profile and image set without touching a board; print the flash map,
 * then OK (exit 0) or every problem (exit 2). A set that passes is packed into the deflate cache here, waited
 * for (firmware/deflate-fill.ts): run once after installing a release, every later run sends fewer bytes.
 */
import { parseCommandArgs } from '../command-args.ts';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadProfile } from '../../config/profile.ts';
import type { StationProfile } from '../../config/profile.ts';
import { formatProblems, InputError } from '../../config/problems.ts';
import { inspectStationConfig, loadStationConfig, type StationConfig } from '../../config/station-config.ts';
import type { Problem } from '../../config/problems.ts';
import { ledgerLocationProblem } from '../ledger-location-check.ts';
import { jsonSchemaFor, SCHEMA_NAMES } from '../../config/json-schema.ts';
import type { SchemaName } from '../../config/json-schema.ts';
import { chipByName, CHIP_NAMES } from '../../esp/chips/index.ts';
import { formatAtTest } from '../../firmware/at-test-summary.ts';
import { formatFlashMap, formatProfilePolicy, formatSummary } from '../../firmware/flash-map.ts';
import { formatFillSummary, startDeflateFill } from '../../firmware/deflate-fill.ts';
import { imageSetFromPath } from '../../firmware/image-set-source.ts';
import {
  effectiveFlashSettings,
  inspectImageSet,
  inspectProfileFirmware,
} from '../../firmware/profile-firmware.ts';
import type { FirmwareInspection } from '../../firmware/profile-firmware.ts';

const USAGE = `usage: esp-station check [--config FILE] [--profile FILE | --firmware <flasher_args.json|download.config|folder> [--chip CHIP]]

Checks config.yaml, the station profile and its image set before any board is touched, and prints the flash map.
A set that passes is packed once into the deflate cache (var/deflate-cache; ESP_STATION_DEFLATE_CACHE=<dir> or
off): every later run and flash of it sends ~3.5 % fewer bytes.
  --config FILE     station config (default: config.yaml when present); its profile is checked
  --profile FILE    check this station profile instead of the config's
  --firmware PATH   check an image set directly: a release folder, flasher_args.json or download.config
  --schema NAME     print the JSON Schema of a profile or config.yaml (profile | config), for editors
  --chip CHIP       chip for --firmware when the image set does not name one (${CHIP_NAMES.join(', ')})
Exit 0 when everything is fine, 2 when there is a problem.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    {
      args: argv,
      options: {
        config: { type: 'string' },
        profile: { type: 'string' },
        firmware: { type: 'string' },
        chip: { type: 'string' },
        schema: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  if (values.schema !== undefined) {
    const name = values.schema;
    if (!(SCHEMA_NAMES as readonly string[]).includes(name)) {
      throw new InputError({
        file: '<command line>',
        key: '--schema',
        message: `unknown schema '${name}'; use ${SCHEMA_NAMES.join(' or ')}`,
      });
    }
    console.log(JSON.stringify(jsonSchemaFor(name as SchemaName), null, 2));
    return 0;
  }
  if (values.profile && values.firmware)
    throw new InputError({ file: '<command line>', message: 'give --profile or --firmware, not both' });
  if (values.chip && !values.firmware)
    throw new InputError({
      file: '<command line>',
      key: '--chip',
      message: '--chip only applies with --firmware (a profile names its chip)',
    });

  let inspection: FirmwareInspection;
  const configProblems: Problem[] = [];
  let profileInfo: StationProfile | undefined;
  if (values.firmware) {
    const configFile = values.config;
    if (configFile) await loadStationConfig(configFile);
    const set = await imageSetFromPath(values.firmware);
    const chipName = values.chip ?? set.chip;
    const chip = chipName ? chipByName(chipName) : undefined;
    if (!chip) {
      throw new InputError({
        file: '<command line>',
        key: '--chip',
        message: chipName
          ? `unknown chip '${chipName}'; use one of ${CHIP_NAMES.join(', ')}`
          : `the image set does not name its chip; add --chip (${CHIP_NAMES.join(', ')})`,
      });
    }
    inspection = await inspectImageSet(set, chip, effectiveFlashSettings({ flash: {} }, set), {
      profileName: path.basename(values.firmware),
    });
  } else {
    let profilePath = values.profile;
    // config.yaml in the current folder is the default only when no profile is named.
    const configFile =
      values.config ?? (!profilePath && existsSync('config.yaml') ? 'config.yaml' : undefined);
    if (configFile) {
      // A problem in config.yaml does not hide the profile's: both are checked, all problems listed at once.
      const { config, problems } = await inspectStationConfig(configFile);
      configProblems.push(...problems);
      if (!config) throw new InputError(problems);
      console.log(
        `config:    ${config.file} (station ${config.station}, ${config.slots.length} slots, concurrency ${config.concurrency})`,
      );
      const ledgerProblem = await ledgerLocationProblem(config);
      if (ledgerProblem) configProblems.push(ledgerProblem);
      console.log(`AT ports:  ${formatAtPorts(config)}`);
      profilePath ??= config.profilePath;
    }
    if (!profilePath)
      throw new InputError({
        file: '<command line>',
        message: 'no config.yaml here; give --config, --profile or --firmware',
      });
    const profile = await loadProfile(profilePath).catch((err: unknown) => {
      if (err instanceof InputError) throw new InputError([...configProblems, ...err.problems]);
      throw err;
    });
    profileInfo = profile;
    inspection = await inspectProfileFirmware(profile).catch((err: unknown) => {
      if (err instanceof InputError) throw new InputError([...configProblems, ...err.problems]);
      throw err;
    });
  }

  console.log(formatSummary(inspection, profileInfo));
  if (profileInfo) console.log(formatProfilePolicy(profileInfo));
  if (profileInfo) console.log(formatAtTest(inspection.prepared?.atTest, profileInfo.test !== undefined));
  console.log('');
  console.log(formatFlashMap(inspection));
  console.log('');
  const problems = [...configProblems, ...inspection.problems];
  if (problems.length > 0) {
    console.log(formatProblems(problems));
    return 2;
  }
  if (inspection.prepared) {
    const fill = startDeflateFill(inspection.prepared.regions, {
      onPacking: () =>
        console.log('deflate cache: packing this image set once for this release (zopfli; seconds) …'),
    });
    console.log(formatFillSummary(await fill.done));
  }
  console.log('OK');
  return 0;
}

/** Where each slot's AT port is, as config.yaml says. */
function formatAtPorts(config: StationConfig): string {
  const own = config.slots
    .filter((slot) => slot.atPort !== undefined)
    .map((slot) => {
      const r = slot.atPort!;
      const where =
        r === 'none'
          ? 'none'
          : 'interface' in r
            ? `interface ${r.interface}`
            : 'usbPath' in r
              ? `bridge at ${r.usbPath}`
              : r.url;
      return `${slot.name} ${where}`;
    });
  const rule = config.atPort ? `interface ${config.atPort.interface} of each board's USB device` : 'none';
  return [`${rule}${own.length ? '; ' : ''}`, own.join(', ')].join('');
}
