/**
 * The post-flash test, step by step over an AtClient already listening on the board's AT port: wait for
 * `ready` → ATE0 → AT → AT+GMR → AT+CIPSTAMAC? → AT+SYSMFG? → AT+SYSMFG=1 reads → AT+CWLAP. The first step
 * that goes wrong ends the test with one failure code and a sentence an operator can act on; the transcript
 * keeps every command, answer and time. It never throws but for an abort.
 */
import type { FailureCode } from '../ledger/failure-codes.ts';
import type { AtClient, AtReply } from './at-client.ts';
import {
  DEFAULT_STEP_TIMEOUT_MS,
  type BoardFacts,
  type BoardTestPlan,
  type ExpectedMfgValue,
  type TestStep,
} from './plan.ts';
import {
  parseAccessPoints,
  parseGmr,
  parseMfgNamespaces,
  parseMfgValue,
  parseStationMac,
} from './responses.ts';
import { entry, type StepResult, type TranscriptEntry } from './transcript.ts';

export interface BoardTestResult {
  passed: boolean;
  /** The step that failed, with its code and sentence. */
  failedStep?: TestStep;
  code?: FailureCode;
  message?: string;
  /** The AT port (tty or URL) and its rate. */
  port: string;
  baud: number;
  transcript: TranscriptEntry[];
}

export interface RunBoardTestOptions {
  signal: AbortSignal;
  /** Called as each step starts, with a short text for the screen (e.g. "AT+GMR"). */
  onStep?: (step: TestStep, text: string) => void;
}

/** A step's verdict: undefined = passed. */
type Failure = { code: FailureCode; message: string; result: StepResult };

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** A value as AT+SYSMFG prints it, quoted for a message. */
const shown = (v: string): string => JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);

