/**
 * Espressif's flasher stub images (esp-flasher-stub, Apache-2.0 OR MIT), as shipped in esptool-js 0.7.0
 * (lib/targets/stub_flasher/<chip>.json, §6.2). Loaded once per chip and shared by every worker.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ChipFacts } from './chips/chip.ts';

export interface StubSegment {
  addr: number;
  data: Buffer;
}

export interface StubImage {
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

function stubDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('esptool-js')), 'targets', 'stub_flasher');
}

async function load(name: string): Promise<StubImage> {
  const json = JSON.parse(await readFile(join(stubDir(), `${name}.json`), 'utf8')) as StubJson;
  return {
    entry: json.entry,
    text: { addr: json.text_start, data: Buffer.from(json.text, 'base64') },
    data:
      json.data !== undefined && json.data_start !== undefined
        ? { addr: json.data_start, data: Buffer.from(json.data, 'base64') }
        : undefined,
  };
}

export function loadStub(chip: ChipFacts): Promise<StubImage> {
  let p = cache.get(chip.stubName);
  if (!p) {
    p = load(chip.stubName);
    cache.set(chip.stubName, p);
    p.catch(() => cache.delete(chip.stubName));
  }
  return p;
}
