/**
 * Which chip revisions an image accepts, decided from its extended header exactly as esptool v5.3.1's
 * write_flash does before writing: the full range (min_rev_full..max_rev_full, major*100+minor) when the
 * image has it, else the legacy `min_rev` byte, which ESP-IDF sets from the minor version on ESP32-C3 and from
 * the major version elsewhere. A board outside the range halts in its bootloader, so it is refused before any
 * write.
 */
import { formatRevision } from './identity-text.ts';

/** "No maximum" in max_rev_full (ESP-IDF's default). */
const MAX_REV_UNSET = 0xffff;

export type RevisionRequirement =
  | { image: string; kind: 'full'; min: number; max: number | undefined }
  | { image: string; kind: 'legacy'; min: number; field: 'major' | 'minor' };

/** The extended-header fields an image carries (src/firmware parses them). */
export interface RevisionFields {
  minRev: number;
  minRevFull: number;
  maxRevFull: number;
}

export function revisionRequirement(
  image: string,
  fields: RevisionFields,
  legacyField: 'major' | 'minor',
): RevisionRequirement {
  const full =
    fields.maxRevFull !== 0 &&
    !(fields.maxRevFull === MAX_REV_UNSET && fields.minRevFull === 0 && fields.minRev !== 0);
  if (full) {
    return {
      image,
      kind: 'full',
      min: fields.minRevFull,
      max: fields.maxRevFull === MAX_REV_UNSET ? undefined : fields.maxRevFull,
    };
  }
  return { image, kind: 'legacy', min: fields.minRev, field: legacyField };
}

function describe(r: RevisionRequirement): string {
  if (r.kind === 'legacy') return `${r.field} revision ${r.min} or higher`;
  return r.max === undefined
    ? `revision ${formatRevision(r.min)} or later`
    : `revision ${formatRevision(r.min)} to ${formatRevision(r.max)}`;
}

/** The first requirement a board of this revision (major*100+minor) fails, as a sentence; undefined if none. */
export function revisionRefusal(
  requirements: readonly RevisionRequirement[],
  revision: number,
): string | undefined {
  for (const r of requirements) {
    const fails =
      r.kind === 'full'
        ? revision < r.min || (r.max !== undefined && revision > r.max)
        : (r.field === 'minor' ? revision % 100 : Math.floor(revision / 100)) < r.min;
    if (fails) return `${r.image} needs chip ${describe(r)}; this chip is ${formatRevision(revision)}`;
  }
  return undefined;
}
