/**
 * ESP-IDF flasher_args.json (esp-protocol.md §12): file paths relative to the JSON file, offset keys in string
 * order (sorted here by value), `encrypted` as the string "true"/"false", flash_settings with detect/keep,
 * extra_esptool_args {chip, before, after, stub}. Unknown top-level keys are normal (components add their own
 * image entries), so this reader is tolerant where IDF is, and strict about what it uses.
 */
import path from 'node:path';
import { InputError } from '../config/problems.ts';
import type { Problem } from '../config/problems.ts';
import { parseByteSize } from '../config/byte-size.ts';
import { chipByName } from '../esp/chips/index.ts';
import type { FlashSettings } from './flash-settings.ts';
import { labelFromFile, resolveImagePath } from './image-set.ts';
import type { ImageSet, ImageSetRegion } from './image-set.ts';
import { positionOf, readSourceText } from './source-text.ts';
import { isMap, isPair, isScalar, LineCounter, parseDocument } from 'yaml';

/** More images than any ESP-IDF project flashes (a flash of 16 MB has 4096 sectors; releases list < 20). */
const MAX_IMAGES = 256;

export async function readFlasherArgs(file: string): Promise<ImageSet> {
  const abs = path.resolve(file);
  return parseFlasherArgs(abs, await readSourceText(abs, 'flasher_args.json'));
}

export function parseFlasherArgs(file: string, text: string): ImageSet {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const at = /position (\d+)/.exec(msg);
    const where = at ? positionOf(text, Number(at[1])) : {};
    throw new InputError({
      file,
      ...where,
      message: `not valid JSON (${msg}); is this really an ESP-IDF flasher_args.json?`,
    });
  }
  const problems: Problem[] = [];
  const locate = (needle: string, after = 0) => {
    const i = text.indexOf(needle, after);
    return i < 0 ? {} : positionOf(text, i);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InputError({ file, line: 1, column: 1, message: 'expected a JSON object with flash_files' });
  }
  const root = json as Record<string, unknown>;
  const files = root.flash_files;
  if (typeof files !== 'object' || files === null || Array.isArray(files)) {
    throw new InputError({
      file,
      ...locate('"flash_files"'),
      key: 'flash_files',
      message: 'missing or not an object of "0xOFFSET": "path"; every flasher_args.json from ESP-IDF has it',
    });
  }

  // Per-image entries {offset, file, encrypted} give labels and the encrypted flag.
  const named = new Map<number, { name: string; encrypted: boolean }>();
  for (const [name, v] of Object.entries(root)) {
    if (typeof v !== 'object' || v === null || !('offset' in v) || !('file' in v)) continue;
    const e = v as { offset: unknown; file: unknown; encrypted?: unknown };
    const off =
      typeof e.offset === 'string' || typeof e.offset === 'number' ? parseByteSize(e.offset) : undefined;
    if (off === undefined) continue;
    const enc = e.encrypted;
    if (enc !== undefined && enc !== 'true' && enc !== 'false' && typeof enc !== 'boolean') {
      problems.push({
        file,
        ...locate(`"${name}"`),
        key: `${name}.encrypted`,
        message: `encrypted is ${JSON.stringify(enc)}; expected "true" or "false"`,
      });
    }
    named.set(off, { name, encrypted: enc === 'true' || enc === true });
  }

  // JSON.parse keeps only the last of two equal keys: an offset given twice (or a second flash_files object)
  // would silently drop an image. The keys are compared as parsed (escapes undone, offsets as numbers).
  const layout = keyLayout(text);
  if (layout.flashFilesCount > 1) {
    problems.push({
      file,
      ...layout.secondFlashFilesAt,
      key: 'flash_files',
      message: 'flash_files is given twice (only the last would be read); merge them into one object',
    });
  }
  if (layout.flashFileKeys.length > MAX_IMAGES) {
    // Every image is read and checked against every other: a file listing thousands is not a release.
    throw new InputError({
      file,
      ...layout.secondFlashFilesAt,
      key: 'flash_files',
      message: `flash_files lists ${layout.flashFileKeys.length} images; an ESP-IDF release has a handful (at most ${MAX_IMAGES} are accepted) — is this the right file?`,
    });
  }
  const offsetSeen = new Map<number, string>();
  for (const k of layout.flashFileKeys) {
    const offset = /^0x[0-9a-f]+$/i.test(k.key) || /^\d+$/.test(k.key) ? parseByteSize(k.key) : undefined;
    if (offset === undefined) continue;
    const first = offsetSeen.get(offset);
    if (first !== undefined) {
      problems.push({
        file,
        ...k.at,
        key: `flash_files.${k.key}`,
        message: `offset ${k.key} is given twice in flash_files (also as "${first}"; only the last would be flashed); give each image its own offset`,
      });
    } else offsetSeen.set(offset, k.key);
  }

  const regions: ImageSetRegion[] = [];
  for (const [key, value] of Object.entries(files as Record<string, unknown>)) {
    const where = layout.positionOf.get(key) ?? {};
    const offset = /^0x[0-9a-f]+$/i.test(key) || /^\d+$/.test(key) ? parseByteSize(key) : undefined;
    if (offset === undefined) {
      problems.push({
        file,
        ...where,
        key: `flash_files.${key}`,
        message: `'${key}' is not a flash offset; write it like "0x10000"`,
      });
      continue;
    }
    if (typeof value !== 'string' || value.length === 0) {
      problems.push({
        file,
        ...where,
        key: `flash_files.${key}`,
        message: 'expected the path of an image file (relative to flasher_args.json)',
      });
      continue;
    }
    const n = named.get(offset);
    regions.push({
      offset,
      file: resolveImagePath(file, value),
      label: n?.name ?? labelFromFile(value),
      encrypted: n?.encrypted ?? false,
      declaredAt: { file, ...where, key: `flash_files.${key}` },
    });
  }

  const settings: Partial<FlashSettings> = {};
  const settingsDeclaredAt: NonNullable<ImageSet['settingsDeclaredAt']> = {};
  const fs = root.flash_settings;
  if (fs !== undefined) {
    if (typeof fs !== 'object' || fs === null) {
      problems.push({
        file,
        ...locate('"flash_settings"'),
        key: 'flash_settings',
        message: 'expected an object {flash_mode, flash_size, flash_freq}',
      });
    } else {
      const s = fs as Record<string, unknown>;
      const str = (k: string) => {
        const v = s[k];
        if (v === undefined) return undefined;
        if (typeof v !== 'string') {
          problems.push({
            file,
            ...locate(`"${k}"`),
            key: `flash_settings.${k}`,
            message: `expected a string, found ${JSON.stringify(v)}`,
          });
          return undefined;
        }
        return v;
      };
      const mode = str('flash_mode');
      const size = str('flash_size');
      const freq = str('flash_freq');
      if (mode !== undefined) settings.mode = mode as FlashSettings['mode'];
      if (size !== undefined) settings.size = size;
      if (freq !== undefined) settings.freq = freq;
      const settingsAt = text.indexOf('"flash_settings"');
      for (const [k, field] of [
        ['flash_mode', 'mode'],
        ['flash_size', 'size'],
        ['flash_freq', 'freq'],
      ] as const) {
        if (s[k] !== undefined) settingsDeclaredAt[field] = { file, ...locate(`"${k}"`, settingsAt) };
      }
    }
  }

  let chip: ImageSet['chip'];
  let esptoolArgs: ImageSet['esptoolArgs'];
  const extra = root.extra_esptool_args;
  if (typeof extra === 'object' && extra !== null) {
    const e = extra as Record<string, unknown>;
    if (typeof e.chip === 'string') {
      const c = chipByName(e.chip);
      if (!c)
        problems.push({
          file,
          ...locate('"chip"'),
          key: 'extra_esptool_args.chip',
          message: `chip '${e.chip}' is not supported by esp-station`,
        });
      chip = c?.name;
    }
    esptoolArgs = {
      before: typeof e.before === 'string' ? e.before : undefined,
      after: typeof e.after === 'string' ? e.after : undefined,
      stub: typeof e.stub === 'boolean' ? e.stub : undefined,
    };
  }
  if (problems.length) throw new InputError(problems);
  regions.sort((a, b) => a.offset - b.offset);
  return { kind: 'flasherArgs', sourceFile: file, chip, settings, settingsDeclaredAt, esptoolArgs, regions };
}

