/**
 * The flasher stub releases the simulated chip knows how to run, recognised the way a strict model must: by the
 * code the host actually uploaded (entry point and the MD5 of the text segment), never by what the host says.
 * Behaviour per release from esp-flasher-stub's sources (`src/main.c`, `src/command_handler.c`) and
 * their release notes. The simulator keeps these numbers itself: it must not read the flasher's files.
 */
import type { ChipName } from '../esp/chips/chip.ts';

export interface StubBehaviour {
  /** e.g. 'v1.2.2' */
  release: string;
  /**
   * v1.1.0+: before erasing a sector, read it; skip the erase while sectors read blank, and erase everything
   * from the first non-blank sector of a write on (`s_conditional_erase_next`).
   */
  skipsBlankSectors: boolean;
  /**
   * v1.1.0+ on ESP32, ESP32-S2 (and P4): the "UART clock boost" raises the APB clock and re-programs UART0 for
   * the baud the ROM has on record (`stub_lib_uart_rominit_get_baudrate`), whatever divider a ROM
   * CHANGE_BAUDRATE had set. False: the UART stays as the ROM left it.
   */
  reprogramsUartAtStart: boolean;
}

interface ReleaseFacts {
  release: string;
  skipsBlankSectors: boolean;
  /** Chips on which the release re-programs UART0 at start-up. */
  uartClockBoostOn: readonly ChipName[];
  /** Per chip: entry point and MD5 of the text segment (hex). */
  images: Readonly<Partial<Record<ChipName, { entry: number; textMd5: string }>>>;
}

const RELEASES: readonly ReleaseFacts[] = [
  {
    release: 'v1.0.0',
    skipsBlankSectors: false,
    uartClockBoostOn: [],
    images: {
      esp8266: { entry: 0x4010c504, textMd5: 'e96547fce5fce0e8d3c196d4d642a87e' },
      esp32: { entry: 0x400a9074, textMd5: '0a03f4901708f57cc6a3088bf0616f05' },
      esp32s2: { entry: 0x40029144, textMd5: 'a5a88500042ad152caa2931340bb806b' },
      esp32s3: { entry: 0x40379474, textMd5: 'c9895d8c3f9426dc07d804c5c2342333' },
      esp32c2: { entry: 0x4038105c, textMd5: '29d21d82016873e362e8546a0a535098' },
      esp32c3: { entry: 0x40380f2e, textMd5: 'd23aaa17522e4baa898178802f6f3c24' },
      esp32c6: { entry: 0x40801252, textMd5: '14f188e6e6dec3d1e9ae2ea179a39f28' },
      esp32h2: { entry: 0x40800f26, textMd5: '8e73eb6fbba5e852bb8c8f185097c999' },
    },
  },
  {
    release: 'v1.2.2',
    skipsBlankSectors: true,
    uartClockBoostOn: ['esp32', 'esp32s2'],
    images: {
      esp8266: { entry: 0x4010c504, textMd5: '2f1cdc61b44cf29e0e68db789ecfe533' },
      esp32: { entry: 0x400a902c, textMd5: 'd495f63a306a3f0e012700cc1c031cb6' },
      esp32s2: { entry: 0x400290a4, textMd5: '36eda39e870e5733b574dfac65eee213' },
      esp32s3: { entry: 0x40379524, textMd5: '0fadd9942152ec4df1c075c2d00fe8d8' },
      esp32c2: { entry: 0x40380f90, textMd5: '704f8274a22b97485e44613d402f96b4' },
      esp32c3: { entry: 0x40380e9a, textMd5: '4659109a8a116702c5beb0cc5f595fcc' },
      esp32c6: { entry: 0x408011bc, textMd5: 'cd872b2c628598d3bece267b59e87a98' },
      esp32h2: { entry: 0x40800e92, textMd5: '529dcaa46e4c8e3837e0cf239562e1cd' },
    },
  },
];

/** Releases the simulator recognises, oldest first. */
export const KNOWN_STUB_RELEASES: readonly string[] = RELEASES.map((r) => r.release);

/** Entry point and text MD5 of `release` on `chip`, as this table knows them (for tests). */
export function knownStubImage(
  chip: ChipName,
  release: string,
): { entry: number; textMd5: string } | undefined {
  return RELEASES.find((r) => r.release === release)?.images[chip];
}

/** The release whose image for `chip` has this entry point and text MD5; undefined for unknown code. */
export function recogniseStub(chip: ChipName, entry: number, textMd5: string): StubBehaviour | undefined {
  const found = RELEASES.find((r) => {
    const image = r.images[chip];
    return image !== undefined && image.entry === entry >>> 0 && image.textMd5 === textMd5;
  });
  if (!found) return undefined;
  return {
    release: found.release,
    skipsBlankSectors: found.skipsBlankSectors,
    reprogramsUartAtStart: found.uartClockBoostOn.includes(chip),
  };
}
