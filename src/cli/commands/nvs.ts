/**
 * `esp-station nvs decode|generate`: NVS v2 partitions (mfg_nvs.bin) to CSV or JSON and back, byte for byte
 * as Espressif's nvs_partition_gen.py writes them. Exit 0 when done, 2 for bad input (no output file then).
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { COMMAND_LINE, parseCommandArgs } from '../command-args.ts';
import { writeFileAtomically } from '../write-file-atomically.ts';
import { formatByteSize, parseByteSize } from '../../config/byte-size.ts';
import { InputError } from '../../config/problems.ts';
import type { Problem } from '../../config/problems.ts';
import {
  decodedToJson,
  decodePartition,
  entriesOf,
  formatNvsCsv,
  generatePartition,
  loadNvsCsv,
  namespacesOf,
  NvsInputError,
} from '../../nvs/index.ts';
import type { NvsEntry } from '../../nvs/index.ts';

const USAGE = `usage: esp-station nvs decode FILE.bin [--json] [--out DIR]
       esp-station nvs generate INPUT.csv OUT.bin --size SIZE

NVS partitions (format version 2, as ESP-AT's mfg_nvs.bin) to a mfg_nvs.csv and back.
  decode FILE.bin     print the namespaces, keys and values as CSV (key,type,encoding,value); blobs as base64
    --json            print JSON instead (64-bit integers as strings, blobs as base64)
    --out DIR         write DIR/<name>.csv (or .json) and each blob as DIR/<namespace>/<key>.bin instead;
                      \`nvs generate DIR/<name>.csv\` rebuilds the same bytes
  generate INPUT.csv OUT.bin --size SIZE
                      build the partition; file rows are relative to the CSV; SIZE as in the partition
                      table (0x1C000, 112KB, 114688), a multiple of 4 KB, at least 0x3000
Exit 0 when done, 2 for bad input (a decoded partition with CRC problems still prints what it could).`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    {
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        out: { type: 'string' },
        size: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  const [sub, ...args] = positionals;
  const only = (allowed: string[]) => {
    for (const [name, given] of Object.entries({ json: values.json, out: values.out, size: values.size })) {
      if (given !== undefined && !allowed.includes(name))
        throw bad(`--${name} does not apply to \`nvs ${sub}\`\n${USAGE}`);
    }
  };
  if (sub === 'decode') {
    only(['json', 'out']);
    if (args.length !== 1) throw bad(`give one partition file: esp-station nvs decode FILE.bin\n${USAGE}`);
    return decode(args[0], values.json ?? false, values.out);
  }
  if (sub === 'generate') {
    only(['size']);
    if (args.length !== 2)
      throw bad(
        `give the CSV and the output: esp-station nvs generate INPUT.csv OUT.bin --size SIZE\n${USAGE}`,
      );
    return generate(args[0], args[1], values.size);
  }
  throw bad(sub ? `unknown nvs command '${sub}'; use decode or generate\n${USAGE}` : USAGE);
}

async function decode(file: string, json: boolean, outDir: string | undefined): Promise<number> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new InputError({ file, message: `${readFailure(err)}; give the path of an NVS partition (.bin)` });
  }
  const decoded = decodePartition(bytes);
  if (!decoded.pages.some((p) => p.state === 'active' || p.state === 'full')) {
    throw new InputError({
      file,
      message:
        'holds no NVS page (no page header in use); is it an NVS partition? (ESP-AT: customized_partitions/mfg_nvs.bin)',
    });
  }
  let blobFile: ((entry: NvsEntry & { value: { type: 'blob' } }) => string) | undefined;
  const blobs: { rel: string; data: Uint8Array }[] = [];
  if (outDir !== undefined) {
    const taken = new Set<string>();
    blobFile = (entry) => {
      const rel = uniquePath(path.join(safeName(entry.namespace), `${safeName(entry.key)}.bin`), taken);
      blobs.push({ rel, data: entry.value.value });
      return rel.split(path.sep).join('/');
    };
  }
  const text = json
    ? `${JSON.stringify(decodedToJson(decoded, bytes.length, blobFile), null, 2)}\n`
    : formatNvsCsv(decoded.partition, blobFile);
  if (outDir === undefined) {
    process.stdout.write(text);
  } else {
    const listing = path.join(
      outDir,
      `${path.basename(file).replace(/\.bin$/i, '')}.${json ? 'json' : 'csv'}`,
    );
    for (const blob of blobs) {
      const target = path.join(outDir, blob.rel);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFileAtomically(target, blob.data);
    }
    await mkdir(outDir, { recursive: true });
    await writeFileAtomically(listing, text);
    console.log(
      `wrote ${listing} and ${blobs.length} blob file${blobs.length === 1 ? '' : 's'} under ${outDir}`,
    );
  }
  if (decoded.problems.length > 0) {
    throw new InputError(decoded.problems.map((message) => ({ file, message })));
  }
  return 0;
}

async function generate(input: string, output: string, sizeText: string | undefined): Promise<number> {
  if (sizeText === undefined)
    throw bad('give --size SIZE, the partition size from the partition table (e.g. 0x1C000)', '--size');
  const size = parseByteSize(sizeText);
  if (size === undefined)
    throw bad(`'${sizeText}' is not a size; write e.g. 0x6000, 24KB or 24576`, '--size');
  let bytes: Uint8Array;
  let entries: number;
  let namespaces: number;
  try {
    const partition = await loadNvsCsv(input);
    entries = entriesOf(partition).length;
    namespaces = namespacesOf(partition).length;
    bytes = generatePartition(partition, size);
  } catch (err) {
    if (!(err instanceof NvsInputError)) throw err;
    throw new InputError(
      err.problems.map((p): Problem =>
        p.file
          ? { file: p.file, line: p.line, message: p.message }
          : { file: COMMAND_LINE, key: '--size', message: p.message },
      ),
    );
  }
  try {
    await writeFileAtomically(output, bytes);
  } catch (err) {
    throw new InputError({
      file: output,
      message: `${readFailure(err)}; give a path in a folder you can write`,
    });
  }
  console.log(
    `wrote ${output}: ${formatByteSize(size)}, ${namespaces} namespace${namespaces === 1 ? '' : 's'}, ${entries} entr${entries === 1 ? 'y' : 'ies'}`,
  );
  return 0;
}

function bad(message: string, key?: string): InputError {
  return new InputError({ file: COMMAND_LINE, key, message });
}

function readFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'file or folder not found';
  if (code === 'EISDIR') return 'is a folder, not a file';
  if (code === 'EACCES') return 'permission denied';
  return (err as Error).message;
}

/** Keys may hold characters a file name cannot. */
function safeName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return safe.length > 0 ? safe : '_';
}

function uniquePath(rel: string, taken: Set<string>): string {
  let candidate = rel;
  for (let n = 2; taken.has(candidate); n++) candidate = rel.replace(/\.bin$/, `-${n}.bin`);
  taken.add(candidate);
  return candidate;
}
