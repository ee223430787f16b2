/**
 * Request packets of the serial bootloader protocol (§1.2, §2.1): opcodes and payload encoders.
 * Every encoder returns the payload only; `encodeRequest` adds the 8-byte header.
 */
export const Op = {
  FLASH_BEGIN: 0x02,
  FLASH_DATA: 0x03,
  FLASH_END: 0x04,
  MEM_BEGIN: 0x05,
  MEM_END: 0x06,
  MEM_DATA: 0x07,
  SYNC: 0x08,
  WRITE_REG: 0x09,
  READ_REG: 0x0a,
  SPI_SET_PARAMS: 0x0b,
  SPI_ATTACH: 0x0d,
  READ_FLASH_SLOW: 0x0e,
  CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10,
  FLASH_DEFL_DATA: 0x11,
  FLASH_DEFL_END: 0x12,
  SPI_FLASH_MD5: 0x13,
  GET_SECURITY_INFO: 0x14,
  ERASE_FLASH: 0xd0,
  ERASE_REGION: 0xd1,
  READ_FLASH: 0xd2,
  RUN_USER_CODE: 0xd3,
} as const;

export function opName(op: number): string {
  const entry = Object.entries(Op).find(([, v]) => v === op);
  return entry ? entry[0] : `0x${op.toString(16).padStart(2, '0')}`;
}

/** Seed of the 8-bit XOR checksum (§1.4). */
export const CHECKSUM_MAGIC = 0xef;

export function checksum(data: Uint8Array, seed = CHECKSUM_MAGIC): number {
  let c = seed;
  for (const b of data) c ^= b;
  return c;
}

/** Header + payload (before SLIP). */
export function encodeRequest(op: number, payload: Uint8Array = new Uint8Array(0), check = 0): Buffer {
  if (payload.length > 0xffff) throw new RangeError(`payload of ${payload.length} bytes is too long`);
  const out = Buffer.alloc(8 + payload.length);
  out[0] = 0x00;
  out[1] = op;
  out.writeUInt16LE(payload.length, 2);
  out.writeUInt32LE(check >>> 0, 4);
  out.set(payload, 8);
  return out;
}

function words(...values: number[]): Buffer {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeUInt32LE(v >>> 0, i * 4));
  return out;
}

/** SYNC payload: 07 07 12 20 + 32 × 0x55 (the ROM autobauds on the 0x55s). */
export function syncPayload(): Buffer {
  const out = Buffer.alloc(36, 0x55);
  out.set([0x07, 0x07, 0x12, 0x20], 0);
  return out;
}

export function readRegPayload(addr: number): Buffer {
  return words(addr);
}

export interface RegWrite {
  addr: number;
  value: number;
  mask?: number;
  delayUs?: number;
}

export function writeRegPayload(entries: readonly RegWrite[]): Buffer {
  return words(...entries.flatMap((e) => [e.addr, e.value, e.mask ?? 0xffffffff, e.delayUs ?? 0]));
}

/** MEM_BEGIN / FLASH_BEGIN / FLASH_DEFL_BEGIN share this shape; `encrypted` adds the 5th word. */
export function beginPayload(
  size: number,
  numBlocks: number,
  blockSize: number,
  offset: number,
  encrypted?: boolean,
): Buffer {
  return encrypted === undefined
    ? words(size, numBlocks, blockSize, offset)
    : words(size, numBlocks, blockSize, offset, encrypted ? 1 : 0);
}

/** MEM_DATA / FLASH_DATA / FLASH_DEFL_DATA: 16-byte sub-header + data; checksum covers data only. */
export function dataBlockPayload(data: Uint8Array, seq: number): Buffer {
  const out = Buffer.alloc(16 + data.length);
  out.writeUInt32LE(data.length, 0);
  out.writeUInt32LE(seq >>> 0, 4);
  out.set(data, 16);
  return out;
}

export function memEndPayload(entry: number): Buffer {
  // flag 0 = execute `entry`; esptool sends flag 1 when there is no entry.
  return words(entry === 0 ? 1 : 0, entry);
}

/** FLASH_END / FLASH_DEFL_END: flag 0 = reboot, 1 = stay in the loader / run user code. */
export function flashEndPayload(reboot: boolean): Buffer {
  return words(reboot ? 0 : 1);
}

/** SPI_ATTACH: the ROM takes 8 bytes (hspi_arg + is_legacy and padding), stubs 4. */
export function spiAttachPayload(hspiArg: number, toRom: boolean): Buffer {
  return toRom ? words(hspiArg, 0) : words(hspiArg);
}

export function spiSetParamsPayload(totalSize: number): Buffer {
  return words(0, totalSize, 0x10000, 0x1000, 0x100, 0xffff);
}

/** CHANGE_BAUDRATE: second word is 0 for the ROM, the current host baud for a stub. */
export function changeBaudPayload(newBaud: number, oldBaud: number): Buffer {
  return words(newBaud, oldBaud);
}

export function md5Payload(addr: number, size: number): Buffer {
  return words(addr, size, 0, 0);
}

export function readFlashPayload(
  offset: number,
  length: number,
  packetSize: number,
  maxUnacked: number,
): Buffer {
  return words(offset, length, packetSize, maxUnacked);
}

export function readFlashSlowPayload(offset: number, length: number): Buffer {
  return words(offset, length);
}

export function eraseRegionPayload(offset: number, size: number): Buffer {
  return words(offset, size);
}
