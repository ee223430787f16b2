/** How figures are written in every human-facing format, so text and HTML show the same strings. */

export function percent(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? '—' : `${(x * 100).toFixed(digits)} %`;
}

export function seconds(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`;
}

export function decimal(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? '—' : x.toFixed(digits);
}

/** ISO instant → `2026-11-23 08:00:00Z` (reports are in UTC). */
export function instant(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** ISO hour start → `2026-11-23 08:00`. */
export function hourLabel(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

/** Recipe fingerprints are SHA-256 hex; 12 characters identify one in a report. */
export function shortRecipe(recipe: string): string {
  return recipe.length > 12 ? recipe.slice(0, 12) : recipe;
}
