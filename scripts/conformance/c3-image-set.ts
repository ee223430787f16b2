/**
 * An ESP-AT-shaped image set for ESP32-C3, for the conformance run when no real ESP32-C3 ESP-AT release is
 * given (ESP_AT_C3_DIR): the layout of ESP32-C3-MINI-1-AT (bootloader at 0x0, app at 0x60000, 1.74 MB of
 * code-like bytes, so the app ends past 2 MB — where the ROM stops until it is told the flash size) and
 * ESP-AT's own mfg_nvs partition. What the emulated ROM and stub do with it is what a board does: write and hash
 * it; nothing boots it here.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { codeLikeBytes } from '../../src/firmware/demo-image-set.ts';
import { buildFirmwareImage } from '../../src/firmware/image-builder.ts';
import { buildPartitionTable, type PartitionEntry } from '../../src/firmware/partition-table.ts';

const C3_IMAGE_CHIP_ID = 5;
const APP_BYTES = 1_740_000;

function part(label: string, type: number, subtype: number, offset: number, size: number): PartitionEntry {
  return { label, type, subtype, offset, size, encrypted: false, readonly: false };
}

const TABLE: PartitionEntry[] = [
  part('nvs', 0x01, 0x02, 0x9000, 0x5000),
  part('otadata', 0x01, 0x00, 0xe000, 0x2000),
  part('phy_init', 0x01, 0x01, 0x10000, 0x1000),
  part('mfg_nvs', 0x01, 0x02, 0x11000, 0x1c000),
  part('ota_0', 0x00, 0x10, 0x60000, 0x1d0000),
  part('ota_1', 0x00, 0x11, 0x230000, 0x1d0000),
];

/** Writes the set into `dir`; returns its flasher_args.json. `mfgNvs` is ESP-AT's mfg_nvs.bin (any chip's). */
export async function writeC3ImageSet(dir: string, mfgNvs: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const image = (entry: number, segments: { loadAddress: number; data: Uint8Array }[]) =>
    buildFirmwareImage({
      chipId: C3_IMAGE_CHIP_ID,
      flashMode: 2, // dio
      flashSizeNibble: 2, // 4MB
      flashFreqNibble: 0xf, // 80m
      entry,
      hashAppended: true,
      minRevFull: 3,
      maxRevFull: 199,
      segments,
    });
  const files: [number, string, Uint8Array][] = [
    [
      0x0,
      'bootloader.bin',
      image(0x403ce000, [{ loadAddress: 0x3fcd5820, data: codeLikeBytes(20_000, 31) }]),
    ],
    [0x8000, 'partition-table.bin', buildPartitionTable(TABLE)],
    [0xe000, 'ota_data_initial.bin', new Uint8Array(0x2000).fill(0xff)],
    [0x11000, 'mfg_nvs.bin', new Uint8Array(await readFile(mfgNvs))],
    [
      0x60000,
      'esp-at.bin',
      image(0x40380080, [{ loadAddress: 0x3c000020, data: codeLikeBytes(APP_BYTES, 32) }]),
    ],
  ];
  for (const [, name, data] of files) await writeFile(path.join(dir, name), data);
  const flashFiles = Object.fromEntries(files.map(([offset, name]) => [`0x${offset.toString(16)}`, name]));
  const args = {
    write_flash_args: ['--flash_mode', 'dio', '--flash_size', '4MB', '--flash_freq', '80m'],
    flash_settings: { flash_mode: 'dio', flash_size: '4MB', flash_freq: '80m' },
    flash_files: flashFiles,
    extra_esptool_args: { after: 'hard_reset', before: 'default_reset', stub: true, chip: 'esp32c3' },
  };
  const file = path.join(dir, 'flasher_args.json');
  await writeFile(file, `${JSON.stringify(args, null, 2)}\n`);
  return file;
}
