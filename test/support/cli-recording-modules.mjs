// bin/esp-station.mjs with one addition: every module the command resolves is listed in the file named by
// RECORD_MODULES_FILE. tsx is registered first, so the recording hook (registered last, run first) sees the
// final URL of each module.
import { register as registerModuleHook } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
registerModuleHook('./record-modules-hook.mjs', import.meta.url, {
  data: { file: process.env.RECORD_MODULES_FILE },
});
const { main } = await import('../../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
