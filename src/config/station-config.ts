import { stat } from 'node:fs/promises';
import path from 'node:path';
import { parseDatabaseUrl } from '../central/database-url.ts';
import type { CentralTarget } from '../central/connection.ts';
import { InputError } from './problems.ts';
import type { Problem } from './problems.ts';
import { DEFAULT_PORT_FILTERS } from './usb-bridges.ts';
import type { PortFilter } from './usb-bridges.ts';
import { StationConfigFileSchema, type AtPortRule } from './station-config-schema.ts';
import { parseYamlWithSchema, readYamlFile } from './yaml-document.ts';
import type { ParsedYaml } from './yaml-document.ts';

export interface SlotConfig {
  name: string;
  usbPath: string;
  /** This slot's AT port; unset: the station-wide rule (StationConfig.atPort). */
  atPort?: AtPortRule;
}

/** config.yaml after validation, with paths made absolute and defaults filled in. */
export interface StationConfig {
  /** Absolute path of the config file. */
  file: string;
  station: string;
  /** Absolute path of the active station profile. */
  profilePath: string;
  portFilters: readonly PortFilter[];
  slots: readonly SlotConfig[];
  /** Parallel boards; defaults to one per slot (at least 1). */
  concurrency: number;
  /** Baud rates to try, fastest first. */
  baudLadder: readonly number[];
  ledger: { dir: string; rotate: 'day' | 'size'; maxSizeBytes: number };
  operator: string;
  lot: string;
  offerPresentAtStart: boolean;
  detection: 'auto' | 'hotplug' | 'polling';
  /** The central database the ledger is shipped to; absent when none is configured. */
  central?: CentralTarget & { drainSeconds: number };
  /** The station-wide AT port rule (interface N of each board's own USB device), for slots without their own. */
  atPort?: { interface: number };
  /** The fixture's shape: rows of slot names, null where the fixture has a gap. Unset: slots in config order. */
  layout?: readonly (readonly (string | null)[])[];
}

export const DEFAULT_LEDGER_MAX_BYTES = 64 * 1024 * 1024;
/** With no slots configured every bridge is its own slot; this caps the work done in parallel then. */
export const DEFAULT_CONCURRENCY_WITHOUT_SLOTS = 8;

/** Reads and validates config.yaml; the profile it names must exist (reported at the `profile:` line). */
export async function loadStationConfig(
  file: string,
  opts: { signal?: AbortSignal } = {},
): Promise<StationConfig> {
  const { config, problems } = await inspectStationConfig(file, opts);
  if (!config || problems.length > 0) throw new InputError(problems);
  return config;
}

/**
 * Every problem of config.yaml at once, and the config itself whenever its values could be read (a duplicate
 * slot name does not hide a missing profile, and the caller can go on to check that profile too).
 */
export async function inspectStationConfig(
  file: string,
  opts: { signal?: AbortSignal } = {},
): Promise<{ config?: StationConfig; problems: Problem[] }> {
  const text = await readYamlFile(file, opts.signal);
  let parsed: { config: StationConfig; problems: Problem[]; locate: ParsedYaml<unknown>['locate'] };
  try {
    parsed = readStationConfig(file, text);
  } catch (err) {
    if (err instanceof InputError) return { problems: err.problems };
    throw err;
  }
  const { config, locate } = parsed;
  const problems = [...parsed.problems];
  const isFile = await stat(config.profilePath).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!isFile) {
    problems.push({
      file,
      ...locate(['profile']),
      key: 'profile',
      message: `profile ${config.profilePath} not found; name a station profile file, e.g. stations/demo-esp32-at.yaml`,
    });
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    return { problems };
  }
  return { config, problems };
}

export function parseStationConfig(file: string, text: string): StationConfig {
  const { config, problems } = readStationConfig(file, text);
  if (problems.length) throw new InputError(problems);
  return config;
}

