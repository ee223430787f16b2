/**
 * The profile's `test:` section: the post-flash test on each board's AT port (src/board-test). Every step is
 * optional and has its own time limit; `false` (or `enabled: false`) turns a step off. Unset values come from
 * the image set (firmware version, module name, the AT port's baud from factory_param); a value written here
 * pins it, and `esp-station check` says when a pin disagrees with the image set.
 */
import { z } from 'zod';

const timeout = (ms: number) => z.number().int().min(50).max(300_000).default(ms);

/** A step is an object of settings, or `false` for off; `{ enabled: false }` says the same. */
function step<S extends z.ZodRawShape>(shape: S) {
  return z.preprocess(
    (v) => (v === false ? { enabled: false } : v === true ? {} : v),
    z.strictObject({ enabled: z.boolean().default(true), ...shape }),
  );
}

const pinned = z.string().min(1).max(64);

/** `namespace/key` of an mfg_nvs value, e.g. factory_param/module_name. */
const mfgKey = z
  .string()
  .regex(
    /^[^/\s]{1,15}\/[^/\s]{1,15}$/,
    'write an mfg_nvs value as namespace/key (each at most 15 characters), e.g. factory_param/module_name',
  )
  .transform((s) => {
    const [namespace, key] = s.split('/');
    return { namespace, key };
  });

export const TestSectionSchema = z.strictObject({
  /** true: a board in a slot without an AT port fails (at-no-channel); false: the UART0 boot check stands alone. */
  requireAtPort: z.boolean().default(false),
  /** The AT port's rate; unset: factory_param's uart_baudrate in the image set's mfg_nvs. */
  baud: z.number().int().min(300).max(5_000_000).optional(),
  ready: step({
    timeoutMs: timeout(10_000),
    graceMs: z.number().int().min(0).max(300_000).default(5_000),
  }).prefault({}),
  echoOff: step({ timeoutMs: timeout(1_000) }).prefault({}),
  at: step({ timeoutMs: timeout(1_000) }).prefault({}),
  version: step({
    timeoutMs: timeout(2_000),
    binVersion: pinned.optional(),
    moduleName: pinned.optional(),
    sdkVersion: pinned.optional(),
  }).prefault({}),
  mac: step({ timeoutMs: timeout(1_000) }).prefault({}),
  mfg: step({ timeoutMs: timeout(2_000) }).prefault({}),
  mfgRead: step({ timeoutMs: timeout(2_000), keys: z.array(mfgKey).min(1) }).optional(),
  wifiScan: step({
    timeoutMs: timeout(15_000),
    ssid: z.string().min(1).max(32),
    minRssi: z.number().int().min(-110).max(0).optional(),
  }).optional(),
});

export type TestSection = z.output<typeof TestSectionSchema>;
