// Connecting to PostgreSQL without ever leaking a connection value: errors name host and port only,
// and any DSN, user name or password the driver echoes is masked before it reaches a message.
import { KfmError } from '@kfm/migration-contracts';
import pg from 'pg';

export interface Connected {
  client: pg.Client;
  /** Masks connection values in any text that may leave the adapter (errors, findings). */
  sanitize(message: string): string;
  /** `host:port`, safe to show. */
  endpoint: string;
}

/** Milliseconds to wait for a server before calling it unreachable. */
const CONNECT_TIMEOUT = 10_000;

/** URLs with credentials, key=value passwords, and the quoted user/role names PostgreSQL echoes. */
const GENERIC_SECRETS: [RegExp, string][] = [
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@'],
  [/\b(password|user)\s*=\s*\S+/gi, '$1=***'],
  [/\b(user|role)\s+"[^"]*"/gi, '$1 "***"'],
];

export function sanitizer(secrets: readonly (string | undefined)[]): (message: string) => string {
  // Longest first, so a DSN is masked whole before its parts; very short values would mask
  // innocent text, and the generic patterns above already cover where drivers echo them.
  const values = [...new Set(secrets.filter((value): value is string => typeof value === 'string' && value.length >= 3))].sort((a, b) => b.length - a.length);
  return (message: string) => {
    let result = message;
    for (const value of values) result = result.split(value).join('***');
    for (const [pattern, replacement] of GENERIC_SECRETS) result = result.replace(pattern, replacement);
    return result;
  };
}

export async function connectPostgres(dsn: string, applicationName: string): Promise<Connected> {
  let client: pg.Client;
  try {
    client = new pg.Client({ connectionString: dsn, application_name: applicationName, connectionTimeoutMillis: CONNECT_TIMEOUT });
  } catch {
    throw new KfmError({ code: 'STORE_UNREACHABLE', message: 'PostgreSQL connection settings are invalid (the value is not shown)' });
  }
  const { host, port, user, password } = client;
  const sanitize = sanitizer([dsn, typeof password === 'string' ? password : undefined, user]);
  const endpoint = `${host || 'localhost'}:${port}`;
  // A server that goes away later emits 'error' on the client; without a listener Node would crash.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    const reason = sanitize(error instanceof Error ? error.message || (error as NodeJS.ErrnoException).code || error.name : String(error));
    throw new KfmError({ code: 'STORE_UNREACHABLE', message: `PostgreSQL at ${sanitize(endpoint)} is unreachable: ${reason}` });
  }
  // If the runner dies mid-apply (SIGKILL, lost network), the server notices within a second even
  // inside a long statement, rolls the transaction back and releases the advisory lock (PG 14+).
  await client.query("SET client_connection_check_interval = '1s'").catch(() => undefined);
  return { client, sanitize, endpoint };
}
