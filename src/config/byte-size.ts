/**
 * Sizes and offsets in config files and image sets: `0x1000`, `4096`, `4KB`, `4MB` (binary units, as
 * esptool and ESP-IDF use them: 1 MB = 1024 × 1024). Offsets written as numbers in YAML arrive as numbers;
 * `0x1000` arrives as a number too (YAML 1.2 core schema), everything else as a string.
 */
const UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  K: 1024,
  KB: 1024,
  M: 1024 ** 2,
  MB: 1024 ** 2,
  G: 1024 ** 3,
  GB: 1024 ** 3,
};

export function parseByteSize(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? input : undefined;
  const s = input.trim();
  if (/^0x[0-9a-f]+$/i.test(s)) return Number.parseInt(s.slice(2), 16);
  const m = /^(\d+)\s*([KMG]?B?)$/i.exec(s);
  if (!m) return undefined;
  const unit = UNITS[m[2].toUpperCase()];
  const n = Number(m[1]) * unit;
  return Number.isSafeInteger(n) ? n : undefined;
}

export function formatHex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Human size the way ESP-IDF names flash sizes: `4MB`, `64KB`, or plain bytes. */
export function formatByteSize(n: number): string {
  if (n >= 1024 ** 2 && n % 1024 ** 2 === 0) return `${n / 1024 ** 2}MB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}KB`;
  return `${n} B`;
}
