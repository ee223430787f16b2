/**
 * Espressif's flasher stub images (esp-flasher-stub, Apache-2.0 OR MIT), pinned in this repository under
 * ./stubs/esp-flasher-stub-<release>/<chip>.json (§6.2; attribution and MD5SUMS live there). Nothing outside
 * the repository decides what code runs on the chip. Loaded once per release and chip, shared by every worker.
 */
import { readFile } from 'node:fs/promises';
import type { ChipFacts } from './chips/chip.ts';

/** Releases kept in ./stubs. */
export const STUB_RELEASES = ['v1.2.2', 'v1.0.0'] as const;
export type StubRelease = (typeof STUB_RELEASES)[number];

/**
 * The release uploaded unless asked otherwise: it skips erasing blank sectors (fresh boards flash faster).
 * It re-programs UART0 at start-up on ESP32/S2/P4, so it is uploaded at the ROM's baud (see EspLoader.runStub).
 */
export const DEFAULT_STUB_RELEASE: StubRelease = 'v1.2.2';

export interface StubSegment {
  addr: number;
  data: Buffer;
}

export interface StubImage {
  release: StubRelease;
  entry: number;
  text: StubSegment;
  data?: StubSegment;
}

interface StubJson {
  entry: number;
  text: string;
  text_start: number;
  data?: string;
  data_start?: number;
}

const cache = new Map<string, Promise<StubImage>>();

/** The JSON file of `chip`'s stub in `release` (a file URL inside this repository). */
export function stubFile(chip: Pick<ChipFacts, 'stubName'>, release: StubRelease): URL {
  return new URL(`./stubs/esp-flasher-stub-${release}/${chip.stubName}.json`, import.meta.url);
}

async function load(chip: ChipFacts, release: StubRelease): Promise<StubImage> {
  const json = JSON.parse(await readFile(stubFile(chip, release), 'utf8')) as StubJson;
  return {
    release,
    entry: json.entry,
    text: { addr: json.text_start, data: Buffer.from(json.text, 'base64') },
    data:
      json.data !== undefined && json.data_start !== undefined
        ? { addr: json.data_start, data: Buffer.from(json.data, 'base64') }
        : undefined,
  };
}

export function loadStub(chip: ChipFacts, release: StubRelease = DEFAULT_STUB_RELEASE): Promise<StubImage> {
  const key = `${release}/${chip.stubName}`;
  let p = cache.get(key);
  if (!p) {
    p = load(chip, release);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}