/** The schema's problems are thrown; the checks after it are returned with the config they concern. */
function readStationConfig(
  file: string,
  text: string,
): { config: StationConfig; problems: Problem[]; locate: ParsedYaml<unknown>['locate'] } {
  const { value, locate } = parseYamlWithSchema(file, text, StationConfigFileSchema);
  const problems: Problem[] = [];
  const seenNames = new Map<string, number>();
  const seenPaths = new Map<string, number>();
  const paths = new Set(value.slots.map((s) => s.usbPath));
  value.slots.forEach((slot, i) => {
    // Names that look alike on the screen are alike: compared trimmed and without case.
    const nameKey = slot.name.trim().toLowerCase();
    if (slot.name !== slot.name.trim()) {
      problems.push({
        file,
        ...locate(['slots', i, 'name']),
        key: `slots.${i}.name`,
        message: `slot name '${slot.name}' has spaces at its start or end; write it without them`,
      });
    }
    if (paths.has(slot.name) && slot.name !== slot.usbPath) {
      problems.push({
        file,
        ...locate(['slots', i, 'name']),
        key: `slots.${i}.name`,
        message: `slot name '${slot.name}' is the USB port path of another slot; name slots like A1, B2`,
      });
    }
    const n = seenNames.get(nameKey);
    if (n !== undefined) {
      problems.push({
        file,
        ...locate(['slots', i, 'name']),
        key: `slots.${i}.name`,
        message: `slot name '${slot.name}' is already used by slots.${n}${value.slots[n].name === slot.name ? '' : ` ('${value.slots[n].name}': names differing only in case or spaces look the same)`}; slot names must be unique`,
      });
    } else seenNames.set(nameKey, i);
    const p = seenPaths.get(slot.usbPath);
    if (p !== undefined) {
      problems.push({
        file,
        ...locate(['slots', i, 'usbPath']),
        key: `slots.${i}.usbPath`,
        message: `USB port path '${slot.usbPath}' is already slot ${value.slots[p].name} (slots.${p}); one physical port is one slot`,
      });
    } else seenPaths.set(slot.usbPath, i);
  });
  value.baudLadder.forEach((b, i) => {
    if (i > 0 && b > value.baudLadder[i - 1]) {
      problems.push({
        file,
        ...locate(['baudLadder', i]),
        key: `baudLadder.${i}`,
        message: `baud ${b} comes after the slower ${value.baudLadder[i - 1]}; the ladder steps down: list the rates fastest first`,
      });
    }
  });
  const baudSeen = new Set<number>();
  value.baudLadder.forEach((b, i) => {
    if (baudSeen.has(b))
      problems.push({
        file,
        ...locate(['baudLadder', i]),
        key: `baudLadder.${i}`,
        message: `baud ${b} appears twice; list each rate once, fastest first`,
      });
    baudSeen.add(b);
  });
  problems.push(...atPortProblems(file, value, locate));
  if (value.layout) problems.push(...layoutProblems(file, value.layout, value.slots, locate));
  if (value.ledger.maxSize !== undefined && value.ledger.rotate !== 'size') {
    problems.push({
      file,
      ...locate(['ledger', 'maxSize']),
      key: 'ledger.maxSize',
      message: "maxSize only applies with 'rotate: size'",
    });
  }
  const dir = path.dirname(path.resolve(file));
  let central: StationConfig['central'];
  if (value.central) {
    const c = value.central;
    const url = parseDatabaseUrl(c.url);
    if (!url.ok) {
      problems.push({ file, ...locate(['central', 'url']), key: 'central.url', message: url.message });
    }
    if (c.passwordEnv !== undefined && c.passwordFile !== undefined) {
      problems.push({
        file,
        ...locate(['central', 'passwordFile']),
        key: 'central.passwordFile',
        message: 'give the password one way: passwordEnv or passwordFile, not both',
      });
    }
    if (url.ok) {
      central = {
        address: url.address,
        ...(c.passwordEnv !== undefined && { passwordEnv: c.passwordEnv }),
        ...(c.passwordFile !== undefined && { passwordFile: path.resolve(dir, c.passwordFile) }),
        drainSeconds: c.drainSeconds,
      };
    }
  }
  const config: StationConfig = Object.freeze({
    file: path.resolve(file),
    station: value.station,
    profilePath: path.resolve(dir, value.profile),
    portFilters: Object.freeze(value.portFilters ?? [...DEFAULT_PORT_FILTERS]),
    slots: Object.freeze(value.slots),
    concurrency: value.concurrency ?? (value.slots.length || DEFAULT_CONCURRENCY_WITHOUT_SLOTS),
    baudLadder: Object.freeze(value.baudLadder),
    ledger: {
      dir: path.resolve(dir, value.ledger.dir),
      rotate: value.ledger.rotate,
      maxSizeBytes: value.ledger.maxSize ?? DEFAULT_LEDGER_MAX_BYTES,
    },
    operator: value.operator,
    lot: value.lot,
    offerPresentAtStart: value.offerPresentAtStart,
    detection: value.detection,
    ...(central && { central }),
    ...(value.atPort !== undefined && value.atPort !== 'none' && 'interface' in value.atPort
      ? { atPort: value.atPort }
      : {}),
    ...(value.layout && {
      layout: Object.freeze(value.layout.map((row) => Object.freeze(row.map((n) => n || null)))),
    }),
  });
  return { config, problems, locate };
}

