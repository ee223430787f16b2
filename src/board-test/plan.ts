/**
 * What the post-flash test does and expects, decided once per recipe (the profile's `test:` section and the
 * image set: firmware version, module name, mfg_nvs namespaces, the AT port's baud) plus what is known of
 * each board (its base MAC, per-board values written to its mfg_nvs). Every step is optional and has its
 * own time limit; the steps run in the order of TEST_STEPS.
 */
import type { SysmfgType } from './responses.ts';

/** The steps in the order they run; their names are what the ledger and the reports count failures by. */
export const TEST_STEPS = [
  'ready',
  'echo-off',
  'at',
  'version',
  'mac',
  'mfg',
  'mfg-read',
  'wifi-scan',
] as const;
export type TestStep = (typeof TEST_STEPS)[number];

/** The command each step sends (`ready` only listens). */
export const STEP_COMMAND: Readonly<Record<TestStep, string | undefined>> = {
  ready: undefined,
  'echo-off': 'ATE0',
  at: 'AT',
  version: 'AT+GMR',
  mac: 'AT+CIPSTAMAC?',
  mfg: 'AT+SYSMFG?',
  'mfg-read': 'AT+SYSMFG=1',
  'wifi-scan': 'AT+CWLAP',
};

/** A value the board's mfg_nvs must hold, in AT+SYSMFG's terms (type and the value as printed). */
export interface ExpectedMfgValue {
  namespace: string;
  key: string;
  type: SysmfgType;
  /** Decimal for numbers; the text for strings; for binaries their bytes as text, line breaks as `\n`. */
  value: string;
}

export interface StepLimit {
  timeoutMs: number;
}

export interface BoardTestPlan {
  /** The AT port's rate: factory_param `uart_baudrate` of the image set's mfg_nvs, or the profile's pin. */
  baud: number;
  /**
   * Listen for ESP-AT's `ready` after the reset. A `ready` within `graceMs` after the limit still fails the
   * board, as `at-slow-ready` (alive but slow) rather than `at-no-ready` (nothing came).
   */
  ready?: StepLimit & { graceMs: number };
  /** `ATE0`: echo off (the client copes with echo either way). */
  echoOff?: StepLimit;
  /** `AT` → `OK`. */
  at?: StepLimit;
  /** `AT+GMR`: `Bin version:<binVersion>(<moduleName>)`, and `SDK version:` when sdkVersion is given. */
  version?: StepLimit & { binVersion: string; moduleName?: string; sdkVersion?: string };
  /** `AT+CIPSTAMAC?` equals the base MAC read in download mode. */
  mac?: StepLimit;
  /** `AT+SYSMFG?` lists every namespace of the mfg_nvs written. */
  mfg?: StepLimit & { namespaces: readonly string[] };
  /** `AT+SYSMFG=1,"ns","key"` for each value (the recipe's and each board's own, see BoardFacts). */
  mfgRead?: StepLimit & { values: readonly ExpectedMfgValue[] };
  /** `AT+CWLAP="<ssid>"` finds the line's test access point (at `minRssi` dBm or stronger). */
  wifiScan?: StepLimit & { ssid: string; minRssi?: number };
}

/** What the test knows of the board in front of it. */
export interface BoardFacts {
  /** Base MAC read from eFuse in download mode, `AA:BB:CC:DD:EE:FF`. */
  mac: string;
  /**
   * Values written to this board's mfg_nvs only (serial number, certificates: src/identity); read back by the
   * `mfg-read` step when the plan has one, after the recipe's own values.
   */
  mfgValues?: readonly ExpectedMfgValue[];
}

/** Default time limits: a real ESP-AT prints `ready` 1–2 s after reset; a scan of 13 channels takes ~2 s. */
export const DEFAULT_STEP_TIMEOUT_MS: Readonly<Record<TestStep, number>> = {
  ready: 10_000,
  'echo-off': 1_000,
  at: 1_000,
  version: 2_000,
  mac: 1_000,
  mfg: 2_000,
  'mfg-read': 2_000,
  'wifi-scan': 15_000,
};
