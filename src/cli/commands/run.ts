/**
 * `esp-station run`: the station. Detects boards, flashes them in parallel, records every attempt, and shows
 * the operator screen (or, with --headless, prints one JSON StationEvent per line).
 */
import { parseCommandArgs } from '../command-args.ts';
import { randomInt } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { InputError } from '../../config/problems.ts';
import type { Problem } from '../../config/problems.ts';
import { chipByName } from '../../esp/chips/index.ts';
import { parseRevision } from '../../esp/identity-text.ts';
import { loadStationInputs } from '../load-station-inputs.ts';
import { packForNextStart } from '../station-deflate-fill.ts';
import { LedgerLockedError } from '../../ledger/ledger-lock.ts';
import { LedgerUnwritableError, LedgerWriter } from '../../ledger/writer.ts';
import type { StationConfig } from '../../config/station-config.ts';
import { buildStation } from '../build-station.ts';
import { openStationIdentity } from '../station-identity.ts';
import { parseStaticPort, type StaticPort } from '../../station/detect/static-ports.ts';
import type { BuiltStation } from '../build-station.ts';
import type { FaultMix } from '../../sim-station/fault-mix.ts';
import { onStopRequest } from '../stop-requests.ts';
import type { StopCause } from '../stop-requests.ts';

