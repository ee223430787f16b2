/**
 * The QEMU goals (esp-station vs esptool-js with the same stub images, ESP32 and ESP32-C3, 921600) read from
 * `npm run conformance`'s last run: that script owns the emulator runs and their byte-for-byte check; the bench
 * does not run them twice.
 */
import { existsSync, readFileSync } from 'node:fs';

interface ConformanceRun {
  chip: string;
  tool: 'esp-station' | 'esptool-js';
  loader: 'stub' | 'ROM';
  baud: number;
  seconds: number;
  ok: boolean;
  identical: boolean;
  pair?: number;
  /** False when its pair ran under unlike conditions (steal, other processes): not a fair comparison. */
  judged?: boolean;
}

export interface QemuGoal {
  figure: string;
  ratio: number;
  note?: string;
}

export function qemuGoals(file: string): { text: string; goals: QemuGoal[] } {
  if (!existsSync(file)) return { text: `no ${file}: run npm run conformance first`, goals: [] };
  const doc = JSON.parse(readFileSync(file, 'utf8')) as {
    started: string;
    load: number[];
    runs: ConformanceRun[];
  };
  const goals: QemuGoal[] = [];
  const lines = [`run of ${doc.started}, load ${doc.load.map((l) => l.toFixed(1)).join(' ')}`];
  for (const chip of ['ESP32', 'ESP32-C3']) {
    const stubRuns = doc.runs.filter((r) => r.chip === chip && r.loader === 'stub' && r.baud === 921600);
    // The pair conformance judged (like conditions); a run from before pairs were judged has neither field.
    const judgedPair = stubRuns.find((r) => r.judged !== false)?.pair;
    const pick = (tool: ConformanceRun['tool']) =>
      stubRuns.find((r) => r.tool === tool && r.judged !== false && r.pair === judgedPair);
    const st = pick('esp-station');
    const ej = pick('esptool-js');
    if (!st && !ej && stubRuns.length > 0) {
      lines.push(`${chip} @921600: no pair under like conditions in that run (not judged)`);
      goals.push({ figure: `vs esptool-js on QEMU ${chip} @921600`, ratio: Number.NaN });
      continue;
    }
    const good = (r: ConformanceRun | undefined) => r !== undefined && r.ok && r.identical;
    lines.push(
      `${chip} @921600: esp-station ${st ? `${st.seconds.toFixed(1)} s${good(st) ? '' : ' (failed)'}` : '—'}, ` +
        `esptool-js ${ej ? `${ej.seconds.toFixed(1)} s${good(ej) ? '' : ' (failed)'}` : '—'}`,
    );
    goals.push({
      figure: `vs esptool-js on QEMU ${chip} @921600`,
      ratio: good(st) && good(ej) ? ej!.seconds / st!.seconds : Number.NaN,
    });
  }
  return { text: lines.join('\n'), goals };
}
