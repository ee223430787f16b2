/**
 * Connecting to the central database with `pg`. The password is read when connecting, from the environment
 * variable or file the config names (a rotated password needs no restart), and is never part of a message:
 * pg keeps it out of its own errors, and our messages only name the variable or the file.
 */
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import type { DatabaseAddress } from './database-url.ts';
import { describeAddress } from './database-url.ts';

export interface CentralTarget {
  address: DatabaseAddress;
  /** Name of the environment variable holding the password. */
  passwordEnv?: string;
  /** Path of a file holding the password (first line). */
  passwordFile?: string;
}

export interface ConnectOptions {
  /** Shown in pg_stat_activity, so a DBA sees which station a session belongs to. */
  applicationName?: string;
  /** Give up connecting after this long (default 10 s). */
  connectTimeoutMs?: number;
  /** Give up on a query whose reply does not arrive (a stalled link) after this long (default 30 s). */
  queryTimeoutMs?: number;
}

/** A problem with the password source: a configuration problem, not a network one. */
export class PasswordSourceError extends Error {
  override name = 'PasswordSourceError';
}

async function password(target: CentralTarget): Promise<string> {
  if (target.passwordEnv !== undefined) {
    const value = process.env[target.passwordEnv];
    if (value === undefined || value === '') {
      throw new PasswordSourceError(
        `the environment variable ${target.passwordEnv} (central.passwordEnv) is not set; set it to the database password`,
      );
    }
    return value;
  }
  const file = target.passwordFile as string;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new PasswordSourceError(
      `the password file ${file} (central.passwordFile) cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const first = text.split(/\r?\n/, 1)[0];
  if (first === '')
    throw new PasswordSourceError(`the password file ${file} (central.passwordFile) is empty`);
  return first;
}

/** A connected client; its errors after connecting surface on the next query instead of crashing the process. */
export async function connectCentral(
  target: CentralTarget,
  options: ConnectOptions = {},
): Promise<pg.Client> {
  const a = target.address;
  const hasPassword = target.passwordEnv !== undefined || target.passwordFile !== undefined;
  // The password is resolved before the client exists, so a PasswordSourceError never looks like a network one.
  const secret = hasPassword ? await password(target) : undefined;
  const client = new pg.Client({
    host: a.host,
    port: a.port,
    user: a.user,
    database: a.database,
    ...(secret !== undefined && { password: secret }),
    ...(a.sslmode !== 'disable' && { ssl: { rejectUnauthorized: a.sslmode === 'verify-full' } }),
    application_name: (options.applicationName ?? 'esp-station').slice(0, 63),
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    query_timeout: options.queryTimeoutMs ?? 30_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  // A link cut while idle is reported here; without a listener pg's 'error' event would end the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  return client;
}

/** Closes a client without waiting on a dead link. */
export async function closeClient(client: pg.Client | undefined): Promise<void> {
  if (!client) return;
  const ended = client.end().catch(() => undefined);
  const timer = new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref());
  await Promise.race([ended, timer]);
}

/** One line about why the database could not be used, for the screen, the events and the log. */
export function describeDatabaseError(err: unknown, target: CentralTarget): string {
  const e = err as { code?: string; message?: string };
  const where = describeAddress(target.address);
  if (err instanceof PasswordSourceError) return e.message ?? 'password source problem';
  switch (e.code) {
    case 'ECONNREFUSED':
      return `${where}: connection refused (is PostgreSQL running and listening there?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${where}: host not found`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where}: unreachable (${e.code})`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `${where}: connection lost (${e.code})`;
    case '28P01':
    case '28000':
      return `${where}: ${e.message} (check central.passwordEnv / passwordFile and the server's pg_hba.conf)`;
    case '3D000':
      return `${where}: ${e.message} (create it: createdb ${target.address.database})`;
    case '42501':
      return `${where}: ${e.message} (the user needs the privileges listed in docs/central.md)`;
  }
  const message = e.message ?? String(err);
  if (/timeout/i.test(message)) return `${where}: no reply (${message})`;
  return `${where}: ${message}`;
}