export async function runBoardTest(
  client: AtClient,
  plan: BoardTestPlan,
  board: BoardFacts,
  opts: RunBoardTestOptions,
): Promise<BoardTestResult> {
  const { signal } = opts;
  const transcript: TranscriptEntry[] = [];
  const { path: port, baud } = client.port;
  const where = `the AT port (${port} at ${baud} baud)`;
  const done = (failedStep?: TestStep, f?: Failure): BoardTestResult => ({
    passed: f === undefined,
    ...(failedStep !== undefined && f !== undefined && { failedStep, code: f.code, message: f.message }),
    port,
    baud,
    transcript,
  });

  /** Sends the step's command, records it, and judges the reply (`judge` sees only an OK reply). */
  const step = async (
    name: TestStep,
    command: string,
    timeoutMs: number,
    judge: (reply: AtReply) => Failure | undefined,
    onError?: (reply: AtReply) => Failure,
  ): Promise<Failure | undefined> => {
    opts.onStep?.(name, command);
    const reply = await client.command(command, timeoutMs, signal);
    const lines = [...reply.unsolicited, ...reply.lines, ...(reply.final ? [reply.final] : [])];
    let failure: Failure | undefined;
    if (reply.final === undefined) failure = noAnswer(command, reply, timeoutMs, where);
    else if (reply.final !== 'OK')
      failure = onError?.(reply) ?? {
        code: 'at-command-error',
        message: `The firmware refused ${command} (${reply.final}${reply.lines.length ? `: ${reply.lines.join(' | ')}` : ''}). It may be another firmware than the recipe's; set the board aside for engineering.`,
        result: 'error',
      };
    else failure = judge(reply);
    transcript.push(entry(name, command, lines, reply.ms, failure?.result ?? 'ok'));
    return failure;
  };

  if (plan.ready) {
    const { timeoutMs, graceMs } = plan.ready;
    opts.onStep?.('ready', "waiting for 'ready'");
    const isReady = (l: string): boolean => l === 'ready';
    const wait = await client.waitForLine(isReady, timeoutMs, signal);
    if (wait.line === undefined) {
      // Keep listening a little: a late `ready` tells a slow board from a dead port or a wrong baud.
      const late = graceMs > 0 ? await client.waitForLine(isReady, graceMs, signal) : undefined;
      const seen = [...wait.seen, ...(late?.seen ?? [])];
      const ms = wait.ms + (late?.ms ?? 0);
      transcript.push(entry('ready', undefined, seen, ms, 'timeout'));
      if (late?.line !== undefined) {
        return done('ready', {
          code: 'at-slow-ready',
          result: 'timeout',
          message: `The firmware became ready only after ${seconds(ms)}, later than the ${seconds(timeoutMs)} allowed. Retest once; a board that is always this slow has a power or flash problem: set it aside for engineering.`,
        });
      }
      const heard = seen.length;
      return done('ready', {
        code: 'at-no-ready',
        result: 'timeout',
        message:
          heard === 0
            ? `Nothing came from ${where} within ${seconds(ms)} of the reset. Check the AT port's wiring (module TX to the bridge's RX) and that the firmware started (boot log); retest once.`
            : `No 'ready' on ${where} within ${seconds(ms)}; it printed ${heard} other line(s) (last: ${shown(seen[heard - 1])}). Unreadable text means a wrong baud: the image set's factory_param says ${baud}. Retest once; a repeat means the board or its AT settings are wrong.`,
      });
    }
    transcript.push(entry('ready', undefined, wait.seen, wait.ms, 'ok'));
  }

  if (plan.echoOff) {
    const f = await step('echo-off', 'ATE0', plan.echoOff.timeoutMs, () => undefined);
    if (f) return done('echo-off', f);
  }

  if (plan.at) {
    const f = await step('at', 'AT', plan.at.timeoutMs, () => undefined);
    if (f) return done('at', f);
  }

  if (plan.version) {
    const want = plan.version;
    const f = await step('version', 'AT+GMR', want.timeoutMs, (reply) => {
      const gmr = parseGmr(reply.lines);
      if (gmr.binVersion === undefined) {
        return {
          code: 'at-version-mismatch',
          result: 'fail',
          message: `AT+GMR printed no 'Bin version:' line: this board does not run the recipe's ESP-AT firmware (expected ${want.binVersion}). Set it aside for engineering.`,
        };
      }
      if (gmr.binVersion !== want.binVersion) {
        return {
          code: 'at-version-mismatch',
          result: 'fail',
          message: `The board runs firmware ${gmr.binVersion}, the recipe is ${want.binVersion}, although the flash verified: it boots another app (an OTA slot chosen by otadata, or another image set). Set it aside for engineering; do not ship.`,
        };
      }
      if (want.sdkVersion !== undefined && gmr.sdkVersion !== want.sdkVersion) {
        return {
          code: 'at-version-mismatch',
          result: 'fail',
          message: `The board's firmware was built with ESP-IDF ${gmr.sdkVersion ?? '(not printed)'}, the recipe's app with ${want.sdkVersion}: another build of ${want.binVersion} runs. Set it aside for engineering.`,
        };
      }
      if (want.moduleName !== undefined && gmr.moduleName !== want.moduleName) {
        return {
          code: 'at-module-mismatch',
          result: 'fail',
          message: `The firmware calls this module ${gmr.moduleName ?? '(no name)'}, the recipe's factory_param says ${want.moduleName}: its mfg_nvs is not the one written, or the firmware does not know that module. Set it aside for engineering.`,
        };
      }
      return undefined;
    });
    if (f) return done('version', f);
  }

  if (plan.mac) {
    const f = await step('mac', 'AT+CIPSTAMAC?', plan.mac.timeoutMs, (reply) => {
      const mac = parseStationMac(reply.lines);
      if (mac === board.mac.toUpperCase()) return undefined;
      return {
        code: 'at-mac-mismatch',
        result: 'fail',
        message:
          mac === undefined
            ? `AT+CIPSTAMAC? gave no MAC address. Retest once; a repeat means the firmware is not the recipe's.`
            : `The AT port answers for MAC ${mac}, but the board flashed is ${board.mac.toUpperCase()}: the AT port is wired to another board (check the slot's AT cable) or the station MAC was changed. Fix the wiring and retest.`,
      };
    });
    if (f) return done('mac', f);
  }

  if (plan.mfg) {
    const want = plan.mfg.namespaces;
    const f = await step(
      'mfg',
      'AT+SYSMFG?',
      plan.mfg.timeoutMs,
      (reply) => {
        const listed = new Set(parseMfgNamespaces(reply.lines));
        const missing = want.filter((ns) => !listed.has(ns));
        if (missing.length === 0) return undefined;
        return {
          code: 'at-mfg-mismatch',
          result: 'fail',
          message: `The firmware does not see namespace${missing.length > 1 ? 's' : ''} ${missing.join(', ')} in its mfg_nvs, which was written with ${want.length}: the partition is not readable as written. Retest once; a repeat means the board or the image set is wrong.`,
        };
      },
      (reply) => ({
        code: 'at-mfg-mismatch',
        result: 'error',
        message: `The firmware cannot read its mfg_nvs partition (AT+SYSMFG? answered ${reply.final}). Retest once; a repeat means the mfg_nvs image or the firmware is wrong.`,
      }),
    );
    if (f) return done('mfg', f);
  }

  // Values written to this board alone are always read back, with the recipe's limit or the default one.
  const reads =
    plan.mfgRead ??
    (board.mfgValues?.length ? { timeoutMs: DEFAULT_STEP_TIMEOUT_MS['mfg-read'], values: [] } : undefined);
  if (reads) {
    const values = [...reads.values, ...(board.mfgValues ?? [])];
    for (const v of values) {
      const command = `AT+SYSMFG=1,"${v.namespace}","${v.key}"`;
      const f = await step(
        'mfg-read',
        command,
        reads.timeoutMs,
        (reply) => judgeMfgValue(v, reply),
        (reply) => ({
          code: 'at-mfg-mismatch',
          result: 'error',
          message: `The firmware cannot read ${v.namespace}/${v.key} from its mfg_nvs (${reply.final}), which was written with it. Retest once; a repeat means the board's mfg_nvs is wrong.`,
        }),
      );
      if (f) return done('mfg-read', f);
    }
  }

  if (plan.wifiScan) {
    const { ssid, minRssi } = plan.wifiScan;
    const f = await step(
      'wifi-scan',
      `AT+CWLAP="${ssid.replace(/(["\\,])/g, '\\$1')}"`,
      plan.wifiScan.timeoutMs,
      (reply) => {
        const seen = parseAccessPoints(reply.lines).filter((ap) => ap.ssid === ssid);
        const best = seen.reduce<number | undefined>(
          (m, ap) => (m === undefined ? ap.rssi : Math.max(m, ap.rssi)),
          undefined,
        );
        if (best !== undefined && (minRssi === undefined || best >= minRssi)) return undefined;
        return {
          code: 'at-no-ap',
          result: 'fail',
          message:
            best === undefined
              ? `The radio did not find the line's test access point '${ssid}'. Check that it is on; if other boards find it, this board's radio or antenna is faulty: set it aside.`
              : `The test access point '${ssid}' is received at ${best} dBm, weaker than the ${minRssi} dBm required: check the antenna (or the board's RF path); set it aside if others pass.`,
        };
      },
      (reply) => ({
        code: 'at-no-ap',
        result: 'error',
        message: `The Wi-Fi scan failed (${reply.final}): the radio did not come up. Retest once; a repeat means the board's radio is faulty.`,
      }),
    );
    if (f) return done('wifi-scan', f);
  }

  return done();
}