interface KeyLayout {
  flashFilesCount: number;
  secondFlashFilesAt?: { line: number; column: number };
  /** Every key of every flash_files object, in file order, as parsed. */
  flashFileKeys: { key: string; at: { line: number; column: number } }[];
  /** Position of each flash_files key (the last one, as JSON.parse keeps). */
  positionOf: Map<string, { line: number; column: number }>;
}

/**
 * The keys of the top level and of flash_files with their positions, in one linear pass. JSON is YAML, so
 * the yaml parser (already a dependency) gives every key with its place, duplicates included.
 */
function keyLayout(text: string): KeyLayout {
  const layout: KeyLayout = { flashFilesCount: 0, flashFileKeys: [], positionOf: new Map() };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: false, lineCounter });
  if (!isMap(doc.contents)) return layout;
  const at = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  for (const item of doc.contents.items) {
    if (!isPair(item) || !isScalar(item.key) || item.key.value !== 'flash_files') continue;
    layout.flashFilesCount++;
    if (layout.flashFilesCount === 2 && item.key.range) layout.secondFlashFilesAt = at(item.key.range[0]);
    if (!isMap(item.value)) continue;
    for (const entry of item.value.items) {
      if (!isPair(entry) || !isScalar(entry.key) || !entry.key.range) continue;
      const key = String(entry.key.value);
      const where = at(entry.key.range[0]);
      layout.flashFileKeys.push({ key, at: where });
      layout.positionOf.set(key, where);
    }
  }
  return layout;
}
