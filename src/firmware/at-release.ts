/**
 * What an ESP-AT image set says its boards will answer on the AT port, read from the release itself
 * (facts from esp-at v3.4.0.0: components/at/src/at_init.c, main/interface/uart/at_uart_api.c):
 *
 * - `Bin version:` prints CONFIG_ESP_AT_FW_VERSION. It is not in the app's esp_app_desc_t (v3.4.0.0's
 *   descriptor says v2.4.0.0-674-g70ff5889-dirty, a `git describe`), so it comes from the release's `sdkconfig`,
 *   and the app image must hold that string (else the sdkconfig belongs to another build).
 * - `SDK version:` prints ESP-IDF's version, the descriptor's idf_ver.
 * - The module name in `Bin version:…(<name>)`, the AT port's UART and baud come from mfg_nvs, namespace
 *   factory_param (module_name, uart_port, uart_baudrate); AT+SYSMFG? lists mfg_nvs's namespaces.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Problem } from '../config/problems.ts';
import { decodePartition, type NvsPartition } from '../nvs/index.ts';
import type { ImageSet } from './image-set.ts';
import { parseFirmwareImage } from './image-format.ts';
import type { PreparedRegion } from './prepared-region.ts';

export interface AtRelease {
  /** CONFIG_ESP_AT_FW_VERSION and the sdkconfig line it was read from. */
  binVersion?: { value: string; file: string; line: number };
  /** esp_app_desc_t.idf_ver of the app. */
  sdkVersion?: string;
  /** The app's region (the partition the bootloader starts with an initial otadata). */
  app?: PreparedRegion;
  /** mfg_nvs decoded, and where it is. */
  mfg?: { partition: NvsPartition; region: PreparedRegion };
  factory: { moduleName?: string; baud?: number; uartPort?: number };
  problems: Problem[];
}

const APP_DESC_MAGIC = 0xabcd5432;

/** The app region the bootloader boots first: factory, else ota_0, else the first app partition written. */
function appRegion(regions: readonly PreparedRegion[]): PreparedRegion | undefined {
  const apps = regions.filter((r) => r.partition?.type === 0x00);
  return (
    apps.find((r) => r.partition?.subtype === 0x00) ??
    apps.find((r) => r.partition?.subtype === 0x10) ??
    apps[0]
  );
}

/** The app's first segment data (DROM, descriptor first), or undefined when it is not an ESP image. */
function firstSegment(app: Uint8Array): Uint8Array | undefined {
  const parsed = parseFirmwareImage(app);
  if (!parsed.ok || parsed.image.segments.length === 0) return undefined;
  const s = parsed.image.segments[0];
  return app.subarray(s.dataOffset, s.dataOffset + s.length);
}

/** `CONFIG_NAME="value"` of an sdkconfig, with its line. */
function sdkconfigValue(text: string, name: string): { value: string; line: number } | undefined {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = new RegExp(`^${name}="(.*)"\\s*$`).exec(lines[i]);
    if (m) return { value: m[1].replace(/\\(.)/g, '$1'), line: i + 1 };
  }
  return undefined;
}

async function findSdkconfig(
  set: ImageSet,
  app: PreparedRegion | undefined,
): Promise<{ file: string; text: string } | undefined> {
  const dirs = [path.dirname(set.sourceFile), ...(app ? [path.dirname(app.file)] : [])];
  for (const dir of new Set(dirs)) {
    const file = path.join(dir, 'sdkconfig');
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) return { file, text };
  }
  return undefined;
}

export async function readAtRelease(set: ImageSet, regions: readonly PreparedRegion[]): Promise<AtRelease> {
  const problems: Problem[] = [];
  const app = appRegion(regions);
  const release: AtRelease = { factory: {}, problems, ...(app && { app }) };

  const drom = app && firstSegment(app.data);
  if (drom && drom.length >= 256 && Buffer.from(drom).readUInt32LE(0) === APP_DESC_MAGIC) {
    release.sdkVersion = Buffer.from(drom.subarray(112, 144)).toString('latin1').replace(/\0.*$/s, '');
  }

  const sdkconfig = await findSdkconfig(set, app);
  const fw = sdkconfig && sdkconfigValue(sdkconfig.text, 'CONFIG_ESP_AT_FW_VERSION');
  if (sdkconfig && fw) {
    // The app must hold the string it prints (NUL-terminated; the linker may share it with a longer one).
    const inApp = app !== undefined && Buffer.from(app.data).includes(Buffer.from(`${fw.value}\0`, 'latin1'));
    if (!inApp) {
      problems.push({
        file: sdkconfig.file,
        line: fw.line,
        key: 'CONFIG_ESP_AT_FW_VERSION',
        message: `${fw.value} is not in the app ${app ? path.basename(app.file) : '(none in the image set)'}: this sdkconfig belongs to another build. Put the release's own sdkconfig next to it, or pin test.version.binVersion in the profile.`,
      });
    } else {
      release.binVersion = { value: fw.value, file: sdkconfig.file, line: fw.line };
    }
  }

  const mfgRegion = regions.find(
    (r) => r.partition?.label === 'mfg_nvs' && r.partition.type === 0x01 && r.partition.subtype === 0x02,
  );
  if (mfgRegion) {
    const decoded = decodePartition(mfgRegion.data);
    if (decoded.problems.length > 0) {
      problems.push({
        file: mfgRegion.file,
        key: 'mfg_nvs',
        message: `mfg_nvs does not decode cleanly (${decoded.problems[0]}${decoded.problems.length > 1 ? `, and ${decoded.problems.length - 1} more` : ''}); the firmware would not read it as written.`,
      });
    }
    release.mfg = { partition: decoded.partition, region: mfgRegion };
    const entry = (key: string) =>
      decoded.partition.items.find(
        (i) => i.kind === 'entry' && i.namespace === 'factory_param' && i.key === key,
      );
    const name = entry('module_name');
    const baud = entry('uart_baudrate');
    const port = entry('uart_port');
    if (name?.kind === 'entry' && name.value.type === 'string') release.factory.moduleName = name.value.value;
    if (baud?.kind === 'entry' && typeof baud.value.value === 'number')
      release.factory.baud = baud.value.value;
    if (port?.kind === 'entry' && typeof port.value.value === 'number')
      release.factory.uartPort = port.value.value;
  }
  return release;
}

/** Namespaces AT+SYSMFG? lists: those with at least one value, in the partition's order. */
export function mfgNamespaces(partition: NvsPartition): string[] {
  const seen = new Set<string>();
  for (const i of partition.items) if (i.kind === 'entry') seen.add(i.namespace);
  return [...seen];
}
