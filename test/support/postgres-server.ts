/**
 * A real PostgreSQL server for tests: Debian's `postgresql` package (binaries under /usr/lib/postgresql/N/bin),
 * a temporary data directory, a free TCP port on 127.0.0.1 and a unix socket in the temporary directory.
 * No mocks: the central tests talk to this server over the same `pg` client the station uses.
 *
 * initdb refuses to run as root, and CI runs as root: then every server program runs as the unprivileged
 * `postgres` user (setpriv, which execs in place, so the pid we hold is the server's own) on a directory that
 * user owns. The cluster is initialised once per machine into a template directory and copied per server
 * (a copy costs a tenth of an initdb), so a test file pays for one copy and one server start.
 *
 * A missing server is an error with a clear message, never a skipped test.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** A role that must log in with a password over TCP (the trust rule below exempts everyone else). */
export const PASSWORD_ROLE = 'station_pw';

const SUPERUSER = 'postgres';
/** Settings that make a throw-away cluster fast; none of them changes what a client sees. */
const SERVER_SETTINGS = [
  'fsync=off', // a killed server process still leaves its writes in the OS page cache
  'full_page_writes=off',
  'shared_buffers=16MB',
  'max_connections=60',
  'listen_addresses=127.0.0.1',
  'log_min_messages=warning',
  'unix_socket_permissions=0777',
];
/** Password auth for PASSWORD_ROLE over TCP, trust for everything else (tests connect without secrets). */
const HBA = [
  `host all ${PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256`,
  'host all all 127.0.0.1/32 trust',
  'local all all trust',
].join('\n');

export interface PostgresServer {
  readonly version: string;
  readonly port: number;
  /** The directory holding the unix socket (`host` for a socket connection). */
  readonly socketDir: string;
  /** postgres://postgres@127.0.0.1:PORT/DB (TCP, trust). */
  url(database?: string, user?: string): string;
  /** A new, empty database; returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
  /** SQL as the superuser on `database` (default postgres), over the unix socket. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
    database?: string,
  ): Promise<pg.QueryResult<R>>;
  /** Fast shutdown (SIGINT): clients are disconnected, the data stays. */
  stop(): Promise<void>;
  /** Immediate shutdown (SIGQUIT), as after a crash: no checkpoint, recovery on the next start. */
  crash(): Promise<void>;
  /** Starts the server again on the same port and data. */
  start(): Promise<void>;
  readonly running: boolean;
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
}

interface Binaries {
  version: string;
  bin: string;
}

/** The newest installed Debian PostgreSQL with a server; an Error saying how to install it otherwise. */
export function findPostgresBinaries(root = '/usr/lib/postgresql'): Binaries {
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter(
          (v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'postgres')),
        )
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      `no PostgreSQL server found (looked for ${root}/*/bin/initdb and postgres): the central tests need a real ` +
        'server; install it with .ci/setup-test-deps.sh (Debian package postgresql)',
    );
  }
  return { version: versions[0], bin: join(root, versions[0], 'bin') };
}

const isRoot = () => process.getuid?.() === 0;

/** The command line that runs `program` as the server's user: itself unless we are root. */
function asServerUser(program: string, args: string[]): [string, string[]] {
  if (!isRoot()) return [program, args];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', program, ...args]];
}

function serverUser(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) {
    throw new Error(
      "running as root, but there is no 'postgres' user to run the PostgreSQL server as (initdb refuses root); " +
        'the Debian postgresql package creates it: run .ci/setup-test-deps.sh',
    );
  }
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

function run(program: string, args: string[], what: string): void {
  const [cmd, argv] = asServerUser(program, args);
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`${what} failed (exit ${r.status}): ${(r.stderr || r.stdout || String(r.error)).trim()}`);
  }
}

