/** What fits in an NVS v2 partition: names, integer ranges, string sizes, partition sizes. */
import { INTEGER_TYPES, MAX_KEY_LENGTH, MAX_VARIABLE_DATA, PAGE_SIZE } from './format.ts';
import { NvsInputError } from './errors.ts';
import type { NvsEntry, NvsValue } from './model.ts';

/** nvs_flash needs two pages to work in plus the blank one it keeps for rotation. */
export const MIN_PARTITION_SIZE = 3 * PAGE_SIZE;

export function checkPartitionSize(size: number): void {
  if (!Number.isSafeInteger(size) || size <= 0 || size % PAGE_SIZE !== 0) {
    throw new NvsInputError({
      message: `partition size ${size} is not a multiple of 4096 (0x1000); use the size from the partition table, e.g. 0x6000`,
    });
  }
  if (size < MIN_PARTITION_SIZE) {
    throw new NvsInputError({
      message: `partition size 0x${size.toString(16)} is too small; an NVS partition needs at least 0x3000 (3 pages)`,
    });
  }
}

/** The bytes a string occupies: UTF-8 and its terminating NUL. */
export function stringBytes(text: string): Uint8Array {
  return Buffer.from(`${text}\0`, 'utf8');
}

/** Keys and namespace names: 1..15 bytes, no NUL (they are C strings in a 16-byte field). */
export function nameProblem(name: string): string | undefined {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes === 0) return 'is empty; give a name of 1 to 15 characters';
  if (bytes > MAX_KEY_LENGTH)
    return `is ${bytes} bytes long; NVS keys and namespaces hold at most ${MAX_KEY_LENGTH}`;
  if (name.includes('\0')) return 'contains a NUL character';
  return undefined;
}

export function checkName(name: string, what: string): void {
  const problem = nameProblem(name);
  if (problem) throw new NvsInputError({ message: `${what} ${problem}` });
}

/** Why `value` cannot be stored, or undefined when it fits its type. */
export function valueProblem(value: NvsValue): string | undefined {
  switch (value.type) {
    case 'string': {
      const size = stringBytes(value.value).length;
      return size > MAX_VARIABLE_DATA
        ? `string is ${size - 1} bytes; NVS strings hold at most ${MAX_VARIABLE_DATA - 1} (one page); store it as a blob (binary/base64/hex2bin) instead`
        : undefined;
    }
    case 'blob':
      return value.value.length > 0xffffffff ? 'blob is larger than 4 GiB' : undefined;
    default: {
      const info = INTEGER_TYPES[value.type];
      const n =
        typeof value.value === 'bigint'
          ? value.value
          : Number.isInteger(value.value)
            ? BigInt(value.value)
            : undefined;
      if (n === undefined) return `${value.value} is not a whole number; ${value.type} holds integers`;
      if (n < info.min || n > info.max)
        return `${n} does not fit ${value.type} (${info.min}..${info.max}); use a wider type or a smaller value`;
      return undefined;
    }
  }
}

export function checkEntry(entry: NvsEntry): void {
  checkName(entry.namespace, `namespace '${entry.namespace}'`);
  checkName(entry.key, `key '${entry.key}'`);
  const problem = valueProblem(entry.value);
  if (problem) throw new NvsInputError({ message: `${entry.namespace}/${entry.key}: ${problem}` });
}
