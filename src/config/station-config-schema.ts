import { z } from 'zod';
import { byteSizeSchema } from './byte-size.ts';

/**
 * config.yaml: this machine's station. Relative paths (profile, ledger dir) are relative to the file.
 * Every object is strict: a typo'd key is an error, never silently ignored.
 */
const vidPidSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$/, "write a USB id as 'vvvv:pppp' in hex, e.g. '10c4:ea60'")
  .transform((s) => ({ vid: Number.parseInt(s.slice(0, 4), 16), pid: Number.parseInt(s.slice(5), 16) }));

const slotSchema = z.strictObject({
  name: z.string().min(1, 'a slot needs a name, e.g. A1'),
  /** Physical USB port path as the kernel names it (busnum-port.port...), e.g. 1-1.4.2. */
  usbPath: z
    .string()
    .regex(
      /^\d+-\d+(\.\d+)*$/,
      "a USB port path looks like '1-1.4.2' (bus-port.port...); see `ls /sys/bus/usb/devices`",
    ),
});

const ledgerSchema = z.strictObject({
  dir: z.string().min(1).default('var/ledger'),
  rotate: z.enum(['day', 'size']).default('day'),
  /** With rotate: size, start a new file beyond this size. */
  maxSize: byteSizeSchema.optional(),
});

/** Lot numbers and operator badges are often all digits; YAML reads those as numbers. */
const textSchema = z.union([z.string(), z.number()]).transform(String);

export const BAUD_RATES = [115200, 230400, 460800, 921600, 1500000, 2000000] as const;

export const StationConfigFileSchema = z.strictObject({
  station: z.string().min(1, 'give the station a name, e.g. line-1-station-3'),
  profile: z.string().min(1, 'the path of a station profile, e.g. stations/demo-esp32-at.yaml'),
  portFilters: z.array(vidPidSchema).min(1).optional(),
  slots: z.array(slotSchema).default([]),
  concurrency: z.number().int().min(1).max(256).optional(),
  baudLadder: z.array(z.literal(BAUD_RATES)).min(1).default([921600, 460800, 115200]),
  ledger: ledgerSchema.default({ dir: 'var/ledger', rotate: 'day' }),
  operator: textSchema.default(''),
  lot: textSchema.default(''),
  offerPresentAtStart: z.boolean().default(true),
  detection: z.enum(['auto', 'hotplug', 'polling']).default('auto'),
  /**
   * The fixture's shape on the screen: one list per row of the fixture, slot names left to right; `~` (or '')
   * leaves a gap where the fixture has no slot.
   */
  layout: z
    .array(z.array(z.union([z.string(), z.null()])).min(1, 'a layout row needs at least one slot or ~'))
    .min(1, 'a layout needs at least one row')
    .optional(),
});
