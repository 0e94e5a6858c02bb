// Scratch copies of a PostgreSQL database for rollback rehearsals: `CREATE DATABASE kfm_rehearsal_<hex>
// TEMPLATE <source>` copies schema, data, extensions and the kfm_ledger in one server-side operation, with
// no client tools and no rows through the runner. PostgreSQL allows it only while NO other session is
// connected to the source (the runner's own included), and blocks new connections to the source while it
// copies, so the copy is a consistent snapshot. When others are connected the copy is refused with a clear
// message instead of a pg_dump fallback: a dump of a busy database is a different, slower guarantee.
// The statements run from a maintenance database (postgres, else template1), never from the source.
import { randomBytes } from 'node:crypto';
import { KfmError, type ConnectionValues, type RehearsalCapability, type ScratchStore } from '@kfm/migration-contracts';
import type pg from 'pg';
import { pgModule } from './pg-module.js';
import { sanitizer } from '@kfm/adapter-kit';
import { connectPostgres } from './connection.js';

/** Every scratch database's name starts with this; dispose refuses to drop anything else. */
export const SCRATCH_PREFIX = 'kfm_rehearsal_';

const MAINTENANCE_DATABASES = ['postgres', 'template1'];
/** SQLSTATE object_in_use: "source database … is being accessed by other users". */
const OBJECT_IN_USE = '55006';

/** The DSN with another database; URL DSNs only (what node-postgres accepts as a connection string). */
export function withDatabase(dsn: string, database: string): string {
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    throw new KfmError({
      code: 'ARGUMENT_INVALID',
      message: 'a rehearsal needs a postgres:// URL connection string (the value is not shown)',
    });
  }
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** The database a DSN names, resolved as node-postgres resolves it (default: the user's name). */
export function databaseOf(dsn: string): string {
  const database = new (pgModule().Client)({ connectionString: dsn }).database;
  if (!database) throw new KfmError({ code: 'ARGUMENT_INVALID', message: 'the connection string names no database' });
  return database;
}

export interface ScratchOptions {
  /** Stored as the scratch database's COMMENT, so an orphan (runner killed) is recognisable. */
  label: string;
  applicationName: string;
  /** Injected for tests; default kfm_rehearsal_<12 hex>. */
  name?: string;
}

export async function createScratchDatabase(dsn: string, options: ScratchOptions): Promise<ScratchStore> {
  const source = databaseOf(dsn);
  const name = options.name ?? `${SCRATCH_PREFIX}${randomBytes(6).toString('hex')}`;
  if (!name.startsWith(SCRATCH_PREFIX))
    throw new KfmError({ code: 'ARGUMENT_INVALID', message: `scratch database names start with ${SCRATCH_PREFIX}` });
  const sanitize = sanitizer([dsn, new (pgModule().Client)({ connectionString: dsn }).user]);
  const maintenance = await connectMaintenance(dsn, options.applicationName);
  try {
    const busy = await idleOrBusy(maintenance.client, source);
    if (busy) throw busyError(source, busy);
    try {
      // The copy keeps the source's owner: the owner renders into the baseline (the database, the public
      // schema of PostgreSQL 15), and a migration running as the owner must have the same rights there.
      const { rows } = await maintenance.client.query<{ owner: string; me: string }>(
        'SELECT pg_get_userbyid(datdba) AS owner, current_user AS me FROM pg_database WHERE datname = $1',
        [source],
      );
      const owner = rows[0] && rows[0].owner !== rows[0].me ? ` OWNER ${ident(rows[0].owner)}` : '';
      await maintenance.client.query(`CREATE DATABASE ${ident(name)} TEMPLATE ${ident(source)}${owner}`);
    } catch (error) {
      // Someone connected between the check and the copy.
      if ((error as { code?: string }).code === OBJECT_IN_USE)
        throw busyError(source, (await otherSessions(maintenance.client, source)) ?? { count: 1, applications: '' });
      throw new KfmError({
        code: 'STORE_UNREACHABLE',
        message: `could not copy database "${source}" for a rehearsal: ${sanitize(error instanceof Error ? error.message : String(error))}`,
      });
    }
    await maintenance.client.query(
      `COMMENT ON DATABASE ${ident(name)} IS ${maintenance.client.escapeLiteral(`kfm-migrate rehearsal scratch copy of ${source}: ${options.label}`)}`,
    );
  } finally {
    await maintenance.client.end().catch(() => undefined);
  }
  let disposed = false;
  return {
    name,
    values: { dsn: withDatabase(dsn, name) },
    async dispose() {
      if (disposed) return;
      await dropScratchDatabase(dsn, name, options.applicationName);
      disposed = true;
    },
  };
}

/** Drops a scratch database, disconnecting whatever is still connected to it. Refuses non-scratch names. */
export async function dropScratchDatabase(dsn: string, name: string, applicationName: string): Promise<void> {
  if (!name.startsWith(SCRATCH_PREFIX))
    throw new KfmError({ code: 'ARGUMENT_INVALID', message: `refusing to drop ${name}: not a scratch database` });
  const maintenance = await connectMaintenance(dsn, applicationName);
  try {
    await maintenance.client.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
  } finally {
    await maintenance.client.end().catch(() => undefined);
  }
}

/** The PostGIS adapter's rehearsal capability (role `dsn`). */
export const postgisRehearsal: RehearsalCapability = {
  createScratch(values: ConnectionValues, options: { label: string; applicationName: string }): Promise<ScratchStore> {
    const dsn = values.dsn;
    if (!dsn)
      throw new KfmError({ code: 'ENV_MISSING', message: 'no PostgreSQL connection string was given (role `dsn`)' });
    return createScratchDatabase(dsn, options);
  },
};

async function connectMaintenance(dsn: string, applicationName: string) {
  let last: unknown;
  for (const database of MAINTENANCE_DATABASES) {
    try {
      return await connectPostgres(withDatabase(dsn, database), applicationName);
    } catch (error) {
      last = error;
    }
  }
  throw last;
}

/**
 * A session that has just disconnected (the runner's own capture, a seeding psql) can linger in
 * pg_stat_activity for a moment while its backend exits; wait up to ~3 s, as CREATE DATABASE itself does.
 */
async function idleOrBusy(
  client: pg.Client,
  database: string,
): Promise<{ count: number; applications: string } | undefined> {
  let busy = await otherSessions(client, database);
  for (let attempt = 0; busy && attempt < 30; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    busy = await otherSessions(client, database);
  }
  return busy;
}

async function otherSessions(
  client: pg.Client,
  database: string,
): Promise<{ count: number; applications: string } | undefined> {
  const { rows } = await client.query(
    `SELECT count(*)::int AS count, coalesce(string_agg(DISTINCT nullif(application_name, ''), ', '), '') AS applications
       FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
    [database],
  );
  const row = rows[0] as { count: number; applications: string };
  return row.count > 0 ? row : undefined;
}

function busyError(source: string, busy: { count: number; applications: string }): KfmError {
  const who = busy.applications ? ` (application_name: ${busy.applications})` : '';
  return new KfmError({
    code: 'STORE_UNREACHABLE',
    message: `cannot copy database "${source}" for a rehearsal: CREATE DATABASE … TEMPLATE needs no other session connected to it, and ${busy.count} ${busy.count === 1 ? 'is' : 'are'}${who}. Rehearse while it is idle, or against a restored copy.`,
  });
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