/** One initialised cluster per machine, version and user, made once and copied for every server. */
function templateCluster(b: Binaries, owner: { uid: number; gid: number } | undefined): string {
  const key = createHash('sha256').update(`${b.bin}\n${HBA}\n${SUPERUSER}`).digest('hex').slice(0, 12);
  const template = join(tmpdir(), `esp-station-pg-template-${b.version}-${userInfo().uid}-${key}`);
  if (existsSync(join(template, 'PG_VERSION'))) return template;
  const work = mkdtempSync(join(tmpdir(), 'esp-station-pg-initdb-'));
  try {
    if (owner) chownSync(work, owner.uid, owner.gid);
    const data = join(work, 'data');
    run(
      join(b.bin, 'initdb'),
      ['-D', data, '-U', SUPERUSER, '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'],
      'initdb',
    );
    // initdb writes its own pg_hba.conf; ours goes in through the config file instead (hba_file below).
    try {
      renameSync(data, template); // atomic: a concurrent test file either sees the whole template or none
    } catch (err) {
      if (!existsSync(join(template, 'PG_VERSION'))) throw err;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return template;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts a server on a fresh copy of the template cluster. */
export async function startPostgres(): Promise<PostgresServer> {
  const binaries = findPostgresBinaries();
  const owner = serverUser();
  const template = templateCluster(binaries, owner);
  const dir = mkdtempSync(join(tmpdir(), 'esp-station-pg-'));
  const data = join(dir, 'data');
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const cp = spawnSync('cp', ['-a', template, data], { encoding: 'utf8' });
  if (cp.status !== 0) throw new Error(`copying the PostgreSQL template cluster failed: ${cp.stderr}`);
  const hbaFile = join(dir, 'pg_hba.conf');
  writeFileSync(hbaFile, `${HBA}\n`);
  if (owner) chownSync(hbaFile, owner.uid, owner.gid);

  let port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let databases = 0;

  const launch = async (): Promise<void> => {
    const args = ['-D', data, '-p', String(port), '-k', dir, '-c', `hba_file=${hbaFile}`];
    for (const s of SERVER_SETTINGS) args.push('-c', s);
    const [cmd, argv] = asServerUser(join(binaries.bin, 'postgres'), args);
    const proc = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let log = '';
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        log += d.toString();
        if (log.includes('ready to accept connections')) {
          proc.stderr?.off('data', onData);
          proc.stderr?.resume(); // keep draining, never block the server on a full pipe
          resolve();
        }
      };
      proc.stderr?.on('data', onData);
      proc.once('exit', (code) => {
        child = undefined;
        reject(Object.assign(new Error(`postgres exited (${code}) while starting:\n${log.trim()}`), { log }));
      });
      proc.once('error', reject);
    });
  };

  const startOnFreePort = async (): Promise<void> => {
    for (let tries = 0; ; tries++) {
      try {
        return await launch();
      } catch (err) {
        // Another process took the port between freePort() and bind(): take another one.
        const busy = /could not bind|Address already in use/.test((err as { log?: string }).log ?? '');
        if (!busy || tries >= 5) throw err;
        port = await freePort();
      }
    }
  };

  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc) return;
    proc.kill(sig);
    await exited;
    child = undefined;
  };

  const cleanUpOnExit = () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanUpOnExit);

  try {
    await startOnFreePort();
  } catch (err) {
    cleanUpOnExit();
    process.off('exit', cleanUpOnExit);
    throw err;
  }

  const query = async <R extends pg.QueryResultRow>(
    sql: string,
    params: unknown[] = [],
    database = 'postgres',
  ) => {
    const client = new pg.Client({ host: dir, port, user: SUPERUSER, database });
    await client.connect();
    try {
      return await client.query<R>(sql, params);
    } finally {
      await client.end();
    }
  };

  const server: PostgresServer = {
    version: binaries.version,
    get port() {
      return port;
    },
    socketDir: dir,
    url: (database = 'postgres', user = SUPERUSER) => `postgres://${user}@127.0.0.1:${port}/${database}`,
    async createDatabase(prefix = 'test') {
      const name = `${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${++databases}`;
      await query(`CREATE DATABASE ${name}`);
      return server.url(name);
    },
    query,
    stop: () => signal('SIGINT'),
    crash: () => signal('SIGQUIT'),
    async start() {
      if (!child) await launch();
    },
    get running() {
      return child !== undefined;
    },
    async close() {
      await signal('SIGINT');
      rmSync(dir, { recursive: true, force: true });
      process.off('exit', cleanUpOnExit);
    },
  };
  return server;
}

/**
 * One server for the whole test file (node:test `before`/`after`), shared by its tests; each test takes a
 * database of its own with createDatabase().
 */
export function usePostgres(hooks: {
  before: (fn: () => Promise<void>) => void;
  after: (fn: () => Promise<void>) => void;
}): () => PostgresServer {
  let server: PostgresServer | undefined;
  hooks.before(async () => {
    server = await startPostgres();
  });
  hooks.after(async () => {
    await server?.close();
  });
  return () => {
    if (!server) throw new Error('the PostgreSQL server is not started (usePostgres hooks did not run)');
    return server;
  };
}
