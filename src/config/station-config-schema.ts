import { z } from 'zod';
import { byteSizeSchema } from './byte-size-schema.ts';

/**
 * config.yaml: this machine's station. Relative paths (profile, ledger dir) are relative to the file.
 * Every object is strict: a typo'd key is an error, never silently ignored.
 */
const vidPidSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$/, "write a USB id as 'vvvv:pppp' in hex, e.g. '10c4:ea60'")
  .transform((s) => ({ vid: Number.parseInt(s.slice(0, 4), 16), pid: Number.parseInt(s.slice(5), 16) }));

const usbPathSchema = z.string().regex(
  // Bus and port numbers as the kernel writes them: from 1, no leading zeros (1-1.01 is no port).
  /^[1-9]\d*-[1-9]\d*(\.[1-9]\d*)*$/,
  "a USB port path looks like '1-1.4.2' (bus-port.port...); see `ls /sys/bus/usb/devices`",
);

const AT_PORT_KEYS = ['interface', 'usbPath', 'url'] as const;

/**
 * Where a slot's AT port (ESP-AT's UART1) is: `{ interface: N }` of the same USB device (a dual bridge's
 * second channel), `{ usbPath: P }` a second bridge on another USB port, `{ url: socket://HOST:PORT }` (ser2net),
 * or `none`. One strict object with optional keys, so a typo gets "unknown key" with the allowed ones.
 */
const atPortSchema = z.preprocess(
  (v) => (v === 'none' || v === false ? { none: true } : v),
  z
    .strictObject({
      interface: z.number().int().min(0).max(15).optional(),
      usbPath: usbPathSchema.optional(),
      url: z
        .string()
        .regex(
          /^socket:\/\/(\[[^\]]+\]|[^:/\s]+):(\d{1,5})\/?$/,
          'write a remote AT port as socket://HOST:PORT (a ser2net port), e.g. socket://10.0.0.7:4003',
        )
        .optional(),
      none: z.literal(true).optional(),
    })
    .superRefine((v, ctx) => {
      const given = [...AT_PORT_KEYS, 'none' as const].filter((k) => v[k] !== undefined);
      if (given.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          message:
            given.length === 0
              ? `say where the AT port is with one of: ${AT_PORT_KEYS.join(', ')} (or none)`
              : `give only one of ${given.join(' and ')}`,
        });
      }
    })
    .transform((v): AtPortRule => {
      if (v.interface !== undefined) return { interface: v.interface };
      if (v.usbPath !== undefined) return { usbPath: v.usbPath };
      if (v.url !== undefined) return { url: v.url };
      return 'none';
    }),
);

/** A slot's AT port as config.yaml says it; `none`: this slot has none (whatever the station-wide rule). */
export type AtPortRule = { interface: number } | { usbPath: string } | { url: string } | 'none';

const slotSchema = z.strictObject({
  name: z.string().min(1, 'a slot needs a name, e.g. A1'),
  /** Physical USB port path as the kernel names it (busnum-port.port...), e.g. 1-1.4.2. */
  usbPath: usbPathSchema,
  /** This slot's AT port; unset: the station-wide `atPort` rule. */
  atPort: atPortSchema.optional(),
});

const ledgerSchema = z.strictObject({
  dir: z.string().min(1).default('var/ledger'),
  rotate: z.enum(['day', 'size']).default('day'),
  /** With rotate: size, start a new file beyond this size. */
  maxSize: byteSizeSchema.optional(),
});

/**
 * The factory's central PostgreSQL (optional): every ledger record is shipped there. The URL names no password;
 * it comes from an environment variable or a file (checked in station-config.ts).
 */
const centralSchema = z.strictObject({
  url: z.string().min(1, 'the database URL, e.g. postgres://station@db.factory.lan:5432/esp_station'),
  passwordEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable, e.g. ESP_STATION_DB_PASSWORD')
    .optional(),
  passwordFile: z.string().min(1, 'the path of a file holding the password').optional(),
  /** How long quitting (and `run --once`) waits for the backlog to reach the database. */
  drainSeconds: z.number().min(0).max(3600).default(30),
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
  central: centralSchema.optional(),
  /** Every slot's AT port unless a slot says otherwise: `{ interface: N }` of its own USB device, or none. */
  atPort: atPortSchema.optional(),
  /**
   * The fixture's shape on the screen: one list per row of the fixture, slot names left to right; `~` (or '')
   * leaves a gap where the fixture has no slot.
   */
  layout: z
    .array(z.array(z.union([z.string(), z.null()])).min(1, 'a layout row needs at least one slot or ~'))
    .min(1, 'a layout needs at least one row')
    .optional(),
});
