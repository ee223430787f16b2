/**
 * `esp-station sim --listen tcp://127.0.0.1:PORT`: serve simulated boards over raw TCP (socket://) until
 * SIGINT/SIGTERM. Exit 0 after a clean stop, 2 for bad input.
 */
import { parseCommandArgs } from '../command-args.ts';
import { InputError, type Problem } from '../../config/problems.ts';
import { CHIP_NAMES, chipByName } from '../../esp/chips/index.ts';
import { parseFlashSize, SimBoard } from '../../sim/board.ts';
import { FAULT_DOCS, FAULT_NAMES, parseFault, type FaultSpec } from '../../sim/faults.ts';
import { formatMac, parseMac } from '../../sim/mac.ts';
import { startSimServers, type SimServer } from '../../sim/tcp-server.ts';
import { parseRevision, formatRevision } from '../../esp/identity-text.ts';
import { revisionProblem } from '../../sim/revision.ts';

const USAGE = `usage: esp-station sim --listen tcp://HOST:PORT [options]

Serves simulated ESP boards over raw TCP; any socket:// client (esptool --port socket://HOST:PORT,
esp-station flash/info --port socket://HOST:PORT) can flash them. Over TCP there are no reset lines: the
board stays in download mode, its flash is kept across connections while this process runs.
  --listen URL        tcp://HOST:PORT (PORT 0 = any free port)
  --at-listen URL     also serve each board's AT port (ESP-AT's UART1) on tcp://HOST:PORT, PORT+1, ...; it
                      speaks once the board boots an ESP-AT app from its flash (a reset: not over raw TCP)
  --chip CHIP         ${CHIP_NAMES.join(', ')} (default esp32)
  --mac MAC           base MAC AA:BB:CC:DD:EE:FF (with --boards, the last bytes count up)
  --flash-size SIZE   e.g. 4MB (default), 8MB, 16MB
  --revision vM.N     chip revision, e.g. v3.0 (default: what ships today, e.g. ESP32 v3.0, ESP32-C3 v0.4)
  --timing MODE       realistic (default: UART wire time, NOR erase/program times) or fast (no delays)
  --fault NAME[:ARG]  inject a fault, repeatable:
${FAULT_NAMES.map((n) => `                        ${(n + (FAULT_DOCS[n].arg ? `${FAULT_DOCS[n].required ? ':' : '[:'}${FAULT_DOCS[n].arg!.toUpperCase()}${FAULT_DOCS[n].required ? '' : ']'}` : '')).padEnd(28)}${FAULT_DOCS[n].text}`).join('\n')}
  --boards N          serve N boards on consecutive ports PORT..PORT+N-1 (default 1)
  --seed N            seed of the fault random generator (default 1)
  --latency-ms MS     USB round-trip latency of the board's bridge: chip-to-host bytes wait until a 64-byte
                      packet is full or MS pass (FTDI's default latency timer is 16); default 0 = off
Runs until SIGINT or SIGTERM.`;

export interface SimRunOptions {
  /** Stop when this aborts (tests); the CLI stops on SIGINT/SIGTERM. */
  signal?: AbortSignal;
  /** Called with the servers once they listen. */
  onListening?: (servers: SimServer[]) => void;
}

const cmdline = (key: string, message: string): Problem => ({ file: '<command line>', key, message });

