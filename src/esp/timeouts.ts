/** Command timeouts and retry counts (§4, esptool values). All in milliseconds. */
export const TIMEOUTS = {
  default: 3000,
  sync: 100,
  /** The ROM may never answer MEM_END (it jumps to the stub); errors are ignored there. */
  memEndRom: 200,
  memEndStub: 3000,
  ohai: 3000,
  md5PerMb: 8000,
  eraseRegionPerMb: 40000,
  eraseWritePerMb: 40000,
  chipErase: 120000,
  max: 240000,
  readFlashFrame: 3000,
} as const;

export const CONNECT_ATTEMPTS = 7;
export const SYNC_TRIES_PER_RESET = 5;
export const WRITE_BLOCK_ATTEMPTS = 3;

/** esptool `timeout_per_mb`: max(3 s, rate × bytes / 1e6), capped at the 240 s maximum. */
export function timeoutPerMb(msPerMb: number, bytes: number): number {
  return Math.min(TIMEOUTS.max, Math.max(TIMEOUTS.default, (msPerMb * bytes) / 1e6));
}

/**
 * esptool `_get_flash_defl_block_timeout`: for the stub, which inflates into 32 KiB windows while the
 * next block arrives, add (ceil(size/32 KiB)+1) × 64 KiB of erase/write work.
 */
export function deflBlockTimeout(uncompressedBytes: number, stub: boolean): number {
  const size = stub
    ? uncompressedBytes + (Math.ceil(uncompressedBytes / 0x8000) + 1) * 0x10000
    : uncompressedBytes;
  return timeoutPerMb(TIMEOUTS.eraseWritePerMb, size);
}
