/** RDID capacity byte → flash size in bytes (§10.2, esptool DETECTED_FLASH_SIZES). */
const KB = 1024;
const MB = 1024 * KB;

const BY_CAPACITY: Readonly<Record<number, number>> = {
  0x12: 256 * KB,
  0x32: 256 * KB,
  0x13: 512 * KB,
  0x33: 512 * KB,
  0x14: 1 * MB,
  0x34: 1 * MB,
  0x15: 2 * MB,
  0x35: 2 * MB,
  0x16: 4 * MB,
  0x36: 4 * MB,
  0x17: 8 * MB,
  0x37: 8 * MB,
  0x18: 16 * MB,
  0x38: 16 * MB,
  0x19: 32 * MB,
  0x39: 32 * MB,
  0x1a: 64 * MB,
  0x3a: 64 * MB,
  0x20: 64 * MB,
  0x1b: 128 * MB,
  0x21: 128 * MB,
  0x1c: 256 * MB,
  0x22: 256 * MB,
};

/** Adesto (manufacturer 0x1F) encodes the size in the device id's low 5 bits. */
const ADESTO: Readonly<Record<number, number>> = {
  0x04: 512 * KB,
  0x05: 1 * MB,
  0x06: 2 * MB,
  0x07: 4 * MB,
  0x08: 8 * MB,
  0x09: 16 * MB,
};

/** `flashId` as read from W0: byte0 manufacturer, byte1 memory type, byte2 capacity. */
export function flashSizeFromId(flashId: number): number | undefined {
  const manufacturer = flashId & 0xff;
  if (manufacturer === 0x1f) return ADESTO[(flashId >>> 8) & 0x1f];
  return BY_CAPACITY[(flashId >>> 16) & 0xff];
}

/** '4MB', '512KB' — the spelling esptool and flasher_args.json use. */
export function formatFlashSize(bytes: number): string {
  return bytes >= MB ? `${bytes / MB}MB` : `${bytes / KB}KB`;
}

/** Flash ids that mean "no flash answered" (esptool `_verify_flash_connection`). */
export function isBadFlashId(flashId: number): boolean {
  const id = flashId & 0xffffff;
  return id === 0xffffff || id === 0x000000 || id === 0xffff3f;
}
