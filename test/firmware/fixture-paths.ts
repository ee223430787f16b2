/** Paths of the real ESP-AT release kept in the repository as a test fixture (see its NOTICE) and temp folders for tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const REAL_AT_DIR = path.join(REPO_ROOT, 'test/fixtures/esp-at/ESP32-WROOM-32-AT-V3.4.0.0');

export async function tempDir(t: TestContext, prefix = 'esp-station-fw-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
