/**
 * The post-flash test for one recipe: the profile's `test:` section (steps, limits, pins) completed from what the
 * image set says (AtRelease). A value the profile pins wins, but a pin that contradicts the image set is a
 * problem: every board would fail, so `esp-station check` says so before the first one.
 */
import { expectedMfgValue } from '../board-test/mfg-values.ts';
import type { BoardTestPlan, ExpectedMfgValue } from '../board-test/plan.ts';
import type { ProfileLocation } from '../config/profile.ts';
import type { Problem } from '../config/problems.ts';
import type { TestSection } from '../config/test-schema.ts';
import { findEntry } from '../nvs/index.ts';
import { mfgNamespaces, type AtRelease } from './at-release.ts';

export interface AtTestSetup {
  plan: BoardTestPlan;
  /** A slot without an AT port fails its boards (at-no-channel) instead of skipping the test. */
  requireAtPort: boolean;
}

type Locate = (...path: (string | number)[]) => ProfileLocation;

export function atTestSetup(
  section: TestSection,
  release: AtRelease,
  at: Locate,
): { setup?: AtTestSetup; problems: Problem[] } {
  const problems: Problem[] = [...release.problems];
  const problem = (where: ProfileLocation, message: string) => problems.push({ ...where, message });
  const mfg = release.mfg?.partition;
  const mfgFile = release.mfg?.region.file;

  const baud = section.baud ?? release.factory.baud;
  if (baud === undefined) {
    problem(
      at('baud'),
      "the image set has no factory_param uart_baudrate (no mfg_nvs), so the AT port's rate is unknown; pin it with test.baud (ESP-AT's default is 115200)",
    );
  } else if (
    section.baud !== undefined &&
    release.factory.baud !== undefined &&
    section.baud !== release.factory.baud
  ) {
    problem(
      at('baud'),
      `test.baud ${section.baud} contradicts the image set's factory_param uart_baudrate ${release.factory.baud} (${mfgFile}); the firmware will talk at ${release.factory.baud}: remove the pin`,
    );
  }
  if (release.factory.uartPort !== undefined && release.factory.uartPort !== 1) {
    problem(
      at(),
      `the image set's factory_param puts the AT commands on UART${release.factory.uartPort} (${mfgFile}); the test talks to the AT port on UART1 (a second channel), so it cannot test this firmware: remove the test: section or use a release with uart_port 1`,
    );
  }

  const plan: BoardTestPlan = { baud: baud ?? 115200 };
  if (section.ready.enabled)
    plan.ready = { timeoutMs: section.ready.timeoutMs, graceMs: section.ready.graceMs };
  if (section.echoOff.enabled) plan.echoOff = { timeoutMs: section.echoOff.timeoutMs };
  if (section.at.enabled) plan.at = { timeoutMs: section.at.timeoutMs };

  const v = section.version;
  if (v.enabled) {
    const fromSet = release.binVersion?.value;
    const binVersion = v.binVersion ?? fromSet;
    if (binVersion === undefined) {
      problem(
        at('version'),
        'cannot tell which firmware version the boards must report: the image set has no sdkconfig with CONFIG_ESP_AT_FW_VERSION next to it; pin test.version.binVersion (e.g. v3.4.0.0) or turn the step off (version: false)',
      );
    } else if (v.binVersion !== undefined && fromSet !== undefined && v.binVersion !== fromSet) {
      problem(
        at('version', 'binVersion'),
        `test.version.binVersion pins ${v.binVersion}, but the image set is ${fromSet} (${release.binVersion!.file}:${release.binVersion!.line}): every board would fail at-version-mismatch; flash the release the pin names, or fix the pin`,
      );
    }
    const moduleName = v.moduleName ?? release.factory.moduleName;
    if (
      v.moduleName !== undefined &&
      release.factory.moduleName !== undefined &&
      v.moduleName !== release.factory.moduleName
    ) {
      problem(
        at('version', 'moduleName'),
        `test.version.moduleName pins ${v.moduleName}, but the image set's factory_param says ${release.factory.moduleName} (${mfgFile}); fix the pin or the mfg_nvs`,
      );
    }
    const sdkVersion = v.sdkVersion ?? release.sdkVersion;
    if (
      v.sdkVersion !== undefined &&
      release.sdkVersion !== undefined &&
      v.sdkVersion !== release.sdkVersion
    ) {
      problem(
        at('version', 'sdkVersion'),
        `test.version.sdkVersion pins ${v.sdkVersion}, but the app was built with ESP-IDF ${release.sdkVersion}; fix the pin`,
      );
    }
    plan.version = {
      timeoutMs: v.timeoutMs,
      binVersion: binVersion ?? '',
      ...(moduleName !== undefined && { moduleName }),
      ...(sdkVersion !== undefined && { sdkVersion }),
    };
  }

  if (section.mac.enabled) plan.mac = { timeoutMs: section.mac.timeoutMs };

  if (section.mfg.enabled) {
    if (!mfg) {
      problem(
        at('mfg'),
        'the image set writes no mfg_nvs partition, so there is nothing for AT+SYSMFG? to list; set mfg: false',
      );
    } else {
      plan.mfg = { timeoutMs: section.mfg.timeoutMs, namespaces: mfgNamespaces(mfg) };
    }
  }

  const reads = section.mfgRead;
  if (reads?.enabled) {
    const values: ExpectedMfgValue[] = [];
    reads.keys.forEach(({ namespace, key }, i) => {
      const entry = mfg && findEntry(mfg, namespace, key);
      if (!entry) {
        problem(
          at('mfgRead', 'keys', i),
          `${namespace}/${key} is not in the image set's mfg_nvs${mfgFile ? ` (${mfgFile})` : ''}; list keys it has, e.g. factory_param/module_name`,
        );
        return;
      }
      const expected = expectedMfgValue(namespace, key, entry.value);
      if (!expected) {
        problem(
          at('mfgRead', 'keys', i),
          `${namespace}/${key} is a ${entry.value.type}; AT+SYSMFG cannot print 64-bit values, so it cannot be read back`,
        );
        return;
      }
      values.push(expected);
    });
    plan.mfgRead = { timeoutMs: reads.timeoutMs, values };
  }

  const scan = section.wifiScan;
  if (scan?.enabled) {
    plan.wifiScan = {
      timeoutMs: scan.timeoutMs,
      ssid: scan.ssid,
      ...(scan.minRssi !== undefined && { minRssi: scan.minRssi }),
    };
  }

  return problems.length === 0
    ? { setup: { plan, requireAtPort: section.requireAtPort }, problems }
    : { problems };
}
