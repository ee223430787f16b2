/**
 * Copies of the demo image set in a temp folder, broken one way at a time, with a profile pointing at them.
 * Shared by the check tests and the `esp-station check` command tests.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { generateDemoImageSet } from '../../src/firmware/demo-image-set.ts';
import type { DemoLayout } from '../../src/firmware/demo-image-set.ts';
import { tempDir } from './fixture-paths.ts';

export interface DemoCopy {
  dir: string;
  flasherArgs: string;
  /** Writes a profile next to the set and returns its path. */
  profile(extra?: string, opts?: { chip?: string; name?: string }): Promise<string>;
  /** Adds or replaces a "0x…": "file" line in flash_files. */
  addFlashFile(offsetHex: string, file: string, data?: Uint8Array): Promise<void>;
  setFlashFileOffset(fromHex: string, toHex: string): Promise<void>;
}

export async function demoCopy(t: TestContext, layout: DemoLayout = 'esp-at'): Promise<DemoCopy> {
  const root = await tempDir(t, 'esp-station-broken-');
  const dir = path.join(root, 'release');
  const flasherArgs = await generateDemoImageSet(dir, layout);
  const editJson = async (edit: (text: string) => string) =>
    writeFile(flasherArgs, edit(await readFile(flasherArgs, 'utf8')));
  return {
    dir,
    flasherArgs,
    async profile(extra = '', opts = {}) {
      const file = path.join(root, `${opts.name ?? 'profile'}.yaml`);
      await writeFile(
        file,
        `name: ${opts.name ?? 'broken-copy'}\nchip: ${opts.chip ?? 'esp32'}\nimageSet:\n  flasherArgs: release/flasher_args.json\n${extra}`,
      );
      return file;
    },
    async addFlashFile(offsetHex, file, data) {
      if (data) await writeFile(path.join(dir, file), data);
      await editJson((s) =>
        s.replace('"flash_files" : {\n', `"flash_files" : {\n        "${offsetHex}" : "${file}",\n`),
      );
    },
    async setFlashFileOffset(fromHex, toHex) {
      await editJson((s) => s.replace(`"${fromHex}" :`, `"${toHex}" :`));
    },
  };
}

export async function removeFile(dir: string, file: string): Promise<void> {
  await rm(path.join(dir, file));
}