export async function run(argv: string[], opts: SimRunOptions = {}): Promise<number> {
  const parsed = parseCommandArgs(
    {
      args: argv,
      options: {
        listen: { type: 'string' },
        'at-listen': { type: 'string' },
        chip: { type: 'string' },
        mac: { type: 'string' },
        'flash-size': { type: 'string' },
        revision: { type: 'string' },
        timing: { type: 'string' },
        fault: { type: 'string', multiple: true },
        boards: { type: 'string' },
        seed: { type: 'string' },
        'latency-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  const problems: Problem[] = [];
  const listen = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(values.listen ?? '');
  if (!listen || Number(listen[2]) > 65535) {
    problems.push(
      cmdline(
        '--listen',
        `${values.listen === undefined ? '--listen is required' : `'${values.listen}' is not tcp://HOST:PORT`}; e.g. --listen tcp://127.0.0.1:5555`,
      ),
    );
  }
  let atPort: number | undefined;
  if (values['at-listen'] !== undefined) {
    const at = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(values['at-listen']);
    if (!at || Number(at[2]) > 65535 || (listen && at[1] !== listen[1])) {
      problems.push(
        cmdline(
          '--at-listen',
          `'${values['at-listen']}' is not tcp://HOST:PORT on the host of --listen; e.g. --at-listen tcp://127.0.0.1:6555`,
        ),
      );
    } else atPort = Number(at[2]);
  }
  const chip = chipByName(values.chip ?? 'esp32');
  if (!chip)
    problems.push(cmdline('--chip', `unknown chip '${values.chip}'; use one of ${CHIP_NAMES.join(', ')}`));
  let mac: Uint8Array | undefined;
  if (values.mac !== undefined) {
    try {
      mac = parseMac(values.mac);
    } catch (err) {
      problems.push(cmdline('--mac', (err as Error).message));
    }
  }
  let flashSize = 4 * 1024 * 1024;
  if (values['flash-size'] !== undefined) {
    try {
      flashSize = parseFlashSize(values['flash-size']);
      if (flashSize < 0x10000 || flashSize % 0x10000 !== 0)
        throw new Error(`flash size must be a multiple of 64KB`);
    } catch (err) {
      problems.push(cmdline('--flash-size', (err as Error).message));
    }
  }
  let revision: number | undefined;
  if (values.revision !== undefined) {
    revision = parseRevision(values.revision);
    const problem =
      revision === undefined
        ? `'${values.revision}' is not a chip revision; write it as esptool prints it, e.g. v3.0 or v0.4`
        : chip && (await revisionProblem(chip, revision));
    if (problem) problems.push(cmdline('--revision', problem));
  }
  const timing = values.timing ?? 'realistic';
  if (timing !== 'realistic' && timing !== 'fast') {
    problems.push(cmdline('--timing', `'${timing}' is not a timing mode; use realistic or fast`));
  }
  const faults: FaultSpec[] = [];
  for (const text of values.fault ?? []) {
    try {
      faults.push(parseFault(text));
    } catch (err) {
      problems.push(cmdline('--fault', (err as Error).message));
    }
  }
  const boards = Number(values.boards ?? '1');
  if (!Number.isInteger(boards) || boards < 1 || boards > 256) {
    problems.push(cmdline('--boards', `'${values.boards}' is not a board count between 1 and 256`));
  }
  const seed = Number(values.seed ?? '1');
  if (!Number.isInteger(seed)) problems.push(cmdline('--seed', `'${values.seed}' is not a whole number`));
  const latencyMs = Number(values['latency-ms'] ?? '0');
  if (!Number.isFinite(latencyMs) || latencyMs < 0 || latencyMs > 1000) {
    problems.push(
      cmdline(
        '--latency-ms',
        `'${values['latency-ms']}' is not a latency in ms between 0 and 1000 (FTDI: 16)`,
      ),
    );
  }
  if (problems.length > 0 || !listen || !chip) throw new InputError(problems);

  const simBoards = Array.from({ length: boards }, (_, i) => {
    let boardMac: Uint8Array | undefined;
    if (mac) {
      boardMac = Uint8Array.from(mac);
      const low = (((mac[3] << 16) | (mac[4] << 8) | mac[5]) + i) & 0xffffff;
      boardMac.set([(low >> 16) & 0xff, (low >> 8) & 0xff, low & 0xff], 3);
    }
    return new SimBoard({
      chip,
      mac: boardMac,
      flashSize,
      ...(revision !== undefined && { revision }),
      timing: timing as 'realistic' | 'fast',
      faults,
      seed: seed + i,
      usbLatencyMs: latencyMs,
    });
  });
  const servers = await startSimServers({
    host: listen[1],
    port: Number(listen[2]),
    boards: simBoards,
    ...(atPort !== undefined && { atPort }),
  });
  for (const s of servers) {
    console.log(
      `sim: ${chip.displayName} ${formatRevision(s.board.revision)} ${formatMac(s.board.macBytes)} listening on ${s.url} (socket://${s.host}:${s.port})${s.at ? `, AT port on ${s.at.url}` : ''}`,
    );
  }
  if (faults.length > 0) console.log(`sim: faults ${faults.map((f) => f.name).join(', ')}`);
  opts.onListening?.(servers);

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      opts.signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (opts.signal?.aborted) stop();
    else opts.signal?.addEventListener('abort', stop, { once: true });
  });
  await Promise.all(servers.flatMap((s) => [s.close(), ...(s.at ? [s.at.close()] : [])]));
  console.log('sim: stopped');
  return 0;
}
