import { createHash } from 'node:crypto';

/** MD5 of some bytes as lowercase hex, as the chip reports a region (SPI_FLASH_MD5) and the ledger records it. */
export function md5hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}
