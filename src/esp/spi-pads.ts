/**
 * The SPI_ATTACH argument for the ESP32 ROM (esptool cmds.py `attach_flash`, targets/esp32.py
 * `get_chip_spi_pads`): the ROM's 0 means the default pins, so flash wired elsewhere (in-package flash, eFuse
 * SPI_PAD_CONFIG set) is reached only when its pins are passed, packed `hd<<24 | cs<<18 | d<<12 | q<<6 | clk`.
 */
import type { ChipFacts } from './chips/chip.ts';

export async function romSpiAttachValue(
  chip: ChipFacts,
  read: (addr: number) => Promise<number>,
): Promise<number> {
  const at = chip.spiPadConfig;
  if (!at) return 0;
  const w = await read(at.clkQDCs);
  const clk = w & 0x1f;
  const q = (w >>> 5) & 0x1f;
  const d = (w >>> 10) & 0x1f;
  const cs = (w >>> 15) & 0x1f;
  const hd = ((await read(at.hd)) >>> 4) & 0x1f;
  return ((hd << 24) | (cs << 18) | (d << 12) | (q << 6) | clk) >>> 0;
}
