// Scratch copies for rollback rehearsals and receipt rows in the ledger, on the real server.
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  capturePostgisBaseline,
  createScratchDatabase,
  dropScratchDatabase,
  postgisAdapter,
  withDatabase,
} from '../src/index.js';
import { createTestDatabase, serverDsn, type TestDatabase } from './database.js';

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
  await db.client.query(
    'CREATE TABLE public.parcels (id int PRIMARY KEY, name text); INSERT INTO public.parcels SELECT g, md5(g::text) FROM generate_series(1, 500) g',
  );
});
afterEach(async () => {
  await db.drop();
});

async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverDsn() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
const databaseExists = (name: string) =>
  onServer(async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);

describe('scratch copies', () => {
  it('copies schema and data with TEMPLATE, labels the copy, and drops it on dispose', async () => {
    const source = await capturePostgisBaseline(db.client, {});
    await db.client.end(); // TEMPLATE needs the source to have no session
    const scratch = await createScratchDatabase(db.dsn, {
      label: 'PG-MIG-2026-03-01-01 test',
      applicationName: 'kfm-test',
    });
    try {
      expect(scratch.name).toMatch(/^kfm_rehearsal_[0-9a-f]{12}$/);
      expect(scratch.values.dsn).toBe(withDatabase(db.dsn, scratch.name));
      const copy = new pg.Client({ connectionString: scratch.values.dsn });
      await copy.connect();
      try {
        expect((await capturePostgisBaseline(copy, {})).fingerprints).toEqual(source.fingerprints);
        expect((await copy.query('SELECT count(*)::int AS n FROM public.parcels')).rows[0].n).toBe(500);
      } finally {
        await copy.end();
      }
      const comment = await onServer(
        async (c) =>
          (
            await c.query("SELECT shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname = $1", [
              scratch.name,
            ])
          ).rows[0].c,
      );
      expect(comment).toBe(`kfm-migrate rehearsal scratch copy of ${db.name}: PG-MIG-2026-03-01-01 test`);
    } finally {
      await scratch.dispose();
      await scratch.dispose(); // idempotent
    }
    expect(await databaseExists(scratch.name)).toBe(false);
    expect(await databaseExists(db.name)).toBe(true);
  });

  it('refuses while another session is connected, naming it, and leaves no database behind', async () => {
    await db.connect('busy-app');
    const name = `kfm_rehearsal_${'0'.repeat(12)}`;
    await expect(
      createScratchDatabase(db.dsn, { label: 'x', applicationName: 'kfm-test', name }),
    ).rejects.toMatchObject({ code: 'STORE_UNREACHABLE', message: expect.stringContaining('busy-app') });
    expect(await databaseExists(name)).toBe(false);
  });

  it('never drops a database that is not a scratch copy', async () => {
    await expect(dropScratchDatabase(db.dsn, db.name, 'kfm-test')).rejects.toMatchObject({ code: 'ARGUMENT_INVALID' });
    expect(await databaseExists(db.name)).toBe(true);
    expect(() => withDatabase('host=127.0.0.1 dbname=x', 'y')).toThrow(/postgres:\/\/ URL/);
  });
});

describe('receipt rows in the ledger', () => {
  it('records the chain head without changing any migration state, and stays append-only', async () => {
    const session = await postgisAdapter.connect({ dsn: db.dsn }, { applicationName: 'kfm-test' });
    try {
      await session.recordLedger({
        migration_id: 'PG-MIG-2026-03-01-01',
        bundle_digest: 'bafkreia',
        run_id: 'run-1',
        status: 'applied',
      });
      await session.recordReceipt?.({
        migration_id: 'PG-MIG-2026-03-01-01',
        bundle_digest: 'bafkreia',
        run_id: 'run-1',
        receipt_digest: 'bagaaierareceipt1',
      });
      await session.recordReceipt?.({
        migration_id: 'PG-MIG-2026-03-02-01',
        bundle_digest: 'bafkreib',
        run_id: 'run-2',
        receipt_digest: 'bagaaierareceipt2',
      });
      expect(await session.ledgerState('PG-MIG-2026-03-01-01')).toEqual({
        state: 'applied',
        bundle_digest: 'bafkreia',
        run_id: 'run-1',
        last_receipt_digest: 'bagaaierareceipt2',
      });
      // A receipt row alone (an aborted first apply) leaves the migration absent.
      expect(await session.ledgerState('PG-MIG-2026-03-02-01')).toEqual({
        state: 'absent',
        last_receipt_digest: 'bagaaierareceipt2',
      });
      await expect(
        db.client.query("UPDATE kfm_ledger.applied SET receipt_digest = 'forged' WHERE status = 'receipt'"),
      ).rejects.toThrow(/append-only/);
      await expect(
        db.client.query(
          "INSERT INTO kfm_ledger.applied (migration_id, bundle_digest, run_id, status) VALUES ('x', 'y', 'z', 'bogus')",
        ),
      ).rejects.toThrow(/applied_status_check/);
    } finally {
      await session.close();
    }
  });
});
