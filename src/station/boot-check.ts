/**
 * The UART0 boot check: after the hard reset, what the download port shows is the ROM banner, the second-stage
 * bootloader and the application's first log lines (ESP-AT's `ready` and its AT commands live on UART1, the AT
 * port — src/board-test). A board passes when every expected line appeared in order and, for a short settle time
 * after the last one, nothing forbidden did (a panic, an abort, a second ROM banner: a reboot loop).
 */

export interface BootCheckPolicy {
  /** Texts (not regexes) that must appear, in this order. */
  expect: readonly string[];
  /** Texts that fail the board wherever they appear. */
  forbid: readonly string[];
  /** Time for every expected line to appear. */
  timeoutMs: number;
  /** After the last expected line, how long to keep watching for a forbidden one. */
  settleMs: number;
}

/** A ROM banner's reset line (ESP32 family `rst:0x…`, ESP8266 `rst cause:`): a second one means the chip reset. */
const ROM_RESET_LINE = /rst:0x[0-9a-f]+|rst cause:\d+/gi;

export type BootJudgement =
  { state: 'pending'; missing: string } | { state: 'booted' } | { state: 'failed'; reason: string };

export function judgeBootOutput(output: string, policy: BootCheckPolicy): BootJudgement {
  const bad = policy.forbid.find((f) => output.includes(f));
  if (bad !== undefined) return { state: 'failed', reason: `it printed '${bad}'` };
  const resets = output.match(ROM_RESET_LINE)?.length ?? 0;
  if (resets > 1)
    return { state: 'failed', reason: `it reset ${resets - 1} more time(s) on its own (reboot loop)` };
  let from = 0;
  for (const line of policy.expect) {
    const at = output.indexOf(line, from);
    if (at < 0) return { state: 'pending', missing: line };
    from = at + line.length;
  }
  return { state: 'booted' };
}

/** What the pipeline needs from a session after its hard reset. */
export interface BootOutputSource {
  readonly bootOutput: string;
  /** Called after each chunk the board prints; returns an unsubscribe. */
  onBootOutput(listener: () => void): () => void;
}

export type BootCheckResult = { ok: true; output: string } | { ok: false; reason: string; output: string };

/** Watches the boot output until the judgement is final (booted and settled, or failed) or the time is up. */
export function watchBootOutput(
  source: BootOutputSource,
  policy: BootCheckPolicy,
  signal: AbortSignal,
): Promise<BootCheckResult> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    let settle: ReturnType<typeof setTimeout> | undefined;
    const finish = (r: BootCheckResult): void => {
      clearTimeout(deadline);
      clearTimeout(settle);
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const check = (): void => {
      const output = source.bootOutput;
      const j = judgeBootOutput(output, policy);
      if (j.state === 'failed') finish({ ok: false, reason: j.reason, output });
      else if (j.state === 'booted' && settle === undefined) {
        settle = setTimeout(() => finish({ ok: true, output: source.bootOutput }), policy.settleMs);
      }
    };
    const onAbort = (): void => {
      clearTimeout(deadline);
      clearTimeout(settle);
      unsubscribe();
      reject(signal.reason);
    };
    const deadline = setTimeout(() => {
      const output = source.bootOutput;
      const j = judgeBootOutput(output, policy);
      if (j.state === 'pending') {
        finish({
          ok: false,
          reason: `'${j.missing}' did not appear within ${(policy.timeoutMs / 1000).toFixed(1)} s`,
          output,
        });
      }
    }, policy.timeoutMs);
    const unsubscribe = source.onBootOutput(check);
    signal.addEventListener('abort', onAbort, { once: true });
    check();
  });
}
