/**
 * ESP-AT's download.config: esptool arguments as whitespace-separated tokens —
 * `--flash_mode dio --flash_freq 40m --flash_size 4MB` then `0xOFFSET path` pairs, paths relative to the file.
 */
import path from 'node:path';
import { InputError } from '../config/problems.ts';
import type { Problem } from '../config/problems.ts';
import { parseByteSize } from '../config/byte-size.ts';
import type { FlashSettings } from './flash-settings.ts';
import { labelFromFile, resolveImagePath } from './image-set.ts';
import type { ImageSet, ImageSetRegion } from './image-set.ts';
import { positionOf, readSourceText } from './source-text.ts';

const OPTIONS: Record<string, keyof FlashSettings> = {
  '--flash_mode': 'mode',
  '--flash-mode': 'mode',
  '--flash_freq': 'freq',
  '--flash-freq': 'freq',
  '--flash_size': 'size',
  '--flash-size': 'size',
};

export async function readDownloadConfig(file: string): Promise<ImageSet> {
  const abs = path.resolve(file);
  return parseDownloadConfig(abs, await readSourceText(abs, 'download.config'));
}

export function parseDownloadConfig(file: string, text: string): ImageSet {
  const tokens: { text: string; line: number; column: number }[] = [];
  for (const m of text.matchAll(/\S+/g)) tokens.push({ text: m[0], ...positionOf(text, m.index ?? 0) });
  const problems: Problem[] = [];
  const settings: Partial<FlashSettings> = {};
  const settingsDeclaredAt: NonNullable<ImageSet['settingsDeclaredAt']> = {};
  const regions: ImageSetRegion[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const where = { file, line: t.line, column: t.column };
    if (t.text.startsWith('--')) {
      const key = OPTIONS[t.text];
      const value = tokens[i + 1];
      if (!key) {
        problems.push({
          ...where,
          message: `unknown option '${t.text}'; download.config may hold --flash_mode, --flash_freq, --flash_size and "0xOFFSET file" pairs`,
        });
        if (value && !value.text.startsWith('--') && !/^0x/i.test(value.text)) i++;
        continue;
      }
      if (!value || value.text.startsWith('--')) {
        problems.push({ ...where, message: `${t.text} needs a value` });
        continue;
      }
      (settings as Record<string, string>)[key] = value.text;
      settingsDeclaredAt[key] = { file, line: value.line, column: value.column };
      i++;
      continue;
    }
    const offset = /^(0x[0-9a-f]+|\d+)$/i.test(t.text) ? parseByteSize(t.text) : undefined;
    if (offset === undefined) {
      problems.push({ ...where, message: `'${t.text}' is neither an option nor a flash offset like 0x1000` });
      continue;
    }
    const f = tokens[i + 1];
    if (!f || f.text.startsWith('--') || /^0x[0-9a-f]+$/i.test(f.text)) {
      problems.push({ ...where, message: `offset ${t.text} has no file after it` });
      continue;
    }
    regions.push({
      offset,
      file: resolveImagePath(file, f.text),
      label: labelFromFile(f.text),
      encrypted: false,
      declaredAt: { ...where, key: t.text },
    });
    i++;
  }
  if (regions.length === 0 && problems.length === 0)
    problems.push({ file, message: 'no "0xOFFSET file" pairs found; nothing to flash' });
  if (problems.length) throw new InputError(problems);
  regions.sort((a, b) => a.offset - b.offset);
  return { kind: 'downloadConfig', sourceFile: file, settings, settingsDeclaredAt, regions };
}
