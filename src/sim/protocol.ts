/**
 * Packet layout of the serial bootloader protocol, from the chip's side (§1.2, §1.3). The simulator keeps its
 * own copy of these numbers on purpose: it must not share code with the flasher it is testing.
 */
export const OP = {
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

/** ROM error byte (§3.1). */
export const ROM_ERR = {
  INVALID_PARAM: 0x01,
  INVALID_MESSAGE: 0x05,
  FAILED: 0x06,
  CHECKSUM: 0x07,
  FLASH_WRITE: 0x08,
  FLASH_READ: 0x09,
  FLASH_READ_LENGTH: 0x0a,
  DEFLATE: 0x0b,
  DEFLATE_ADLER: 0x0c,
  BAD_RAM_SIZE: 0x0e,
  BAD_RAM_ADDR: 0x0f,
} as const;

/** Stub error byte (§3.2), sent first of the two status bytes. */
export const STUB_ERR = {
  BAD_DATA_LEN: 0xc0,
  BAD_DATA_CHECKSUM: 0xc1,
  BAD_BLOCKSIZE: 0xc2,
  INVALID_COMMAND: 0xc3,
  FAILED_SPI_OP: 0xc4,
  NOT_IN_FLASH_MODE: 0xc6,
  INFLATE_ERROR: 0xc7,
  NOT_ENOUGH_DATA: 0xc8,
  TOO_MUCH_DATA: 0xc9,
  CMD_NOT_IMPLEMENTED: 0xff,
} as const;

export const SYNC_PAYLOAD = Buffer.from([0x07, 0x07, 0x12, 0x20, ...new Array<number>(32).fill(0x55)]);

export interface Request {
  op: number;
  checksum: number;
  data: Buffer;
}

/** A host request, or undefined when the frame is not one (wrong direction, short, size mismatch). */
export function parseRequest(frame: Buffer): Request | undefined {
  if (frame.length < 8 || frame[0] !== 0x00) return undefined;
  const size = frame.readUInt16LE(2);
  const data = frame.subarray(8);
  if (data.length !== size) return undefined;
  return { op: frame[1], checksum: frame.readUInt32LE(4), data };
}

export function buildResponse(op: number, value: number, data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + data.length);
  out[0] = 0x01;
  out[1] = op;
  out.writeUInt16LE(data.length, 2);
  out.writeUInt32LE(value >>> 0, 4);
  out.set(data, 8);
  return out;
}

/** XOR checksum with seed 0xEF over the data only (§1.4). */
export function dataChecksum(data: Uint8Array): number {
  let c = 0xef;
  let i = 0;
  // XOR is associative: fold aligned 32-bit words, then the four byte lanes (4× fewer steps for 16 KB blocks).
  if (data.byteOffset % 4 === 0 && data.length >= 64) {
    const words = new Int32Array(data.buffer, data.byteOffset, data.length >>> 2);
    let w = 0;
    for (let k = 0; k < words.length; k++) w ^= words[k];
    c ^= (w & 0xff) ^ ((w >>> 8) & 0xff) ^ ((w >>> 16) & 0xff) ^ ((w >>> 24) & 0xff);
    i = words.length * 4;
  }
  for (; i < data.length; i++) c ^= data[i];
  return c;
}

export function words(data: Buffer, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(data.readUInt32LE(i * 4));
  return out;
}
