// The PostGIS StoreAdapter: its vocabulary (schemas and tables; limits on tables, indexes, constraints
// and rows), its language (SQL parsed by the real PostgreSQL parser) and one connected session composing
// the capabilities the runner's lifecycle calls, all on that session's single connection.
import type {
  ApplyRequest,
  ApplyResult,
  Baseline,
  BaselineOptions,
  ConnectionValues,
  ConnectOptions,
  LeaseRequest,
  LedgerEntry,
  LedgerRecord,
  LedgerState,
  LockResult,
  MigrationDeclaration,
  PreflightOptions,
  PreflightResult,
  Progress,
  ReceiptRecord,
  RollbackResult,
  ScriptFile,
  ScriptLanguage,
  StoreAdapter,
  StorePolicy,
  StoreSession,
  StoreVocabulary,
} from '@kfm/migration-contracts';
import { KfmError } from '@kfm/migration-contracts';
import type pg from 'pg';
import { applyForward, applyRollback, type RunContext } from './apply.js';
import { asLockTimeout, boundLockWaits, capturePostgisBaseline, createCaptureCache } from './capture.js';
import { connectPostgres } from './connection.js';
import {
  ensureLedger,
  readLedgerHistory,
  readLedgerState,
  readStorePolicy,
  recordLedgerEntry,
  recordReceiptRow,
  writeStorePolicy,
} from './ledger.js';
import { AdvisoryLock } from './lock.js';
import { preflightPostgis } from './preflight.js';
import { loadNameCatalog, namesIn } from './resolve.js';
import { tableSizes } from './lint.js';
import { postgisRehearsal } from './rehearsal.js';
import { splitScripts } from './statements.js';

const ALL = ['added', 'removed', 'changed'] as const;

export const postgisVocabulary: StoreVocabulary = {
  idPrefix: 'PG',
  scopeDimensions: ['schemas', 'tables'],
  protectedKeys: { schemas: { dimension: 'schemas' }, tables: { dimension: 'tables' } },
  limits: {
    max_table_count_touched: {
      measure: 'touched',
      dimension: 'tables',
      description: 'distinct tables (canonical names) whose definition or rows changed',
    },
    max_index_count_delta: {
      measure: 'changes',
      kind: 'index',
      changes: ALL,
      description: 'index objects added, removed or changed',
    },
    max_constraint_count_delta: {
      measure: 'changes',
      kind: 'constraint',
      changes: ALL,
      description: 'constraint objects added, removed or changed',
    },
    max_row_backfill: {
      measure: 'data',
      counters: ['inserted', 'updated', 'deleted'],
      description:
        'rows inserted, updated or deleted in any table, as the server counted them (dynamic SQL, functions and triggers included)',
    },
  },
  invariants: ['spatial_index_required'],
};

export const sqlLanguage: ScriptLanguage = {
  forward: 'forward.sql',
  rollback: 'rollback.sql',
  placeholder: (text) => `-- ${text.replace(/\n/g, '\n-- ')}\n`,
  async parse(scripts) {
    const split = await splitScripts(scripts);
    if (!split.ok) {
      const { file, line, column, message } = split.failure;
      return {
        statements: 0,
        issues: [{ code: 'SCRIPT_PARSE', file, line, column, message: `does not parse: ${message}` }],
      };
    }
    return { statements: split.statements.length, issues: [] };
  },
  preflight(scripts, declaration, options) {
    return preflightPostgis(scripts, declaration, options.protected, {
      ...(options.allowedRules ? { allowedRules: options.allowedRules } : {}),
    });
  },
  async lint(scripts, declaration, policy) {
    const result = await preflightPostgis(scripts, declaration, undefined, {
      lintWithoutSizes: true,
      ...(policy ? { lint: policy } : {}),
    });
    return result.lint ?? [];
  },
};

export class PostgisSession implements StoreSession {
  private ledgerReady = false;
  private readonly context: RunContext;
  private readonly advisory: AdvisoryLock;
  /** The previous capture on this connection, so the next one (POST, above all) reads only what changed. */
  private readonly cache = createCaptureCache();

