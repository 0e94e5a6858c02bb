// Connecting to PostgreSQL without ever leaking a connection value: errors name host and port only,
// and any DSN, user name or password the driver echoes is masked before it reaches a message.
import { sanitizer } from '@kfm/adapter-kit';
import { KfmError } from '@kfm/migration-contracts';
import type pg from 'pg';
import { pgModule } from './pg-module.js';

export interface Connected {
  client: pg.Client;
  /** Masks connection values in any text that may leave the adapter (errors, findings). */
  sanitize(message: string): string;
  /** `host:port`, safe to show. */
  endpoint: string;
}

/** Milliseconds to wait for a server before calling it unreachable. */
const CONNECT_TIMEOUT = 10_000;

export async function connectPostgres(dsn: string, applicationName: string): Promise<Connected> {
  let client: pg.Client;
  try {
    client = new (pgModule().Client)({
      connectionString: dsn,
      application_name: applicationName,
      connectionTimeoutMillis: CONNECT_TIMEOUT,
    });
  } catch {
    throw new KfmError({
      code: 'STORE_UNREACHABLE',
      message: 'PostgreSQL connection settings are invalid (the value is not shown)',
    });
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
    const reason = sanitize(
      error instanceof Error ? error.message || (error as NodeJS.ErrnoException).code || error.name : String(error),
    );
    throw new KfmError({
      code: 'STORE_UNREACHABLE',
      message: `PostgreSQL at ${sanitize(endpoint)} is unreachable: ${reason}`,
    });
  }
  // If the runner dies mid-apply (SIGKILL, lost network), the server notices within a second even
  // inside a long statement, rolls the transaction back and releases the advisory lock (PG 14+).
  await client.query("SET client_connection_check_interval = '1s'").catch(() => undefined);
  // Preflight parses scripts as standard_conforming_strings = on reads them. A database or role whose default
  // is off would read `'a\' , $q$'` as one string and run what follows it, unseen by preflight: the session
  // reads scripts as preflight did, whatever the defaults. (Scripts cannot turn it off: preflight refuses that.)
  try {
    await client.query('SET standard_conforming_strings = on');
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new KfmError({
      code: 'STORE_UNREACHABLE',
      message: `PostgreSQL at ${sanitize(endpoint)} refused standard_conforming_strings = on: ${sanitize(
        error instanceof Error ? error.message : String(error),
      )}`,
    });
  }
  return { client, sanitize, endpoint };
}
