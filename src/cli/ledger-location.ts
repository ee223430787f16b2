/**
 * Where the report reads the ledger when --ledger is not given: the `ledger.dir` of the station config
 * (--config, else ./config.yaml when present), else var/ledger — the same default the station writes to.
 */
import { existsSync } from 'node:fs';
import { loadStationConfig } from '../config/station-config.ts';

export const FALLBACK_LEDGER_DIR = 'var/ledger';

export async function defaultLedgerLocation(configFile?: string): Promise<{ path: string; from: string }> {
  const file = configFile ?? (existsSync('config.yaml') ? 'config.yaml' : undefined);
  if (file === undefined) return { path: FALLBACK_LEDGER_DIR, from: 'default' };
  const config = await loadStationConfig(file);
  return { path: config.ledger.dir, from: file };
}
