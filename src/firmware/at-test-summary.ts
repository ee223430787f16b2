/** The post-flash test of a recipe in one line per step, for `esp-station check` (what each board must answer). */
import type { AtTestSetup } from './at-test-plan.ts';

const s = (ms: number): string => `${ms / 1000} s`;

export function formatAtTest(setup: AtTestSetup | undefined, testSection: boolean): string {
  if (!setup)
    return `AT test:   ${testSection ? 'not worked out (see the problems below)' : 'none (no test: section)'}`;
  const p = setup.plan;
  const steps = [
    p.ready && `'ready' within ${s(p.ready.timeoutMs)} at ${p.baud} baud`,
    p.echoOff && 'ATE0',
    p.at && 'AT',
    p.version &&
      `AT+GMR Bin version ${p.version.binVersion}${p.version.moduleName ? `(${p.version.moduleName})` : ''}${p.version.sdkVersion ? `, SDK ${p.version.sdkVersion}` : ''}`,
    p.mac && 'AT+CIPSTAMAC? = the MAC flashed',
    p.mfg && `AT+SYSMFG? lists ${p.mfg.namespaces.length} namespaces`,
    p.mfgRead && `${p.mfgRead.values.length} mfg_nvs value(s) read back`,
    p.wifiScan &&
      `AT+CWLAP finds '${p.wifiScan.ssid}'${p.wifiScan.minRssi !== undefined ? ` at ${p.wifiScan.minRssi} dBm or better` : ''}`,
  ].filter(Boolean);
  return [
    `AT test:   ${steps.join(' → ')}`,
    `           a slot without an AT port ${setup.requireAtPort ? 'fails its boards (at-no-channel)' : 'skips it (the boot check stands alone)'}`,
  ].join('\n');
}
