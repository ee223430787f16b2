#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so `npx esp-station` works right after `npm install`.
import { register } from 'tsx/esm/api';

// `esp-station report | head` closes stdout early: that is the reader's choice, not an error to show.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