type ParsedConfig = ReturnType<typeof StationConfigFileSchema.parse>;

/**
 * AT ports that cannot work: a station-wide rule naming one bridge or URL for every slot, a second bridge that is
 * some slot's download port, one AT port shared by two slots.
 */
function atPortProblems(
  file: string,
  value: ParsedConfig,
  locate: (path: readonly PropertyKey[]) => { line?: number; column?: number },
): Problem[] {
  const problems: Problem[] = [];
  const rule = value.atPort;
  if (rule !== undefined && rule !== 'none' && !('interface' in rule)) {
    problems.push({
      file,
      ...locate(['atPort']),
      key: 'atPort',
      message:
        "the station-wide atPort can only be { interface: N } (the same USB device's channel N) or none; a second bridge or a URL belongs to one slot: write it under that slot's atPort",
    });
  }
  const downloadPaths = new Map(value.slots.map((s) => [s.usbPath, s.name]));
  const used = new Map<string, string>();
  value.slots.forEach((slot, i) => {
    const at = slot.atPort;
    if (at === undefined || at === 'none' || 'interface' in at) return;
    const where = { file, ...locate(['slots', i, 'atPort']), key: `slots.${i}.atPort` };
    const place = 'usbPath' in at ? at.usbPath : at.url;
    const owner = downloadPaths.get(place);
    if (owner !== undefined) {
      problems.push({
        ...where,
        message: `${place} is slot ${owner}'s download port; a slot's AT port is another bridge (or the same bridge's other channel: { interface: 1 })`,
      });
    }
    const other = used.get(place);
    if (other !== undefined) {
      problems.push({
        ...where,
        message: `${place} is already slot ${other}'s AT port; each slot needs its own`,
      });
    } else used.set(place, slot.name);
  });
  return problems;
}

/** Every name in the layout is a configured slot, placed once; every configured slot has a place. */
function layoutProblems(
  file: string,
  layout: readonly (readonly (string | null)[])[],
  slots: readonly SlotConfig[],
  locate: (path: (string | number)[]) => { line?: number; column?: number },
): Problem[] {
  const problems: Problem[] = [];
  const known = new Set(slots.map((s) => s.name));
  const placed = new Map<string, string>();
  layout.forEach((row, r) =>
    row.forEach((name, c) => {
      if (!name) return;
      const where = { file, ...locate(['layout', r, c]), key: `layout.${r}.${c}` };
      if (!known.has(name)) {
        const names = [...known].join(', ');
        problems.push({
          ...where,
          message: `'${name}' is not a slot name; ${names ? `the slots are ${names}` : 'list the slots under slots: first'} (~ leaves a gap)`,
        });
      } else if (placed.has(name)) {
        problems.push({
          ...where,
          message: `slot ${name} is already placed at ${placed.get(name)}; place each slot once`,
        });
      } else placed.set(name, `layout.${r}.${c}`);
    }),
  );
  const missing = slots.filter((s) => !placed.has(s.name)).map((s) => s.name);
  if (missing.length > 0)
    problems.push({
      file,
      ...locate(['layout']),
      key: 'layout',
      message: `slot${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'have' : 'has'} no place in the layout; add ${missing.length > 1 ? 'them' : 'it'} where ${missing.length > 1 ? 'they sit' : 'it sits'} on the fixture`,
    });
  return problems;
}
