/**
 * Bootloader header patching as esptool master does it (esp-protocol.md §11.3): replace the flash mode byte
 * and the size/frequency byte, keep fields set to 'keep', and recompute the appended SHA-256 so the ROM does
 * not print "SHA-256 comparison failed". Only the image written at the chip's bootloader offset is patched;
 * callers decide that with `isBootloaderOffset`.
 */
import type { ChipFacts } from '../esp/chips/index.ts';
import type { FlashSettings } from './flash-settings.ts';
import { flashSizeBytes, headerFieldNames, isFlashMode } from './flash-settings.ts';
import { FLASH_MODE_NAMES, IMAGE_MAGIC, parseFirmwareImage, sha256Hex } from './image-format.ts';

export interface PatchResult {
  /** The image to write: a new array when patched, the input itself when not. */
  data: Uint8Array;
  patched: boolean;
  shaUpdated: boolean;
  /** Why the header was left alone, when it was. */
  skipped?: string;
  /** Header fields of `data` by name, e.g. {mode:'dio', freq:'40m', size:'4MB'}. */
  header?: { mode: string; freq: string; size: string };
}

export function isBootloaderOffset(chip: ChipFacts, offset: number): boolean {
  return offset === chip.bootloaderOffset;
}

/**
 * `settings.size` must be a concrete size or 'keep' here; 'detect' is resolved by the caller from the
 * board's flash id (PreparedFirmware.regionsFor).
 */
export function patchImageHeader(image: Uint8Array, chip: ChipFacts, settings: FlashSettings): PatchResult {
  const extended = chip.imageChipId !== undefined;
  const describe = (data: Uint8Array) => {
    const p = parseFirmwareImage(data, extended);
    return p.ok
      ? headerFieldNames(chip, p.image.flashModeByte, p.image.flashSizeNibble, p.image.flashFreqNibble)
      : undefined;
  };
  if (image.length < 8 || image[0] !== IMAGE_MAGIC)
    return { data: image, patched: false, shaUpdated: false, skipped: 'not an ESP image (no 0xe9 magic)' };
  if (settings.mode === 'keep' && settings.freq === 'keep' && settings.size === 'keep') {
    return {
      data: image,
      patched: false,
      shaUpdated: false,
      skipped: 'flash settings are all keep',
      header: describe(image),
    };
  }
  if (settings.size === 'detect')
    throw new Error("patchImageHeader: resolve flash size 'detect' before patching");
  const parsed = parseFirmwareImage(image, extended);
  if (!parsed.ok || parsed.problems.length > 0) {
    return {
      data: image,
      patched: false,
      shaUpdated: false,
      skipped: `image does not verify: ${parsed.problems[0]}`,
    };
  }
  if (extended && parsed.image.extended?.chipId !== chip.imageChipId) {
    return {
      data: image,
      patched: false,
      shaUpdated: false,
      skipped: `image is for chip id ${parsed.image.extended?.chipId}, not ${chip.displayName}`,
    };
  }
  let mode = image[2];
  let sizeNibble = image[3] >> 4;
  let freqNibble = image[3] & 0x0f;
  if (settings.mode !== 'keep') {
    if (!isFlashMode(settings.mode)) throw new Error(`unknown flash mode ${settings.mode}`);
    mode = FLASH_MODE_NAMES.indexOf(settings.mode);
  }
  if (settings.freq !== 'keep') {
    const n = chip.flashFreq[settings.freq];
    if (n === undefined) throw new Error(`${chip.displayName} has no flash frequency ${settings.freq}`);
    freqNibble = n;
  }
  if (settings.size !== 'keep') {
    const n = chip.flashSize[settings.size];
    if (n === undefined || flashSizeBytes(settings.size) === undefined)
      throw new Error(`${chip.displayName} has no flash size ${settings.size}`);
    sizeNibble = n;
  }
  if (image[2] === mode && image[3] === ((sizeNibble << 4) | freqNibble)) {
    return {
      data: image,
      patched: false,
      shaUpdated: false,
      skipped: 'header already has these settings',
      header: describe(image),
    };
  }
  const out = new Uint8Array(image);
  out[2] = mode;
  out[3] = (sizeNibble << 4) | freqNibble;
  let shaUpdated = false;
  // ESP8266 images have no appended digest; on the ESP32 family byte 23 says whether one follows.
  if (extended && parsed.image.extended?.hashAppended) {
    const len = parsed.image.dataLength;
    out.set(Buffer.from(sha256Hex(out.subarray(0, len)), 'hex'), len);
    shaUpdated = true;
  }
  return { data: out, patched: true, shaUpdated, header: describe(out) };
}
