/**
 * Chip revision as data: which register bits make up `major` and `minor` (§8.4).
 * One description drives both the flasher (reading) and the simulator (encoding a revision),
 * so the two can never drift apart.
 */

/** `width` bits at `shift` of register `addr`, placed at bit `at` of the assembled number. */
export interface BitPiece {
  addr: number;
  shift: number;
  width: number;
  at: number;
}

export interface RevisionFields {
  major: readonly BitPiece[];
  minor: readonly BitPiece[];
  /** Raw major bits → major version, where the raw bits are not the number itself (ESP32). */
  majorFromRaw?: Readonly<Record<number, number>>;
  /**
   * esptool's ESP32-S3 "ECO0" rule: when the raw minor's low 3 bits are 0 and every field here holds its value,
   * the major bits were used for something else and the chip is v0.0.
   */
  v0WhenAll?: readonly (Omit<BitPiece, 'at'> & { value: number })[];
}

function mask(width: number): number {
  return width >= 32 ? 0xffffffff : (1 << width) - 1;
}

async function readPieces(
  pieces: readonly BitPiece[],
  read: (addr: number) => Promise<number>,
): Promise<number> {
  let value = 0;
  for (const piece of pieces) {
    const word = await read(piece.addr);
    value |= ((word >>> piece.shift) & mask(piece.width)) << piece.at;
  }
  return value >>> 0;
}

export async function readRevisionFields(
  fields: RevisionFields,
  read: (addr: number) => Promise<number>,
): Promise<number> {
  const minor = await readPieces(fields.minor, read);
  if (fields.v0WhenAll && (minor & 7) === 0) {
    let all = true;
    for (const f of fields.v0WhenAll)
      all &&= (((await read(f.addr)) >>> f.shift) & mask(f.width)) === f.value;
    if (all) return 0;
  }
  const rawMajor = await readPieces(fields.major, read);
  const major = fields.majorFromRaw ? (fields.majorFromRaw[rawMajor] ?? 0) : rawMajor;
  return major * 100 + minor;
}

function writePieces(pieces: readonly BitPiece[], value: number, regs: Map<number, number>): void {
  for (const piece of pieces) {
    const bits = (value >>> piece.at) & mask(piece.width);
    const old = regs.get(piece.addr) ?? 0;
    regs.set(piece.addr, (old | (bits << piece.shift)) >>> 0);
  }
}

/** Register values that make `readRevisionFields` return `rev` (major*100+minor). */
export function encodeRevisionFields(fields: RevisionFields, rev: number): Map<number, number> {
  const major = Math.floor(rev / 100);
  const minor = rev % 100;
  let rawMajor = major;
  if (fields.majorFromRaw) {
    const found = Object.entries(fields.majorFromRaw).find(([, m]) => m === major);
    if (!found) throw new RangeError(`revision ${rev} cannot be encoded for this chip`);
    rawMajor = Number(found[0]);
  }
  const regs = new Map<number, number>();
  writePieces(fields.major, rawMajor, regs);
  writePieces(fields.minor, minor, regs);
  if (readPiecesSync(fields.major, regs) !== rawMajor || readPiecesSync(fields.minor, regs) !== minor) {
    throw new RangeError(`revision ${rev} does not fit this chip's eFuse fields`);
  }
  return regs;
}

function readPiecesSync(pieces: readonly BitPiece[], regs: ReadonlyMap<number, number>): number {
  let value = 0;
  for (const piece of pieces) {
    value |= (((regs.get(piece.addr) ?? 0) >>> piece.shift) & mask(piece.width)) << piece.at;
  }
  return value >>> 0;
}

/** Flash size nibble shared by every ESP32-family chip (§11.2). */
export const ESP32_FAMILY_FLASH_SIZES: Readonly<Record<string, number>> = {
  '1MB': 0x0,
  '2MB': 0x1,
  '4MB': 0x2,
  '8MB': 0x3,
  '16MB': 0x4,
  '32MB': 0x5,
  '64MB': 0x6,
  '128MB': 0x7,
};

/** Flash frequency nibble of ESP8266/ESP32/S2/S3/C3 (§11.2). */
export const CLASSIC_FLASH_FREQS: Readonly<Record<string, number>> = {
  '80m': 0xf,
  '40m': 0x0,
  '26m': 0x1,
  '20m': 0x2,
};
