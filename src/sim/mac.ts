import type { MacLayout } from '../esp/chips/chip.ts';

/** Parse 'AA:BB:CC:DD:EE:FF' (or with '-'); throws on anything else. */
export function parseMac(text: string): Uint8Array {
  const parts = text.trim().split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new Error(`'${text}' is not a MAC address; write it as AA:BB:CC:DD:EE:FF`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** CRC-8 (poly 0x31, reflected: Dallas/Maxim) that the ESP32 stores next to the factory MAC. */
function crc8(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0x8c : crc >>> 1;
  }
  return crc;
}

/** eFuse/OTP register words holding `mac`, in the order of ChipFacts.macRegisters (§9.1). */
export function macRegisterWords(layout: MacLayout, mac: Uint8Array): number[] {
  const low = ((mac[2] << 24) | (mac[3] << 16) | (mac[4] << 8) | mac[5]) >>> 0;
  switch (layout) {
    case 'esp32':
      return [low, ((crc8(mac) << 16) | (mac[0] << 8) | mac[1]) >>> 0];
    case 'standard':
      return [low, ((mac[0] << 8) | mac[1]) >>> 0];
    case 'esp8266':
      // MAC0 bits 31:24 = mac[5]; MAC1 bits 15:0 = mac[3..4], bits 23:16 = 0; MAC3 = OUI.
      return [(mac[5] << 24) >>> 0, (mac[3] << 8) | mac[4], (mac[0] << 16) | (mac[1] << 8) | mac[2]];
  }
}
