/**
 * The SPI NOR chip's own command set, as far as esptool drives it through the SPI USR registers (§10.1):
 * RDID, SFDP, status reads/writes, reset, power-down/release. Anything else is accepted and ignored.
 */
export interface SpiFlashIdentity {
  /** JEDEC id as read by RDID, little-endian in W0: manufacturer | type << 8 | capacity << 16. */
  jedecId: number;
  /** Status registers 1..3 (0x05 / 0x35 / 0x15). */
  status: [number, number, number];
  /** Software resets done: RST (0x99) counts only right after RSTEN (0x66), as on the chip. */
  softResets?: number;
  /** RSTEN was the last command. */
  resetEnabled?: boolean;
}

/** 'SFDP' signature (first SFDP dword, little-endian), then a header: rev 1.6, one parameter header. */
const SFDP_HEADER = [0x50444653, 0xff000106, 0x0100ff00, 0xff000080];

/** Result for W0, or undefined when the command returns no data. */
export function runSpiFlashCommand(flash: SpiFlashIdentity, cmd: number, addr: number): number | undefined {
  const resetEnabled = flash.resetEnabled === true;
  flash.resetEnabled = cmd === 0x66;
  switch (cmd) {
    case 0x99:
      if (resetEnabled) flash.softResets = (flash.softResets ?? 0) + 1;
      return undefined;
    case 0x9f:
      return flash.jedecId >>> 0;
    case 0x5a:
      return SFDP_HEADER[(addr >>> 2) & 3] >>> 0;
    case 0x05:
      return flash.status[0];
    case 0x35:
      return flash.status[1];
    case 0x15:
      return flash.status[2];
    case 0x01:
      // Write status register 1 (and 2): only bits a host may change; the chip keeps the rest.
      flash.status[0] = addr & 0xfc;
      return undefined;
    case 0xab:
      // Release from deep power-down also returns the device id.
      return (flash.jedecId >>> 16) & 0xff;
    default:
      // 0x06 WREN, 0x04 WRDI, 0x66 reset enable, 0xB9 power-down, 0x79, 0xFF: no data.
      return undefined;
  }
}

/** Default JEDEC id for a flash size: Winbond W25Q-class (0xEF, type 0x40, capacity = log2(bytes)). */
export function defaultJedecId(flashSize: number): number {
  const capacity = Math.round(Math.log2(flashSize));
  return (0xef | (0x40 << 8) | (capacity << 16)) >>> 0;
}