  constructor(
    /** The session's one connection: the advisory lock lives and dies with it. */
    readonly client: pg.Client,
    sanitize: (message: string) => string,
    applicationName: string,
    readonly server: string,
  ) {
    this.context = { client, sanitize, cache: this.cache };
    this.advisory = new AdvisoryLock(client, applicationName);
  }

  captureBaseline(options: BaselineOptions): Promise<Baseline> {
    // The change detector runs only for a capture the session may follow with another (PRE before POST).
    return capturePostgisBaseline(this.client, options, options.once ? undefined : this.cache);
  }

  /** Preflight reads the catalog (names, sizes) in one read-only transaction with a bounded lock wait. */
  async preflight(
    scripts: ScriptFile[],
    declaration: MigrationDeclaration,
    options: PreflightOptions,
  ): Promise<PreflightResult> {
    await this.client.query('BEGIN READ ONLY');
    try {
      await boundLockWaits(this.client, declaration);
      // Only the names the scripts spell: the catalog's cost follows the scripts, not the database.
      const catalog = await loadNameCatalog(this.client, namesIn(scripts.map((script) => script.text)));
      const result = await preflightPostgis(scripts, declaration, options.protected, {
        catalog,
        sizes: (tables) => tableSizes(this.client, tables),
        ...(options.lint ? { lint: options.lint } : {}),
        ...(options.allowedRules ? { allowedRules: options.allowedRules } : {}),
      });
      await this.client.query('COMMIT');
      return result;
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw asLockTimeout(error, 'preflight');
    }
  }

  lock(request: LeaseRequest): Promise<LockResult> {
    return this.advisory.lock(request);
  }

  unlock(): Promise<void> {
    return this.advisory.unlock();
  }

  lockHolder() {
    return this.advisory.lockHolder();
  }

  breakLock(options: { force: boolean; reason: string }) {
    return this.advisory.breakLock(options);
  }

  ledgerState(migrationId: string): Promise<LedgerState> {
    return readLedgerState(this.client, migrationId);
  }

  ledgerHistory(migrationId?: string): Promise<LedgerRecord[]> {
    return readLedgerHistory(this.client, migrationId);
  }

  async recordLedger(entry: LedgerEntry): Promise<void> {
    await this.ensureLedger();
    await recordLedgerEntry(this.client, entry);
  }

  /** A 'receipt' row: the receipt chain's new head, leaving every migration's state as it was. */
  async recordReceipt(record: ReceiptRecord): Promise<void> {
    await this.ensureLedger();
    await recordReceiptRow(this.client, record);
  }

  readPolicy(): Promise<StorePolicy | undefined> {
    return readStorePolicy(this.client);
  }

  async writePolicy(policy: StorePolicy): Promise<void> {
    await this.ensureLedger();
    await writeStorePolicy(this.client, policy);
  }

  async apply(request: ApplyRequest): Promise<ApplyResult> {
    // The ledger row is written in the forward transaction, so its table must exist before BEGIN.
    await this.ensureLedger();
    return applyForward(this.context, request);
  }

  runRollback(scripts: ScriptFile[], declaration: MigrationDeclaration, progress?: Progress): Promise<RollbackResult> {
    return applyRollback(this.context, scripts, declaration, progress);
  }

  async close(): Promise<void> {
    await this.client.end();
  }

  private async ensureLedger(): Promise<void> {
    if (this.ledgerReady) return;
    await ensureLedger(this.client);
    this.ledgerReady = true;
  }
}

export const postgisAdapter: StoreAdapter = {
  type: 'postgis',
  description: 'PostgreSQL + PostGIS: transactional DDL/DML with the scope check before COMMIT',
  vocabulary: postgisVocabulary,
  language: sqlLanguage,
  connection: { dsn: 'KFM_PG_DSN' },
  async connect(values: ConnectionValues, options: ConnectOptions): Promise<StoreSession> {
    const dsn = values.dsn;
    if (!dsn)
      throw new KfmError({ code: 'ENV_MISSING', message: 'no PostgreSQL connection string was given (role `dsn`)' });
    const { client, sanitize } = await connectPostgres(dsn, options.applicationName);
    const version = (await client.query(`SELECT current_setting('server_version') AS version`)).rows[0] as {
      version: string;
    };
    return new PostgisSession(client, sanitize, options.applicationName, `PostgreSQL ${version.version}`);
  },
  rehearsal: postgisRehearsal,
};
