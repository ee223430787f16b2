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
    const pick = (tool: ConformanceRun['tool']) =>
      doc.runs.find((r) => r.chip === chip && r.tool === tool && r.loader === 'stub' && r.baud === 921600);
    const st = pick('esp-station');
    const ej = pick('esptool-js');
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
