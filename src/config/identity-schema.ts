import { z } from 'zod';
import { largestSeq, parseSerialPattern } from '../identity/index.ts';
import type { FixedValue, SerialPattern } from '../identity/index.ts';
import { DATA_ENCODINGS, nameProblem, parseNvsValue } from '../nvs/index.ts';
import type { DataEncoding } from '../nvs/index.ts';

/**
 * The profile's `identity:` section: per-board serials and credentials written into the release's
 * mfg_nvs. Paths are relative to the profile. Every value is checked here, so a mistake is reported at its
 * file:line:column before any board is touched.
 */
const nvsName = (what: string) =>
  z.string().superRefine((v, ctx) => {
    const problem = nameProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: `${what} '${v}' ${problem}` });
  });

const targetShape = { namespace: nvsName('namespace'), key: nvsName('key') };

const serialSchema = z
  .strictObject({
    /** e.g. "{prefix}-{lot}-{seq:06}"; placeholders {prefix} {lot} {seq} {seq:0N} {mac} {mac:N}. */
    pattern: z
      .string()
      .min(1)
      .superRefine((v, ctx) => {
        const parsed = parseSerialPattern(v);
        if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.message });
      })
      .optional(),
    prefix: z.string().optional(),
    start: z.number().int().nonnegative().optional(),
    end: z.number().int().nonnegative().optional(),
    ...targetShape,
  })
  .transform((v, ctx) => {
    // Without a pattern the serials come from a central pool (checked with identity.central below).
    if (v.pattern === undefined) return { ...v, pattern: undefined };
    const parsed = parseSerialPattern(v.pattern);
    if (!parsed.ok) return z.NEVER; // reported on the pattern itself
    const pattern: SerialPattern = parsed.pattern;
    const start = v.start ?? 1;
    const widest = largestSeq(pattern);
    if (v.end !== undefined && v.end < start) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: `end ${v.end} is below start ${start}` });
    } else if (v.end !== undefined && widest !== undefined && v.end > widest) {
      ctx.addIssue({
        code: 'custom',
        path: ['end'],
        message: `end ${v.end} has more digits than {seq:0${pattern.seqWidth}} holds (at most ${widest})`,
      });
    } else if (widest !== undefined && start > widest) {
      ctx.addIssue({
        code: 'custom',
        path: ['start'],
        message: `start ${start} has more digits than {seq:0${pattern.seqWidth}} holds`,
      });
    }
    return { ...v, pattern, prefix: v.prefix ?? '', start };
  });

const isObject = (p: { value: unknown }) => typeof p.value === 'object' && p.value !== null;

const credentialsSchema = z
  .strictObject({
    /** A folder with one sub-folder per bundle; the sub-folder's name is the bundle's id. */
    folder: z.string().min(1).optional(),
    /** Or a CSV manifest: id,<member>,…; paths relative to the manifest. */
    manifest: z.string().min(1).optional(),
    /** Bundle member (file name in a bundle folder, or manifest column) → where it goes in the partition. */
    files: z
      .record(
        z.string(),
        z.strictObject({ ...targetShape, type: z.enum(['blob', 'string']).default('blob') }),
      )
      .superRefine((files, ctx) => {
        const members = Object.keys(files);
        if (members.length === 0) {
          ctx.addIssue({
            code: 'custom',
            message:
              'name at least one bundle file, e.g. client.crt: { namespace: client_cert, key: client_cert.0 }',
          });
        }
        for (const m of members.filter((m) => m.includes('/') || m.includes('\\'))) {
          ctx.addIssue({
            code: 'custom',
            path: [m],
            message: `'${m}' is a path; a member is a file name inside a bundle folder`,
          });
        }
      }),
  })
  .refine((v) => v.folder === undefined || v.manifest === undefined, {
    message: 'say where the bundles are with one of: folder, manifest (not both)',
    when: isObject,
  });

