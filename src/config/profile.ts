import path from 'node:path';
import { InputError } from './problems.ts';
import type { Problem } from './problems.ts';
import { ProfileFileSchema } from './profile-schema.ts';
import type { ProfileFile } from './profile-schema.ts';
import { parseYamlWithSchema, readYamlFile } from './yaml-document.ts';

/** Where a key of the profile is, for problems found later (image set checks). */
export interface ProfileLocation {
  file: string;
  line?: number;
  column?: number;
  key?: string;
}

/** A station profile after validation: the file's content plus where it came from. */
export type StationProfile = ProfileFile & {
  /** Absolute path of the profile; relative paths inside it are relative to `baseDir`. */
  file: string;
  baseDir: string;
  /** Positions of `imageSet` and `chip`, so image-set problems can point into the profile. */
  declaredAt: {
    imageSet: ProfileLocation;
    chip: ProfileLocation;
    flash: ProfileLocation;
    /** `identity.central` (a central pool needs config.yaml's central: database). */
    identityCentral: ProfileLocation;
    /** Where a key under `test:` is (e.g. ['version', 'binVersion']), or the section itself when not written. */
    test: (...path: (string | number)[]) => ProfileLocation;
  };
};

export async function loadProfile(
  file: string,
  opts: { signal?: AbortSignal } = {},
): Promise<StationProfile> {
  return parseProfile(file, await readYamlFile(file, opts.signal));
}

export function parseProfile(file: string, text: string): StationProfile {
  const { value, locate } = parseYamlWithSchema(file, text, ProfileFileSchema);
  const problems: Problem[] = [];
  if (value.imageSet.kind === 'demo' && !value.demo) {
    problems.push({
      file,
      ...locate(['imageSet', 'demo']),
      key: 'imageSet.demo',
      message:
        'the generated demo image set needs `demo: true` in the profile, so screens and ledger mark it',
    });
  }
  if (value.checks.expectChip && value.checks.expectChip !== value.chip) {
    problems.push({
      file,
      ...locate(['checks', 'expectChip']),
      key: 'checks.expectChip',
      message: `expectChip ${value.checks.expectChip} differs from chip ${value.chip}; the image set is built for one chip`,
    });
  }
  if (value.imageSet.kind === 'files') {
    const seen = new Map<number, number>();
    value.imageSet.files.forEach((f, i) => {
      const j = seen.get(f.offset);
      if (j !== undefined)
        problems.push({
          file,
          ...locate(['imageSet', 'files', i, 'offset']),
          key: `imageSet.files.${i}.offset`,
          message: `offset 0x${f.offset.toString(16)} is also used by imageSet.files.${j}`,
        });
      seen.set(f.offset, i);
    });
  }
  if (problems.length) throw new InputError(problems);
  const abs = path.resolve(file);
  const where = (key: string): ProfileLocation => ({ file: abs, ...locate([key]), key });
  return {
    ...value,
    file: abs,
    baseDir: path.dirname(abs),
    declaredAt: {
      imageSet: where('imageSet'),
      chip: where('chip'),
      flash: where('flash'),
      identityCentral: { file: abs, ...locate(['identity', 'central']), key: 'identity.central' },
      test: (...sub) => {
        // The deepest key actually written: a pin's line, else its step's, else the section's.
        for (let n = sub.length; n >= 0; n--) {
          const at = locate(['test', ...sub.slice(0, n)]);
          if (at.line !== undefined) return { file: abs, ...at, key: ['test', ...sub].join('.') };
        }
        return { file: abs, key: ['test', ...sub].join('.') };
      },
    },
  };
}
