/**
 * What a simulated board's ESP-AT app knows when it starts, read from what is really in its flash, as the
 * real firmware reads it (esp-at v3.4.0.0 components/at/src/at_init.c, main/interface/uart/at_uart_api.c):
 *
 * - from the app image: the `SDK version` (esp_app_desc_t.idf_ver, which is ESP-IDF's IDF_VER), the commit,
 *   date and time of `compile time(…)`, and the `Bin version` — CONFIG_ESP_AT_FW_VERSION, a string in the
 *   app's rodata. It is *not* esp_app_desc_t.version (v3.4.0.0's descriptor says v2.4.0.0-674-g70ff5889-dirty);
 *   the simulator takes the first `vN.N.N.N[-suffix]` string after the descriptor, where the linker put it
 *   (in v3.4.0.0 it shares its bytes with the tail of "release-v3.4.0.0").
 * - from mfg_nvs (found through the at_customize partition's own table, decoded as NVS): factory_param's
 *   `uart_port`, `uart_baudrate` and `module_name`, and the namespaces AT+SYSMFG lists. A release without
 *   mfg_nvs but with a legacy `factory_param` partition is "param mode 2"; with neither, mode 0 and defaults.
 */
import type { ChipName } from '../esp/chips/chip.ts';
import { decodePartition, type NvsPartition } from '../nvs/index.ts';
import type { NorFlash } from './nor-flash.ts';
import { readPartitionTable, type SimPartition } from './partition-table-reader.ts';

/** ESP-AT's storage mode of its factory parameters, as `at param mode: N` prints it. */
export type AtParamMode = 0 | 1 | 2;

export interface AtFirmware {
  /** CONFIG_ESP_AT_FW_VERSION; undefined when the app has no `Bin version:` line to print. */
  binVersion?: string;
  sdkVersion: string;
  /** `(<commit>):<date> <time>` as `compile time` prints it. */
  compileTime: string;
  paramMode: AtParamMode;
  /** mfg_nvs as the firmware reads it; undefined in modes 0 and 2. */
  mfg?: NvsPartition;
  /** The AT port: UART number and rate (factory_param, else ESP-AT's defaults: UART1, 115200). */
  uartPort: number;
  baud: number;
  /** factory_param's module_name when the app knows that module (its table of names), else its first one. */
  moduleName: string;
}

/**
 * The first entry of ESP-AT's module table per chip (components/at/src/at_default_config.c), which the app
 * keeps when factory_param names no module it knows.
 */
const DEFAULT_MODULE: Readonly<Partial<Record<ChipName, string>>> = {
  esp32: 'WROOM-32',
  esp32c3: 'MINI-1',
  esp32c2: 'ESP32C2-2MB',
  esp32c6: 'ESP32C6-4MB',
  esp32s2: 'WROOM',
};

const DEFAULT_BAUD = 115200;
const DEFAULT_UART = 1;
const APP_DESC_MAGIC = 0xabcd5432;
/** AT_UART_BAUD_RATE_MIN/MAX of ESP-AT. */
const BAUD_MIN = 80;
const BAUD_MAX = 5_000_000;

/** The app's first segment's data (DROM: esp_app_desc_t first, then rodata). */
function firstSegment(flash: NorFlash, appOffset: number): Buffer | undefined {
  const head = flash.read(appOffset, 24);
  if (head[0] !== 0xe9 || head[1] === 0) return undefined;
  const len = flash.read(appOffset + 24, 8).readUInt32LE(4);
  if (len < 256 || appOffset + 32 + len > flash.size) return undefined;
  return flash.read(appOffset + 32, len);
}

const cString = (b: Buffer, from: number, size: number): string =>
  b
    .subarray(from, from + size)
    .toString('latin1')
    .replace(/\0.*$/s, '');

/** An ESP-AT app: its descriptor names the project esp-at (the demo set's look-alike says so too). */
export function isEspAtProject(project: string | undefined): boolean {
  return project !== undefined && /esp-at|^at$/i.test(project);
}

