import type { MacLayout } from './chips/chip.ts';

/** Formats 6 bytes as AA:BB:CC:DD:EE:FF (upper case). */
export function formatMac(bytes: readonly number[]): string {
  return bytes.map((b) => (b & 0xff).toString(16).toUpperCase().padStart(2, '0')).join(':');
}

/**
 * Assembles the base MAC from the eFuse / OTP words read at `ChipFacts.macRegisters` (§9.1),
 * in the same order as those registers.
 */
export function assembleMac(layout: MacLayout, words: readonly number[]): string {
  const need = layout === 'esp8266' ? 3 : 2;
  if (words.length !== need) {
    throw new RangeError(`MAC layout ${layout} needs ${need} register words, got ${words.length}`);
  }
  switch (layout) {
    case 'esp32': {
      // Registers are [word1, word2]; the big-endian pack (word2, word1) starts with 2 CRC bytes.
      const [w1, w2] = words.map((w) => w >>> 0);
      return formatMac([w2 >>> 8, w2, w1 >>> 24, w1 >>> 16, w1 >>> 8, w1]);
    }
    case 'standard': {
      const [mac0, mac1] = words.map((w) => w >>> 0);
      return formatMac([mac1 >>> 8, mac1, mac0 >>> 24, mac0 >>> 16, mac0 >>> 8, mac0]);
    }
    case 'esp8266': {
      const [mac0, mac1, mac3] = words.map((w) => w >>> 0);
      let oui: number[];
      if (mac3 !== 0) {
        oui = [mac3 >>> 16, mac3 >>> 8, mac3];
      } else if (((mac1 >>> 16) & 0xff) === 0) {
        oui = [0x18, 0xfe, 0x34];
      } else if (((mac1 >>> 16) & 0xff) === 1) {
        oui = [0xac, 0xd0, 0x74];
      } else {
        // esptool raises "Unknown OUI" here; a board with such OTP content has no usable identity.
        throw new RangeError('ESP8266 OTP holds an unknown OUI; cannot determine the MAC');
      }
      return formatMac([...oui, mac1 >>> 8, mac1, mac0 >>> 24]);
    }
  }
}

/**
 * The inverse of `assembleMac`: register words (in `macRegisters` order) that hold `mac`.
 * The simulated chip uses it to burn a board's eFuses; CRC / unused bits are left 0.
 */
export function macToRegisterWords(layout: MacLayout, mac: string): number[] {
  const b = parseMac(mac);
  switch (layout) {
    case 'esp32':
      return [((b[2] << 24) | (b[3] << 16) | (b[4] << 8) | b[5]) >>> 0, (b[0] << 8) | b[1]];
    case 'standard':
      return [((b[2] << 24) | (b[3] << 16) | (b[4] << 8) | b[5]) >>> 0, (b[0] << 8) | b[1]];
    case 'esp8266': {
      const mac0 = (b[5] << 24) >>> 0;
      const mac1 = (b[3] << 8) | b[4];
      const mac3 = (b[0] << 16) | (b[1] << 8) | b[2];
      return [mac0, mac1, mac3];
    }
  }
}

/** Parses AA:BB:CC:DD:EE:FF (or with '-' separators) into 6 bytes. */
export function parseMac(mac: string): number[] {
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new RangeError(`not a MAC address: ${mac}`);
  }
  return parts.map((p) => parseInt(p, 16));
}
