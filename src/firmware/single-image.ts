/**
 * A merged image (esptool merge_bin) is the whole flash from 0x0: bootloader, partition table, apps. A single
 * ESP-IDF image (an application such as esp-at.bin, or a bootloader) given where a merged image is expected
 * would be written at 0x0 over the bootloader and the board would never boot: recognise it and say what to give.
 */
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { IMAGE_MAGIC } from './image-format.ts';

/** esp_app_desc_t.magic_word, at the start of an application's first segment (after 24 + 8 header bytes). */
const APP_DESC_MAGIC = 0xabcd5432;
const APP_DESC_AT = 0x20;
/** A merged image holds a partition table (magic AA 50) on a 4 KB boundary, at 0x8000 unless moved. */
const PARTITION_TABLE_SEARCH = 0x10000;

/** Why `file` is not a merged image and what to give instead, or undefined when it may be one. */
export async function singleImageProblem(file: string): Promise<string | undefined> {
  const head = Buffer.alloc(PARTITION_TABLE_SEARCH);
  const h = await open(file, 'r').catch(() => undefined);
  if (!h) return undefined; // the image checks report a missing file
  let n: number;
  try {
    ({ bytesRead: n } = await h.read(head, 0, head.length, 0));
  } finally {
    await h.close();
  }
  if (n < 0x30 || head[0] !== IMAGE_MAGIC) return undefined;
  let hasTable = false;
  for (let at = 0x1000; at + 1 < n; at += 0x1000) hasTable ||= head[at] === 0xaa && head[at + 1] === 0x50;
  if (hasTable) return undefined;
  const name = path.basename(file);
  const release = await releaseBeside(file);
  const instead = release
    ? `give the release folder instead (--firmware ${release}), which names every image and its offset`
    : 'give the release folder or its flasher_args.json instead, or write it at its partition offset as OFFSET=PATH (e.g. 0x10000=' +
      name +
      ')';
  if (head.readUInt32LE(APP_DESC_AT) === APP_DESC_MAGIC) {
    const version = cString(head, 0x30, 32);
    const project = cString(head, 0x50, 32);
    const what = [project, version].filter(Boolean).join(' ');
    return `${name} is an application image${what ? ` (${what})` : ''}, not a merged image of the whole flash: written at 0x0 it would overwrite the bootloader; ${instead}`;
  }
  return `${name} is a single image (a bootloader?), not a merged image of the whole flash (no partition table in its first 64 KB); ${instead}`;
}

function cString(b: Buffer, at: number, max: number): string {
  const end = b.indexOf(0, at);
  return b
    .subarray(at, end < 0 || end > at + max ? at + max : end)
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, '');
}

/** The folder holding flasher_args.json or download.config, the image's own folder or its parent. */
async function releaseBeside(file: string): Promise<string | undefined> {
  for (let dir = path.dirname(path.resolve(file)), i = 0; i < 2; i++, dir = path.dirname(dir)) {
    const names = await readdir(dir).catch(() => [] as string[]);
    if (names.includes('flasher_args.json') || names.includes('download.config')) {
      return path.relative(process.cwd(), dir) || '.';
    }
  }
  return undefined;
}
