import { z } from 'zod';
import { CHIP_NAMES } from '../esp/chips/index.ts';
import type { ChipName } from '../esp/chips/index.ts';
import { parseByteSize } from './byte-size.ts';
import { byteSizeSchema } from './byte-size-schema.ts';
import { IdentitySectionSchema } from './identity-schema.ts';
import { TestSectionSchema } from './test-schema.ts';

/**
 * stations/<product>.yaml: one product's recipe, locked down by an engineer. Paths are relative to the
 * profile file. Strict objects everywhere: a typo'd key is an error.
 */
const chipSchema = z.enum(CHIP_NAMES as [ChipName, ...ChipName[]]);

const fileEntrySchema = z.strictObject({
  offset: byteSizeSchema,
  file: z.string().min(1),
  /** Optional label shown in the flash map and the ledger; defaults to the file's base name. */
  label: z.string().min(1).optional(),
});

const SOURCE_KEYS = ['flasherArgs', 'downloadConfig', 'folder', 'files', 'merged', 'demo'] as const;

/**
 * Exactly one way of saying where the images come from. One strict object with optional keys (rather than
 * a union) so a typo gets "unknown key 'flasherArg'; allowed keys: ..." instead of zod's "Invalid input".
 */
export const ImageSetSourceSchema = z
  .strictObject({
    /** An ESP-IDF build's flasher_args.json; file paths inside are relative to it. */
    flasherArgs: z.string().min(1).optional(),
    /** ESP-AT's download.config; file paths inside are relative to it. */
    downloadConfig: z.string().min(1).optional(),
    /** A release folder holding flasher_args.json (preferred) or download.config. */
    folder: z.string().min(1).optional(),
    /** An explicit list of offset -> file. */
    files: z.array(fileEntrySchema).min(1).optional(),
    /** One merged factory image, written at 0x0. */
    merged: z.string().min(1).optional(),
    /** A generated demo set in var/demo-firmware/ (never for production; the profile must say demo: true). */
    demo: z.enum(['esp-at', 'esp-at-legacy']).optional(),
  })
  .superRefine((v, ctx) => {
    const given = SOURCE_KEYS.filter((k) => v[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          given.length === 0
            ? `say where the images come from with one of: ${SOURCE_KEYS.join(', ')}`
            : `give only one image source, not ${given.join(' and ')}`,
      });
    }
  })
  .transform((v): ImageSetSource => {
    if (v.flasherArgs !== undefined) return { kind: 'flasherArgs', path: v.flasherArgs };
    if (v.downloadConfig !== undefined) return { kind: 'downloadConfig', path: v.downloadConfig };
    if (v.folder !== undefined) return { kind: 'folder', path: v.folder };
    if (v.files !== undefined) return { kind: 'files', files: v.files };
    if (v.merged !== undefined) return { kind: 'merged', path: v.merged };
    return { kind: 'demo', layout: v.demo ?? 'esp-at' };
  });

/** Where an image set comes from; paths as written (relative to the profile until resolved). */
export type ImageSetSource =
  | { kind: 'flasherArgs' | 'downloadConfig' | 'folder' | 'merged'; path: string }
  | { kind: 'files'; files: { offset: number; file: string; label?: string }[] }
  | { kind: 'demo'; layout: 'esp-at' | 'esp-at-legacy' };

export const FLASH_MODES = ['qio', 'qout', 'dio', 'dout'] as const;

const flashSchema = z.strictObject({
  /** Unset: take it from the image set (flasher_args.json / download.config), else keep the header's. */
  mode: z.enum([...FLASH_MODES, 'keep']).optional(),
  freq: z
    .string()
    .regex(/^(\d+m|keep)$/, "write a flash frequency like '40m' or '80m', or 'keep'")
    .optional(),
  /** A size (4MB, 0x400000, 4194304; stored as its name, '4MB') or 'detect' or 'keep'. */
  size: z
    .union([z.string(), z.number()])
    .transform((v, ctx) => {
      if (v === 'detect' || v === 'keep') return v;
      const n = parseByteSize(v);
      if (n === undefined || n < 256 * 1024 || n % (256 * 1024) !== 0) {
        ctx.addIssue({
          code: 'custom',
          message: `'${String(v)}' is not a flash size; write e.g. 4MB (or 0x400000), detect or keep`,
        });
        return z.NEVER;
      }
      return n >= 1024 * 1024 ? `${n / (1024 * 1024)}MB` : `${n / 1024}KB`;
    })
    .optional(),
});

