/**
 * Turns a profile's image set source (or a --firmware path) into an ImageSet: flasher_args.json,
 * download.config, a release folder holding one of them, an explicit list, one merged image, or the demo set.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../config/problems.ts';
import type { Problem } from '../config/problems.ts';
import type { ImageSetSource } from '../config/profile-schema.ts';
import { readDownloadConfig } from './download-config.ts';
import { readFlasherArgs } from './flasher-args.ts';
import { labelFromFile } from './image-set.ts';
import { singleImageProblem } from './single-image.ts';
import type { ImageSet, SourceLocation } from './image-set.ts';

export async function resolveImageSet(
  source: ImageSetSource,
  opts: { baseDir: string; declaredIn: SourceLocation },
): Promise<ImageSet> {
  const p = (rel: string) => path.resolve(opts.baseDir, rel);
  switch (source.kind) {
    case 'flasherArgs':
      return readFlasherArgs(await declaredFile(p(source.path), opts.declaredIn, 'flasherArgs'));
    case 'downloadConfig':
      return readDownloadConfig(await declaredFile(p(source.path), opts.declaredIn, 'downloadConfig'));
    case 'folder':
      return readReleaseFolder(p(source.path), opts.declaredIn);
    case 'merged': {
      const single = await singleImageProblem(p(source.path));
      if (single) throw new InputError({ ...opts.declaredIn, key: 'imageSet.merged', message: single });
      return {
        kind: 'merged',
        sourceFile: p(source.path),
        settings: {},
        regions: [
          { offset: 0, file: p(source.path), label: 'merged', encrypted: false, declaredAt: opts.declaredIn },
        ],
      };
    }
    case 'files': {
      const regions = source.files.map((f, i) => ({
        offset: f.offset,
        file: p(f.file),
        label: f.label ?? labelFromFile(f.file),
        encrypted: false,
        declaredAt: { ...opts.declaredIn, key: `imageSet.files.${i}` },
      }));
      return {
        kind: 'files',
        sourceFile: opts.declaredIn.file,
        settings: {},
        regions: regions.sort((a, b) => a.offset - b.offset),
      };
    }
    case 'demo': {
      // The demo generator (and its NVS writer) only loads when a profile asks for demo firmware.
      const { ensureDemoImageSet } = await import('./demo-image-set.ts');
      const dir = await ensureDemoImageSet(source.layout);
      return readFlasherArgs(path.join(dir, 'flasher_args.json'));
    }
  }
}

/** A missing image set file is a mistake in the profile: point at the line that names it. */
async function declaredFile(file: string, declaredIn: SourceLocation, key: string): Promise<string> {
  const st = await stat(file).catch(() => undefined);
  if (!st) {
    throw new InputError({
      ...declaredIn,
      key: `imageSet.${key}`,
      message: `${file} not found; fix the path (relative to ${path.basename(declaredIn.file)})`,
    });
  }
  return file;
}

/** A path given on the command line: a flasher_args.json, a download.config, or a release folder. */
export async function imageSetFromPath(target: string): Promise<ImageSet> {
  const abs = path.resolve(target);
  const where: SourceLocation = { file: '<command line>', key: '--firmware' };
  const st = await stat(abs).catch(() => undefined);
  if (!st)
    throw new InputError({
      ...where,
      message: `${target}: not found; give a release folder, a flasher_args.json or a download.config`,
    });
  if (st.isDirectory()) return readReleaseFolder(abs, where);
  if (path.basename(abs) === 'download.config' || abs.endsWith('.config')) return readDownloadConfig(abs);
  if (abs.endsWith('.json')) return readFlasherArgs(abs);
  if (abs.endsWith('.bin')) {
    const single = await singleImageProblem(abs);
    if (single) throw new InputError({ ...where, message: single });
    return {
      kind: 'merged',
      sourceFile: abs,
      settings: {},
      regions: [{ offset: 0, file: abs, label: 'merged', encrypted: false, declaredAt: where }],
    };
  }
  throw new InputError({
    ...where,
    message: `${target}: not a folder, .json, download.config or merged .bin`,
  });
}

/** A release folder as Espressif ships it: flasher_args.json preferred (it names the chip), else download.config. */
export async function readReleaseFolder(dir: string, declaredAt: SourceLocation): Promise<ImageSet> {
  const problems: Problem[] = [];
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new InputError({ ...declaredAt, message: `${dir}: not a folder` });
  for (const name of ['flasher_args.json', 'download.config']) {
    const f = path.join(dir, name);
    if (
      await stat(f)
        .then((s) => s.isFile())
        .catch(() => false)
    ) {
      return name === 'flasher_args.json' ? readFlasherArgs(f) : readDownloadConfig(f);
    }
  }
  problems.push({
    ...declaredAt,
    message: `${dir} holds neither flasher_args.json nor download.config; point at the folder of an ESP-IDF/ESP-AT build`,
  });
  throw new InputError(problems);
}
