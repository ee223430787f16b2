/**
 * Flash mode / frequency / size as a profile or image set names them, and their header nibbles per chip
 * (esp-protocol.md §11.2; the tables live in src/esp/chips).
 */
import type { ChipFacts } from '../esp/chips/index.ts';
import { FLASH_MODE_NAMES } from './image-format.ts';

export type FlashMode = (typeof FLASH_MODE_NAMES)[number];

export interface FlashSettings {
  mode: FlashMode | 'keep';
  /** e.g. '40m', '80m', or 'keep'. */
  freq: string;
  /** e.g. '4MB', 'detect' (from the board's flash id) or 'keep'. */
  size: string;
}

export const KEEP_ALL: FlashSettings = Object.freeze({ mode: 'keep', freq: 'keep', size: 'keep' });

export function isFlashMode(s: string): s is FlashMode {
  return (FLASH_MODE_NAMES as readonly string[]).includes(s);
}

/** Bytes of a size name like '4MB' / '512KB'; undefined for detect/keep or junk. */
export function flashSizeBytes(name: string): number | undefined {
  const m = /^(\d+)(KB|MB)$/.exec(name);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === 'MB' ? 1024 * 1024 : 1024);
}

/** The size name a chip's header table uses for a byte count (e.g. 4194304 -> '4MB'). */
export function flashSizeName(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)}MB` : `${bytes / 1024}KB`;
}

/** Problems with settings for this chip, as sentences (empty when fine). */
export function flashSettingsProblems(
  chip: ChipFacts,
  s: FlashSettings,
): { key: 'mode' | 'freq' | 'size'; message: string }[] {
  const out: { key: 'mode' | 'freq' | 'size'; message: string }[] = [];
  if (s.mode !== 'keep' && !isFlashMode(s.mode))
    out.push({
      key: 'mode',
      message: `flash mode '${s.mode}' is not one of ${FLASH_MODE_NAMES.join(', ')}, keep`,
    });
  if (s.freq !== 'keep' && !(s.freq in chip.flashFreq)) {
    out.push({
      key: 'freq',
      message: `flash frequency '${s.freq}' is not valid for ${chip.displayName}; use one of ${Object.keys(chip.flashFreq).join(', ')}, keep`,
    });
  }
  if (s.size !== 'keep' && s.size !== 'detect' && !(s.size in chip.flashSize)) {
    out.push({
      key: 'size',
      message: `flash size '${s.size}' is not valid for ${chip.displayName}; use one of ${Object.keys(chip.flashSize).join(', ')}, detect, keep`,
    });
  }
  return out;
}

/** Names for header nibbles (reverse of the chip tables); C6 maps 0x0 to both 80m and 40m, we show the first. */
export function headerFieldNames(chip: ChipFacts, modeByte: number, sizeNibble: number, freqNibble: number) {
  const find = (table: Readonly<Record<string, number>>, v: number) =>
    Object.entries(table).find(([, n]) => n === v)?.[0];
  return {
    mode: FLASH_MODE_NAMES[modeByte] ?? `0x${modeByte.toString(16)}`,
    size: find(chip.flashSize, sizeNibble) ?? `nibble 0x${sizeNibble.toString(16)}`,
    freq: find(chip.flashFreq, freqNibble) ?? `nibble 0x${freqNibble.toString(16)}`,
  };
}