const checksSchema = z.strictObject({
  /** The chip the board must report; defaults to the profile's chip. */
  expectChip: chipSchema.optional(),
  /** Refuse boards whose detected flash is smaller. */
  minFlashSize: byteSizeSchema.optional(),
  allowSecureBoot: z.boolean().default(false),
  allowFlashEncryption: z.boolean().default(false),
  /** none: write regions only; region: erase each region (implicit in writes); all: erase the whole chip first. */
  erase: z.enum(['none', 'region', 'all']).default('region'),
});

/**
 * What an ESP-IDF application shows on the download port (UART0) when it boots — the bootloader's own line —
 * and what a crashing one shows; a profile may add its app's first lines (ESP-AT: `at param mode:`).
 */
const DEFAULT_BOOT_EXPECT = ['boot: Loaded app from partition at offset'];
const DEFAULT_BOOT_FORBID = [
  'Guru Meditation Error',
  'abort() was called',
  'Rebooting...',
  'Brownout detector was triggered',
  'invalid header',
  'No bootable app partitions',
];

const bootText = z
  .string()
  .min(1)
  .refine((t) => t.trim() !== 'ready', {
    message:
      "ESP-AT prints 'ready' on its AT port (UART1), never on the download port this check watches; expect the boot log's lines instead (e.g. 'boot: Loaded app from partition at offset', 'at param mode:')",
  });

/** What the download port (UART0) must show after the hard reset: src/station/boot-check.ts. */
const bootCheckSchema = z.strictObject({
  /** Texts (not regexes) that must appear in this order. */
  expect: z.array(bootText).min(1).default(DEFAULT_BOOT_EXPECT),
  /** Texts that fail the board wherever they appear (a panic, a reboot). */
  forbid: z.array(z.string().min(1)).default(DEFAULT_BOOT_FORBID),
  timeoutMs: z.number().int().min(100).max(120_000).default(5000),
  /** After the last expected line, how long to keep watching for a forbidden one. */
  settleMs: z.number().int().min(0).max(60_000).default(500),
});

const retrySchema = z.strictObject({
  /** Retries of one region (write + verify) before giving up on the board at this baud. */
  regionRetries: z.number().int().min(0).max(10).default(2),
  /** Whole-board retries per step of the baud ladder. */
  boardRetriesPerBaud: z.number().int().min(0).max(10).default(1),
});

export const ProfileFileSchema = z.strictObject({
  name: z.string().min(1, 'name the profile, e.g. esp32-wroom-at-v3.4'),
  chip: chipSchema,
  /** Demo firmware: marked on screen and in every ledger record so nobody ships it. */
  demo: z.boolean().default(false),
  imageSet: ImageSetSourceSchema,
  flash: flashSchema.default({}),
  checks: checksSchema.default({ allowSecureBoot: false, allowFlashEncryption: false, erase: 'region' }),
  bootCheck: bootCheckSchema.optional(),
  /** The post-flash test on each board's AT port (config/test-schema.ts); unset: no test. */
  test: TestSectionSchema.optional(),
  retry: retrySchema.default({ regionRetries: 2, boardRetriesPerBaud: 1 }),
  /** false: ROM-only mode (slower, no stub upload). */
  stub: z.boolean().default(true),
  /** Skip a region when the chip's MD5 of it already matches (re-flashing a board that holds this firmware). */
  skipUnchanged: z.boolean().default(false),
  /** Per-board serials and credentials written into the identity partition (mfg_nvs); see docs/identity.md. */
  identity: IdentitySectionSchema.optional(),
});

export type ProfileFile = z.output<typeof ProfileFileSchema>;