export function readAtFirmware(
  flash: NorFlash,
  chip: ChipName,
  appOffset: number,
  mainTable: readonly SimPartition[],
  opts: { mfgUnreadable?: boolean } = {},
): AtFirmware | undefined {
  const drom = firstSegment(flash, appOffset);
  if (!drom || drom.readUInt32LE(0) !== APP_DESC_MAGIC) return undefined;
  const descVersion = cString(drom, 16, 32);
  const time = cString(drom, 80, 16);
  const date = cString(drom, 96, 16);
  const sdkVersion = cString(drom, 112, 32);
  const rodata = drom.subarray(256).toString('latin1');
  const binVersion = rodata.includes('Bin version:%s(%s)')
    ? /v\d+\.\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?(?=\0)/.exec(rodata)?.[0]
    : undefined;
  const commit = /-g([0-9a-f]{7,})/.exec(descVersion)?.[1] ?? descVersion;

  // nvs_flash_init_partition failing leaves ESP-AT in "param mode 0": no factory parameters at all.
  const params: FactoryParams = opts.mfgUnreadable ? { mode: 0 } : readFactoryParams(flash, mainTable);
  const named = params.moduleName;
  // The app picks its module from a table of names compiled into it (strings in rodata, possibly sharing
  // bytes with a longer one); a name it does not have leaves the default.
  const known = named !== undefined && named !== '' && rodata.includes(`${named}\0`);
  const moduleName = known ? named : (DEFAULT_MODULE[chip] ?? 'Unknown');
  return {
    ...(binVersion !== undefined && { binVersion }),
    sdkVersion,
    compileTime: `(${commit}):${date} ${time}`,
    paramMode: params.mode,
    ...(params.mfg && { mfg: params.mfg }),
    uartPort: params.uartPort ?? DEFAULT_UART,
    baud:
      params.baud !== undefined && params.baud >= BAUD_MIN && params.baud <= BAUD_MAX
        ? params.baud
        : DEFAULT_BAUD,
    moduleName,
  };
}

interface FactoryParams {
  mode: AtParamMode;
  mfg?: NvsPartition;
  uartPort?: number;
  baud?: number;
  moduleName?: string;
}

/** ESP-AT's partitions of its own live in a second table at the start of the at_customize partition. */
function customPartitions(flash: NorFlash, mainTable: readonly SimPartition[]): SimPartition[] {
  const at = mainTable.find((p) => p.type === 0x40 && p.label === 'at_customize');
  if (!at) return [];
  const table = readPartitionTable(flash, at.offset);
  return table.ok ? table.partitions : [];
}

function readFactoryParams(flash: NorFlash, mainTable: readonly SimPartition[]): FactoryParams {
  const custom = customPartitions(flash, mainTable);
  const mfgPart = custom.find((p) => p.type === 0x01 && p.subtype === 0x02 && p.label === 'mfg_nvs');
  if (mfgPart) {
    const decoded = decodePartition(flash.read(mfgPart.offset, mfgPart.size));
    const mfg = decoded.partition;
    const get = (key: string) =>
      mfg.items.find((i) => i.kind === 'entry' && i.namespace === 'factory_param' && i.key === key);
    const num = (key: string): number | undefined => {
      const e = get(key);
      return e?.kind === 'entry' && typeof e.value.value === 'number' ? e.value.value : undefined;
    };
    const name = get('module_name');
    return {
      mode: 1,
      mfg,
      uartPort: num('uart_port'),
      baud: num('uart_baudrate'),
      ...(name?.kind === 'entry' && name.value.type === 'string' && { moduleName: name.value.value }),
    };
  }
  const legacy = custom.find((p) => p.type === 0x40 && p.label === 'factory_param');
  if (legacy) {
    const b = flash.read(legacy.offset, 64);
    if (b[0] !== 0xfc || b[1] !== 0xfc) return { mode: 2 };
    return {
      mode: 2,
      ...(b[5] !== 0xff && { uartPort: b[5] }),
      ...(b.readUInt32LE(12) !== 0xffffffff && { baud: b.readInt32LE(12) }),
    };
  }
  return { mode: 0 };
}