const HELP = `usage: esp-station run [--config config.yaml] [--headless] [--ledger FILE]
                        [--simulate N [--faults MIX] [--timing realistic|fast] [--seed S] [--revision vM.N]
                         [--latency-ms MS] [--once]]
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
  --revision vM.N  chip revision of the simulated boards, e.g. v0.3 (default: what ships today, e.g. ESP32 v3.0)
  --latency-ms MS  USB latency timer of the simulated bridges: chip-to-host bytes wait for a full 64-byte
                   packet or MS (FTDI's default is 16); default 0 = off
  --port URL       a remote serial port (ser2net-style socket://HOST:PORT, or NAME=socket://...) as a
                   fixed slot instead of USB detection; repeatable, one slot each
  --port-follows-baud
                   the far end of --port follows the chip's baud changes (esp-station sim, autobauding
                   bridges), so boards are flashed at the baud ladder's rate; default: keep the link's rate
  --once           with --simulate: exit 0 once those N boards are done; with --port: once every port has
                   a result
  --verbose, -v    also show the flasher's boot-log and link lines as log events (debugging)

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
        revision: { type: 'string' },
        'latency-ms': { type: 'string' },
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
  const revision = args.revision === undefined ? undefined : parseRevision(args.revision);
  if (args.revision !== undefined && revision === undefined) {
    problems.push(
      cli(
        `'${args.revision}' is not a chip revision; write it as esptool prints it, e.g. v3.0 or v0.4`,
        '--revision',
      ),
    );
  }
  const latencyMs = args['latency-ms'] === undefined ? undefined : Number(args['latency-ms']);
  if (latencyMs !== undefined && !(Number.isFinite(latencyMs) && latencyMs >= 0 && latencyMs <= 1000))
    problems.push(
      cli(`'${args['latency-ms']}' is not a latency in ms between 0 and 1000 (FTDI: 16)`, '--latency-ms'),
    );
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
    for (const k of ['faults', 'timing', 'seed', 'revision', 'latency-ms'] as const) {
      if (args[k] !== undefined) problems.push(cli(`--${k} only applies with --simulate N`, `--${k}`));
    }
    if (args.once && (args.port ?? []).length === 0)
      problems.push(
        cli('--once only applies with --simulate N or --port (a USB station runs until stopped)', '--once'),
      );
  }
  // Every problem at once: the command line's, config.yaml's, the profile's and its image set's.
  const { config, profile, firmware } = await loadStationInputs(args.config, problems);
  if (simulate !== undefined && revision !== undefined) {
    // Loaded only when simulating: a real run never loads the simulator.
    const { revisionProblem } = await import('../../sim/revision.ts');
    const chip = chipByName(firmware.chip);
    const problem = chip && (await revisionProblem(chip, revision));
    if (problem) throw new InputError(cli(problem, '--revision'));
  }
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
    // Found before any board is touched: another station holds this ledger, or a record could not land here.
    throw new InputError({
      ...ledgerWhere,
      message:
        err instanceof LedgerLockedError || err instanceof LedgerUnwritableError
          ? err.message
          : `the ledger at ${ledgerPath} cannot be opened (${(err as Error).message}); fix the location`,
    });
  }

  // The identity pool before any port opens: a board is never flashed without its identity.
  let identity: Awaited<ReturnType<typeof openStationIdentity>>;
  try {
    identity = await openStationIdentity(profile, firmware, {
      lot: config.lot,
      station: config.station,
      ...(config.central && { central: config.central }),
      configFile: config.file,
      onNotice: (level, message) => console.error(`esp-station run: ${level}: ${message}`),
    });
  } catch (err) {
    await ledger.close();
    throw err;
  }

  // With a central: section, records also go to the factory database (never in the way of the ledger).
  // (loaded only then: a station without a database never loads the PostgreSQL client)
  const shipping = config.central
    ? await (
        await import('../central-shipping.ts')
      ).startCentralShipping({
        config,
        ledger: args.ledger
          ? { file: args.ledger, station: config.station }
          : { dir: config.ledger.dir, station: config.station },
        profile: firmware.profileName,
        recipe: firmware.fingerprint,
      })
    : undefined;
  const built: BuiltStation = await buildStation({
    config,
    profile,
    firmware,
    ledger: shipping ? shipping.sink(ledger) : ledger,
    ...(identity && { identity }),
    linkLog: args.verbose,
    ...(simulate !== undefined && {
      simulate: {
        boards: simulate,
        mix,
        timing: timing as 'fast' | 'realistic',
        seed,
        ...(revision !== undefined && { revision }),
        ...(latencyMs !== undefined && { usbLatencyMs: latencyMs }),
      },
    }),
    ...(ports.length > 0 && { ports: { list: ports, followsBaud: args['port-follows-baud'] } }),
  });
  const { station } = built;
  shipping?.start(station.bus);
  ledger.onWarning = (message) =>
    station.bus.publish({ type: 'log', time: Date.now(), slot: '', level: 'warn', message });
  // A board the ledger could not take is shown as failed on the screen; the run's exit code says it too.
  let unrecorded = 0;
  const offUnrecorded = station.bus.subscribe((e) => {
    if (e.type === 'result' && !e.recorded) unrecorded++;
  });

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
  // A closed output or a hang-up nobody asked for: stop as on Ctrl+C, and say so with the exit code.
  let stopCause: StopCause | undefined;
  let offStopRequest: (() => void) | undefined;
  // The station runs until stopped, even when nothing is plugged in (a simulated run with every board done).
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let stopFill: (() => void) | undefined;
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
    offStopRequest = onStopRequest((cause) => {
      stopCause ??= cause;
      if (cause === 'output closed') {
        // Nobody reads the events any more; the ledger still gets every board.
        unsubscribeHeadless?.();
        unsubscribeHeadless = undefined;
      }
      onSignal();
    });
    built.startSimulation?.();
    // The recipe's streams packed for the next start, off the event loop (station-deflate-fill.ts).
    stopFill = packForNextStart(firmware, (e) => station.bus.publish(e));
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
    stopFill?.();
    offStopRequest?.();
    offUnrecorded();
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
    await ledger.close();
    await identity?.issuer.close();
    if (shipping) {
      // Every record is safe in the ledger already; this only tries to leave nothing for the next run to ship.
      const { drained, lagRecords } = await shipping.finish();
      if (!drained) {
        console.error(
          `esp-station run: ${lagRecords} record(s) not yet in the central database; they stay in the ledger and ship on the next run`,
        );
      }
    }
    unsubscribeHeadless?.();
  }
  if (stopCause) {
    console.error(
      `esp-station run: stopped because of a ${stopCause === 'hang-up' ? 'hang-up (terminal or session closed)' : 'closed output'}; boards in flight were finished or failed, and recorded`,
    );
    return 1;
  }
  if (unrecorded > 0) {
    console.error(
      `esp-station run: ${unrecorded} board result(s) could NOT be written to the ledger; retest those boards once the ledger is fixed`,
    );
    return 1;
  }
  return 0;
}
