/**
 * A stand-in for a loader talking to the ESP32 stub, for tests of writeRegion: it records the block commands
 * (`begin SIZE BLOCKS`, `data SEQ`, `end`) and answers the final MD5 with the given digest. `onBlock` runs for
 * each data block and may wait (the block on the wire) or throw (the stub's refusal).
 */
import { CHIPS } from '../../src/esp/chips/index.ts';
import type { EspLoader } from '../../src/esp/loader.ts';

export function fakeStubLoader(options: {
  flashMd5: string;
  onBlock?: (seq: number) => Promise<void> | void;
}): { loader: EspLoader; sent: string[] } {
  const sent: string[] = [];
  const loader = {
    isStub: true,
    isSecureDownloadMode: false,
    chip: CHIPS.esp32,
    flashWriteSize: 0x4000,
    attachFlash: async () => {},
    flashMd5: async () => options.flashMd5,
    flashDeflBegin: async (size: number, blocks: number) => void sent.push(`begin ${size} ${blocks}`),
    flashDeflData: async (_d: Uint8Array, seq: number) => {
      sent.push(`data ${seq}`);
      await options.onBlock?.(seq);
    },
    flashDeflEnd: async () => void sent.push('end'),
  };
  return { loader: loader as unknown as EspLoader, sent };
}
