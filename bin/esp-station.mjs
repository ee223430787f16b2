#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so `npx esp-station` works right after `npm install`.
import { register } from 'tsx/esm/api';

register();
// A closed stdout/stderr or a hang-up is a stop request to the command, never a silent exit 0.
const { installStopRequests } = await import('../src/cli/stop-requests.ts');
installStopRequests();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
