import { stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from './problems.ts';
import type { Problem } from './problems.ts';
import { DEFAULT_PORT_FILTERS } from './usb-bridges.ts';
import type { PortFilter } from './usb-bridges.ts';
import { StationConfigFileSchema } from './station-config-schema.ts';
import { parseYamlWithSchema, readYamlFile } from './yaml-document.ts';

export interface SlotConfig {
  name: string;
  usbPath: string;
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
  const text = await readYamlFile(file, opts.signal);
  const config = parseStationConfig(file, text);
  const isFile = await stat(config.profilePath).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!isFile) {
    const { locate } = parseYamlWithSchema(file, text, StationConfigFileSchema);
    throw new InputError({
      file,
      ...locate(['profile']),
      key: 'profile',
      message: `profile ${config.profilePath} not found; name a station profile file, e.g. stations/demo-esp32-at.yaml`,
    });
  }
  return config;
}

export function parseStationConfig(file: string, text: string): StationConfig {
  const { value, locate } = parseYamlWithSchema(file, text, StationConfigFileSchema);
  const problems: Problem[] = [];
  const seenNames = new Map<string, number>();
  const seenPaths = new Map<string, number>();
  value.slots.forEach((slot, i) => {
    const n = seenNames.get(slot.name);
    if (n !== undefined) {
      problems.push({
        file,
        ...locate(['slots', i, 'name']),
        key: `slots.${i}.name`,
        message: `slot name '${slot.name}' is already used by slots.${n}; slot names must be unique`,
      });
    } else seenNames.set(slot.name, i);
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
  if (value.layout) problems.push(...layoutProblems(file, value.layout, value.slots, locate));
  if (value.ledger.maxSize !== undefined && value.ledger.rotate !== 'size') {
    problems.push({
      file,
      ...locate(['ledger', 'maxSize']),
      key: 'ledger.maxSize',
      message: "maxSize only applies with 'rotate: size'",
    });
  }
  if (problems.length) throw new InputError(problems);

  const dir = path.dirname(path.resolve(file));
  return Object.freeze({
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
    ...(value.layout && {
      layout: Object.freeze(value.layout.map((row) => Object.freeze(row.map((n) => n || null)))),
    }),
  });
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