/** Identities leased from a pool in the factory's PostgreSQL (config.yaml central:) instead of local files. */
const centralSchema = z
  .strictObject({
    /** The pool's name, as loaded with `esp-station identity pool load --pool NAME`. */
    pool: z.string().min(1),
    /** Identities a station leases at a time (it keeps them while the database is away). */
    block: z.number().int().min(1).max(100_000).default(50),
    /** Lease the next block when fewer unused ones than this are left (default: half a block). */
    leaseBelow: z.number().int().min(1).optional(),
  })
  .transform((v, ctx) => {
    const leaseBelow = v.leaseBelow ?? Math.max(1, Math.ceil(v.block / 2));
    if (leaseBelow > v.block)
      ctx.addIssue({
        code: 'custom',
        path: ['leaseBelow'],
        message: `leaseBelow ${leaseBelow} is more than a block (${v.block}); the station would lease on every board`,
      });
    return { ...v, leaseBelow };
  });

const fixedSchema = z
  .strictObject({
    ...targetShape,
    type: z.enum(DATA_ENCODINGS as unknown as [DataEncoding, ...DataEncoding[]]),
    value: z.union([z.string(), z.number()]),
  })
  .transform((v, ctx): FixedValue => {
    try {
      return { namespace: v.namespace, key: v.key, value: parseNvsValue(String(v.value), v.type) };
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: (err as Error).message });
      return z.NEVER;
    }
  });

export const IdentitySectionSchema = z
  .strictObject({
    /** The image-set region the identity goes into. */
    partition: z.string().min(1).default('mfg_nvs'),
    /** The allocation journal; default var/identity/<profile name>.jsonl under the working folder. */
    journal: z.string().min(1).optional(),
    /** {lot} in the serial pattern; default the station's lot (config.yaml). */
    lot: z.string().min(1).optional(),
    /** Draw identities from a central pool (PostgreSQL, config.yaml central:) instead of local files. */
    central: centralSchema.optional(),
    serial: serialSchema.optional(),
    credentials: credentialsSchema.optional(),
    set: z.array(fixedSchema).default([]),
    /** Warn on screen when fewer boards than this can still get an identity. */
    lowWater: z.number().int().nonnegative().default(10),
  })
  .refine((v) => v.serial !== undefined || v.credentials !== undefined, {
    message: 'give serial, credentials or both; an identity section without them issues nothing',
    when: isObject,
  })
  // Checked even when other keys have problems, so every mistake is reported in one go.
  .refine(
    (v) =>
      v.central !== undefined ||
      !v.credentials ||
      v.credentials.folder !== undefined ||
      v.credentials.manifest !== undefined,
    {
      path: ['credentials'],
      message:
        'say where the bundles are with one of: folder, manifest (or draw them from a central pool with identity.central)',
      when: isObject,
    },
  )
  .superRefine((v, ctx) => {
    // Where the identities come from: the profile's own files, or the central pool (then none of those).
    if (v.central) {
      for (const k of ['pattern', 'prefix', 'start', 'end'] as const) {
        if (v.serial?.[k] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['serial', k],
            message: `serials come from the central pool ${v.central.pool} (loaded with identity pool load); remove serial.${k}, keep namespace and key`,
          });
      }
      for (const k of ['folder', 'manifest'] as const) {
        if (v.credentials?.[k] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['credentials', k],
            message: `bundles come from the central pool ${v.central.pool} (their files are in the database); remove credentials.${k}, keep files`,
          });
      }
    } else {
      if (v.serial && v.serial.pattern === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['serial', 'pattern'],
          message:
            "give the serial pattern, e.g. '{prefix}-{lot}-{seq:06}' (or draw serials from a central pool with identity.central)",
        });
    }
  })
  .superRefine((v, ctx) => {
    // One writer per key: two settings aimed at the same key would silently overwrite each other.
    const seen = new Map<string, string>();
    const claim = (namespace: string, key: string, by: string, path: PropertyKey[]) => {
      const id = `${namespace}/${key}`;
      const first = seen.get(id);
      if (first)
        ctx.addIssue({
          code: 'custom',
          path,
          message: `${id} is already written by ${first}; give each value its own key`,
        });
      else seen.set(id, by);
    };
    if (v.serial) claim(v.serial.namespace, v.serial.key, 'identity.serial', ['serial', 'key']);
    for (const [member, t] of Object.entries(v.credentials?.files ?? {}))
      claim(t.namespace, t.key, `identity.credentials.files.${member}`, [
        'credentials',
        'files',
        member,
        'key',
      ]);
    v.set.forEach((f, i) => claim(f.namespace, f.key, `identity.set.${i}`, ['set', i, 'key']));
  });

export type IdentitySection = z.output<typeof IdentitySectionSchema>;
