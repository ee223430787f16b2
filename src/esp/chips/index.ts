import type { ChipFacts, ChipName } from './chip.ts';
import { esp8266 } from './esp8266.ts';
import { esp32 } from './esp32.ts';
import { esp32s2 } from './esp32s2.ts';
import { esp32s3 } from './esp32s3.ts';
import { esp32c2 } from './esp32c2.ts';
import { esp32c3 } from './esp32c3.ts';
import { esp32c6 } from './esp32c6.ts';
import { esp32h2 } from './esp32h2.ts';

export type { ChipFacts, ChipName } from './chip.ts';

export const CHIPS: Readonly<Record<ChipName, ChipFacts>> = {
  esp8266,
  esp32,
  esp32s2,
  esp32s3,
  esp32c2,
  esp32c3,
  esp32c6,
  esp32h2,
};

export const CHIP_NAMES = Object.keys(CHIPS) as ChipName[];

export function isChipName(name: string): name is ChipName {
  return Object.hasOwn(CHIPS, name);
}

/** Accepts 'esp32s3', 'ESP32-S3', 'esp32-s3'; undefined when the name is not a supported chip. */
export function chipByName(name: string): ChipFacts | undefined {
  const key = name.toLowerCase().replace(/[-_\s]/g, '');
  return isChipName(key) ? CHIPS[key] : undefined;
}

/** Chip whose READ_REG 0x40001000 magic is `value` (§8.2). */
export function chipByMagic(value: number): ChipFacts | undefined {
  const v = value >>> 0;
  return CHIP_NAMES.map((n) => CHIPS[n]).find((c) => c.magicValues.includes(v));
}

/** Chip whose IMAGE_CHIP_ID (image header / GET_SECURITY_INFO) is `id` (§8.2). */
export function chipByImageChipId(id: number): ChipFacts | undefined {
  return CHIP_NAMES.map((n) => CHIPS[n]).find((c) => c.imageChipId === id);
}
