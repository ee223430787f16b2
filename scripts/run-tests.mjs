// Finds every test file and runs them with node's own test runner (Node 20 does not expand quoted globs).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (/\.test\.tsx?$/.test(name)) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = findTests('test')
  .filter((f) => filter.length === 0 || filter.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// The deflate cache is off unless a test turns it on with a temporary directory: no test reads the
// developer's var/deflate-cache or starts zopfli by accident, and every stream is zlib-9 (deterministic).
const env = { ...process.env, ESP_STATION_DEFLATE_CACHE: process.env.ESP_STATION_DEFLATE_CACHE ?? 'off' };
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files],
  { stdio: 'inherit', env },
);
process.exit(r.status ?? 1);
