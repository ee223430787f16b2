/**
 * `npm run demo-firmware [-- --out DIR] [--layout esp-at|esp-at-legacy] [--force]`: builds the demo image set
 * (normally built lazily by the demo profile) and prints where it is.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_DEMO_ROOT,
  DEMO_LAYOUTS,
  ensureDemoImageSet,
  generateDemoImageSet,
} from './demo-image-set.ts';
import type { DemoLayout } from './demo-image-set.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    layout: { type: 'string', multiple: true },
    force: { type: 'boolean' },
  },
});
const layouts = (values.layout ?? [...DEMO_LAYOUTS]) as DemoLayout[];
for (const l of layouts) {
  if (!DEMO_LAYOUTS.includes(l)) {
    console.error(`unknown layout '${l}'; use ${DEMO_LAYOUTS.join(' or ')}`);
    process.exit(2);
  }
}
for (const layout of layouts) {
  const started = process.hrtime.bigint();
  const dir = values.force
    ? path.dirname(await generateDemoImageSet(path.join(values.out ?? DEFAULT_DEMO_ROOT, layout), layout))
    : await ensureDemoImageSet(layout, values.out ?? DEFAULT_DEMO_ROOT);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(`${layout}: ${path.join(dir, 'flasher_args.json')} (${ms.toFixed(0)} ms)`);
}
