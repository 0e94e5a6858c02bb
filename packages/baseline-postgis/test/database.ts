// Test support: every test file gets its own fresh database with PostGIS on the real server, and
// drops it afterwards, so files stay independent and leave nothing behind.
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import pg from 'pg';

/** The server under test (CI sources tools/stores/env.sh); the user defaults to the OS user like psql. */
export function serverDsn(): string {
  const url = new URL(process.env.KFM_PG_DSN ?? 'postgres://127.0.0.1:5432/kfm_test');
  if (!url.username) url.username = userInfo().username;
  return url.toString();
}

export interface TestDatabase {
  name: string;
  dsn: string;
  /** A connected client of the test database (closed by drop). */
  client: pg.Client;
  connect(applicationName?: string): Promise<pg.Client>;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `kfm_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverDsn() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverDsn());
  url.pathname = `/${name}`;
  const dsn = url.toString();
  const clients: pg.Client[] = [];
  const connect = async (applicationName = 'kfm-test') => {
    const client = new pg.Client({ connectionString: dsn, application_name: applicationName });
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  };
  const client = await connect();
  await client.query('CREATE EXTENSION postgis');
  return {
    name,
    dsn,
    client,
    connect,
    async drop() {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      const cleanup = new pg.Client({ connectionString: serverDsn() });
      await cleanup.connect();
      try {
        await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}

/**
 * Wraps client.query to count round trips (the capture must stay bounded whatever the table count) and
 * keep what each was sent (its first argument: the SQL text, or a query object).
 */
export function countQueries(client: pg.Client): { readonly count: number; readonly sent: unknown[]; reset(): void } {
  const sent: unknown[] = [];
  const original = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    sent.push(args[0]);
    return original(...args);
  };
  return {
    get count() {
      return sent.length;
    },
    sent,
    reset() {
      sent.length = 0;
    },
  };
}
