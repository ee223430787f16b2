/**
 * `esp-station run`: the station. Detects boards, flashes them in parallel, records every attempt, and shows
 * the operator screen (or, with --headless, prints one JSON StationEvent per line).
 */
import { parseCommandArgs } from '../command-args.ts';
import { randomInt } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { InputError } from '../../config/problems.ts';
import type { Problem } from '../../config/problems.ts';
import { loadProfile } from '../../config/profile.ts';
import { loadStationConfig } from '../../config/station-config.ts';
import type { StationConfig } from '../../config/station-config.ts';
import { loadProfileFirmware } from '../../firmware/profile-firmware.ts';
import { LedgerWriter } from '../../ledger/writer.ts';
import { buildStation } from '../build-station.ts';
import { parseStaticPort, type StaticPort } from '../../station/detect/static-ports.ts';
import type { BuiltStation } from '../build-station.ts';
import type { FaultMix } from '../../sim-station/fault-mix.ts';

const HELP = `usage: esp-station run [--config config.yaml] [--headless] [--ledger FILE]
                        [--simulate N [--faults MIX] [--timing realistic|fast] [--seed S] [--once]]
                        [--port [NAME=]socket://HOST:PORT ... [--port-follows-baud] [--once]]

  --config FILE    station config (default: config.yaml)
  --headless       no screen: print one JSON station event per line (for automation and tests)
  --big            draw each slot's state in block letters even when that leaves no room for the log
  --ledger FILE    append the ledger to this one file instead of the configured directory
  --simulate N     plug N simulated boards into a virtual USB bus over time (no hardware needed)
  --faults MIX     'demo', or NAME[:ARG]:PROBABILITY,... e.g. no-sync:0.1,write-error:0.05
                   (simulator faults, plus wrong-chip, small-flash and unplug)
  --timing T       simulated chip timing: realistic (default) or fast
  --seed S         seed of the simulated boards and operator (default: a new one each run, logged)
  --port URL       a remote serial port (ser2net-style socket://HOST:PORT, or NAME=socket://...) as a
                   fixed slot instead of USB detection; repeatable, one slot each
  --port-follows-baud
                   the far end of --port follows the chip's baud changes (esp-station sim, autobauding
                   bridges), so boards are flashed at the baud ladder's rate; default: keep the link's rate
  --once           with --simulate: exit 0 once those N boards are done; with --port: once every port has
                   a result

Keys on the screen: p pause/resume, q quit, o operator, l lot, r yield, ? help.`;

/** config.yaml's layout names slots; the screen keys them by USB port path. */
function fixtureByPortPath(config: StationConfig): (string | null)[][] {
  const paths = new Map(config.slots.map((s) => [s.name, s.usbPath]));
  return (config.layout ?? []).map((row) =>
    row.map((name) => (name === null ? null : (paths.get(name) ?? null))),
  );
}

