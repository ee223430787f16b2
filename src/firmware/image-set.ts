/**
 * An image set: which file goes to which flash offset, plus the flash settings and chip the source states.
 * Produced by the readers (flasher_args.json, download.config, a folder, a list, a merged image); checked by
 * image-set-checks.ts; turned into bytes once by prepared.ts.
 */
import path from 'node:path';
import type { ChipName } from '../esp/chips/index.ts';
import type { FlashSettings } from './flash-settings.ts';

/** Where in an input file a region was declared, so problems can point at it. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
  key?: string;
}

export interface ImageSetRegion {
  offset: number;
  /** Absolute path of the image file. */
  file: string;
  /** Name shown in the flash map and ledger: 'bootloader', 'app', 'partition-table', or the file's stem. */
  label: string;
  encrypted: boolean;
  declaredAt: SourceLocation;
}

export interface ImageSet {
  kind: 'flasherArgs' | 'downloadConfig' | 'files' | 'merged';
  /** The file the set was read from (flasher_args.json, download.config, the profile, the merged image). */
  sourceFile: string;
  /** Chip named by the source (flasher_args.json extra_esptool_args.chip), if any. */
  chip?: ChipName;
  /** Flash settings the source states; fields it does not state are absent. */
  settings: Partial<FlashSettings>;
  /** Where the source states each flash setting, so a bad value is reported at its line. */
  settingsDeclaredAt?: Partial<Record<keyof FlashSettings, SourceLocation>>;
  /** esptool options from flasher_args.json (before/after reset, stub), for information. */
  esptoolArgs?: { before?: string; after?: string; stub?: boolean };
  /** Sorted by offset. */
  regions: ImageSetRegion[];
}

export function labelFromFile(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/\.bin$/i, '');
}

/**
 * An image path from flasher_args.json / download.config, relative to that file. Sets prepared on Windows
 * (Flash Download Tool) may use backslashes; they are path separators there, never part of a name.
 */
export function resolveImagePath(sourceFile: string, p: string): string {
  return path.resolve(path.dirname(sourceFile), p.replace(/\\/g, '/'));
}
