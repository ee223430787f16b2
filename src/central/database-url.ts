/**
 * The central database's address: `postgres://user@host:port/database`, checked once and kept without any
 * secret. The password never travels in the URL (URLs end up in logs, shells' history and config files): it
 * comes from an environment variable or a file, read when connecting (see connection.ts).
 */

export interface DatabaseAddress {
  host: string;
  port: number;
  user: string;
  database: string;
  /** libpq's sslmode: disable (default), require (encrypted, any certificate), verify-full. */
  sslmode: 'disable' | 'require' | 'verify-full';
}

export type ParsedDatabaseUrl = { ok: true; address: DatabaseAddress } | { ok: false; message: string };

const SSL_MODES = ['disable', 'require', 'verify-full'] as const;
export const DEFAULT_PORT = 5432;

/** Parses and checks a database URL; the message says what to write instead. */
export function parseDatabaseUrl(text: string): ParsedDatabaseUrl {
  const example = 'postgres://station@db.factory.lan:5432/esp_station';
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return { ok: false, message: `'${text}' is not a database URL; write it as ${example}` };
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return { ok: false, message: `'${url.protocol}' is not a PostgreSQL URL; write it as ${example}` };
  }
  if (url.password !== '') {
    return {
      ok: false,
      message:
        'the URL carries a password; take it out of the URL and give it with passwordEnv (an environment ' +
        'variable) or passwordFile (a file readable only by the station), e.g. ' +
        example,
    };
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) {
    return { ok: false, message: `the URL names no database; write it as ${example}` };
  }
  const user = decodeURIComponent(url.username);
  if (user === '') return { ok: false, message: `the URL names no user; write it as ${example}` };
  let host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let sslmode: DatabaseAddress['sslmode'] = 'disable';
  for (const [key, value] of url.searchParams) {
    if (key === 'sslmode' && (SSL_MODES as readonly string[]).includes(value)) {
      sslmode = value as DatabaseAddress['sslmode'];
    } else if (key === 'host' && value.startsWith('/')) {
      host = value; // a unix socket directory, as libpq writes it
    } else {
      return {
        ok: false,
        message: `unknown URL option '${key}=${value}'; esp-station knows sslmode=${SSL_MODES.join('|')} and host=/socket/dir`,
      };
    }
  }
  if (host === '') return { ok: false, message: `the URL names no host; write it as ${example}` };
  const port = url.port === '' ? DEFAULT_PORT : Number(url.port);
  return { ok: true, address: { host, port, user, database, sslmode } };
}

/** The address as a URL for messages and reports: never a password (it has none). */
export function describeAddress(a: DatabaseAddress): string {
  const host = a.host.startsWith('/') ? 'localhost' : a.host.includes(':') ? `[${a.host}]` : a.host;
  const query = [
    ...(a.host.startsWith('/') ? [`host=${a.host}`] : []),
    ...(a.sslmode !== 'disable' ? [`sslmode=${a.sslmode}`] : []),
  ];
  return (
    `postgres://${encodeURIComponent(a.user)}@${host}:${a.port}/${encodeURIComponent(a.database)}` +
    (query.length > 0 ? `?${query.join('&')}` : '')
  );
}