function cli(message: string, key?: string): Problem {
  return { file: '<command line>', ...(key && { key }), message };
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    {
      args: argv,
      options: {
        config: { type: 'string', default: 'config.yaml' },
        headless: { type: 'boolean', default: false },
        big: { type: 'boolean', default: false },
        ledger: { type: 'string' },
        simulate: { type: 'string' },
        faults: { type: 'string' },
        timing: { type: 'string' },
        seed: { type: 'string' },
        once: { type: 'boolean', default: false },
        verbose: { type: 'boolean', short: 'v', default: false },
        port: { type: 'string', multiple: true },
        'port-follows-baud': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    },
    HELP,
  );
  if (!parsed) return 0;
  const args = parsed.values;

  const problems: Problem[] = [];
  let simulate: number | undefined;
  if (args.simulate !== undefined) {
    simulate = Number(args.simulate);
    if (!Number.isInteger(simulate) || simulate < 0 || simulate > 10_000) {
      problems.push(
        cli(`'${args.simulate}' is not a number of boards; use e.g. --simulate 12`, '--simulate'),
      );
    }
  }
  let mix: FaultMix = { kind: 'none' };
  if (args.faults !== undefined) {
    // The fault names are the simulator's: loaded only when a mix is given, so a real run never loads src/sim.
    const { parseFaultMix } = await import('../../sim-station/fault-mix.ts');
    try {
      mix = parseFaultMix(args.faults);
    } catch (err) {
      problems.push(cli((err as Error).message, '--faults'));
    }
  }
  const timing = args.timing ?? 'realistic';
  if (timing !== 'realistic' && timing !== 'fast') {
    problems.push(cli(`'${timing}' is not a timing; use realistic or fast`, '--timing'));
  }
  // Without --seed every run gets new simulated boards (new MACs), as a real line does; the seed is logged so a
  // run can be repeated exactly.
  const seed = args.seed === undefined ? randomInt(1, 2 ** 31) : Number(args.seed);
  if (!Number.isInteger(seed) || seed < 0)
    problems.push(cli(`'${args.seed}' is not a seed; use an integer`, '--seed'));
  const ports: StaticPort[] = [];
  for (const text of args.port ?? []) {
    try {
      ports.push(parseStaticPort(text));
    } catch (err) {
      problems.push(cli((err as Error).message, '--port'));
    }
  }
  if (ports.length > 0 && simulate !== undefined)
    problems.push(cli('--port and --simulate cannot be combined; use one or the other', '--port'));
  if (new Set(ports.map((p) => p.url)).size !== ports.length)
    problems.push(cli('the same --port is given twice; each remote port is one slot', '--port'));
  if (args['port-follows-baud'] && (args.port ?? []).length === 0)
    problems.push(cli('--port-follows-baud only applies with --port', '--port-follows-baud'));
  if (simulate === undefined) {
    for (const k of ['faults', 'timing', 'seed'] as const) {
      if (args[k] !== undefined) problems.push(cli(`--${k} only applies with --simulate N`, `--${k}`));
    }
    if (args.once && (args.port ?? []).length === 0)
      problems.push(
        cli('--once only applies with --simulate N or --port (a USB station runs until stopped)', '--once'),
      );
  }
  if (problems.length > 0) throw new InputError(problems);

  const config = await loadStationConfig(args.config);
  const profile = await loadProfile(config.profilePath);
  const firmware = await loadProfileFirmware(profile);
  // A ledger that cannot be written would fail every board after flashing it: refuse before any port opens.
  const ledgerWhere: Problem = args.ledger
    ? cli('', '--ledger')
    : { file: config.file, key: 'ledger.dir', message: '' };
  const ledgerPath = args.ledger ?? config.ledger.dir;
  const ledgerStat = await stat(ledgerPath).catch(() => undefined);
  if (ledgerStat && (args.ledger ? !ledgerStat.isFile() : !ledgerStat.isDirectory())) {
    throw new InputError({
      ...ledgerWhere,
      message: args.ledger
        ? `${ledgerPath} is not a regular file; give a ledger file such as var/ledger/station.jsonl`
        : `${ledgerPath} is not a directory; give a directory for the ledger files`,
    });
  }
  let ledger: LedgerWriter;
  try {
    ledger = args.ledger
      ? await LedgerWriter.open({ file: args.ledger, station: config.station })
      : await LedgerWriter.open({
          dir: config.ledger.dir,
          rotate: { by: config.ledger.rotate, maxBytes: config.ledger.maxSizeBytes },
          station: config.station,
        });
  } catch (err) {
    throw new InputError({
      ...ledgerWhere,
      message: `the ledger at ${ledgerPath} cannot be opened (${(err as Error).message}); fix the location`,
    });
  }

  const built: BuiltStation = await buildStation({
    config,
    profile,
    firmware,
    ledger,
    linkLog: args.verbose,
    ...(simulate !== undefined && {
      simulate: { boards: simulate, mix, timing: timing as 'fast' | 'realistic', seed },
    }),
    ...(ports.length > 0 && { ports: { list: ports, followsBaud: args['port-follows-baud'] } }),
  });
  const { station } = built;

  let ui: { waitUntilExit(): Promise<void>; unmount(): void } | undefined;
  let unsubscribeHeadless: (() => void) | undefined;
  if (!args.headless) {
    try {
      const { renderStationUi } = await import('../../ui/index.ts');
      ui = renderStationUi({
        bus: station.bus,
        controls: station,
        header: built.header,
        slots: config.slots.map((s) => ({ portPath: s.usbPath, name: s.name })),
        ...(config.layout && { fixture: fixtureByPortPath(config) }),
        big: args.big ? 'always' : 'auto',
        verbose: args.verbose,
      });
    } catch (err) {
      console.error(
        `esp-station run: the screen could not start (${(err as Error).message}); running headless`,
      );
    }
  }
  if (!ui) {
    unsubscribeHeadless = station.bus.subscribe((e) => process.stdout.write(`${JSON.stringify(e)}\n`));
  }

  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    // First Ctrl+C: finish the boards in flight; second: fail them now (they are still recorded).
    void station.stop({ abortInFlight: interrupts > 1 });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The station runs until stopped, even when nothing is plugged in (a simulated run with every board done).
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    try {
      await station.start();
    } catch (err) {
      // Only an explicitly configured detection mode can fail to start (auto falls back to polling).
      throw new InputError({
        file: config.file,
        key: 'detection',
        message: `detection '${config.detection}' cannot start here: ${(err as Error).message}; use detection: auto (falls back to polling) or polling`,
      });
    }
    built.startSimulation?.();
    if (!args.once && built.simulationDone) {
      // Without --once the simulated line just goes quiet when its boards are done: say so, once.
      void built.simulationDone.then(() => {
        const now = station.state;
        if (now !== 'running' && now !== 'paused') return;
        station.bus.publish({
          type: 'station',
          time: Date.now(),
          state: now,
          message: `simulation done: all ${simulate} boards have a recorded result; stop the station with q or Ctrl+C`,
        });
      });
    }
    const stopped = new Promise<void>((resolve) => {
      const off = station.bus.subscribe((e) => {
        if (e.type === 'station' && e.state === 'stopped') {
          off();
          resolve();
        }
      });
    });
    const waits: Promise<unknown>[] = [stopped];
    if (ui) waits.push(ui.waitUntilExit());
    if (args.once && built.simulationDone) waits.push(built.simulationDone);
    if (args.once && ports.length > 0) {
      // Static ports attach once: done when each has a recorded result.
      waits.push(
        new Promise<void>((resolve) => {
          const done = new Set<string>();
          station.onAttemptDone(({ slot }) => {
            done.add(slot);
            if (done.size >= ports.length) resolve();
          });
        }),
      );
    }
    await Promise.race(waits);
    await station.stop();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    clearInterval(keepAlive);
    built.dispose();
    if (ui) {
      ui.unmount();
      // Ink leaves stdin referenced after unmount; without this the process would never exit.
      if (process.stdin.isTTY) process.stdin.setRawMode(false);
      process.stdin.pause();
      process.stdin.unref();
    }
    unsubscribeHeadless?.();
    await ledger.close();
  }
  return 0;
}
