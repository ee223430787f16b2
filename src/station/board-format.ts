/** Operator-facing names and sizes (kept out of the pipeline so messages read the same everywhere). */
import { chipByName } from '../esp/chips/index.ts';

export function chipDisplayName(chip: string): string {
  return chipByName(chip)?.displayName ?? chip;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MB`;
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} B`;
}