function noAnswer(command: string, reply: AtReply, timeoutMs: number, where: string): Failure {
  const heard = reply.lines.length;
  return {
    code: 'at-no-answer',
    result: 'timeout',
    message:
      heard === 0 && !reply.echoed
        ? `${command} got no answer on ${where} within ${seconds(timeoutMs)}, after 'ready'. Check the AT port's other wire (the bridge's TX to the module's RX); retest once.`
        : `${command} got no OK or ERROR on ${where} within ${seconds(timeoutMs)} (it printed ${heard} line(s)). Retest once; a repeat means the firmware hangs.`,
  };
}

function judgeMfgValue(want: ExpectedMfgValue, reply: AtReply): Failure | undefined {
  const got = parseMfgValue(reply.lines);
  const name = `${want.namespace}/${want.key}`;
  if (got === undefined) {
    return {
      code: 'at-mfg-mismatch',
      result: 'fail',
      message: `AT+SYSMFG gave no value for ${name}. Retest once; a repeat means the board's mfg_nvs is wrong.`,
    };
  }
  if (got.type !== want.type || normalized(got.value) !== normalized(want.value)) {
    return {
      code: 'at-mfg-mismatch',
      result: 'fail',
      message: `${name} reads back as ${got.type} ${shown(got.value)}, but ${want.type} ${shown(want.value)} was written: the board's mfg_nvs is not what the station wrote. Retest once; a repeat means the flash or the mfg_nvs image is wrong.`,
    };
  }
  return undefined;
}

/** Line breaks and blank lines do not survive the trip over the AT port's line framing: compare without them. */
function normalized(value: string): string {
  return value
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .join('\n');
}
