// The PostGIS StoreAdapter: connects one session and composes the capabilities (baseline, preflight,
// lock, ledger, apply) the runner's lifecycle calls, all on that session's single connection.
import type {
  ApplyRequest,
  ApplyResult,
  Baseline,
  BaselineOptions,
  ConnectionValues,
  LedgerEntry,
  LedgerState,
  LockResult,
  MigrationDeclaration,
  PreflightResult,
  Progress,
  ProtectedDomains,
  ReceiptRecord,
  RollbackResult,
  ScriptFile,
  StoreAdapter,
  StoreSession,
} from '@kfm/migration-contracts';
import { KfmError } from '@kfm/migration-contracts';
import type pg from 'pg';
import { applyForward, applyRollback, type RunContext } from './apply.js';
import { capturePostgisBaseline } from './capture.js';
import { connectPostgres } from './connection.js';
import { ensureLedger, readLedgerState, recordLedgerEntry, recordReceiptRow } from './ledger.js';
import { releaseLock, tryLock } from './lock.js';
import { preflightPostgis } from './preflight.js';
import { postgisRehearsal } from './rehearsal.js';

export class PostgisSession implements StoreSession {
  private ledgerReady = false;
  private readonly context: RunContext;

  constructor(
    /** The session's one connection: the advisory lock lives and dies with it. */
    readonly client: pg.Client,
    sanitize: (message: string) => string,
    private readonly applicationName: string,
  ) {
    this.context = { client, sanitize };
  }

  captureBaseline(options: BaselineOptions): Promise<Baseline> {
    return capturePostgisBaseline(this.client, options);
  }

  preflight(scripts: ScriptFile[], declaration: MigrationDeclaration, protectedDomains?: ProtectedDomains): Promise<PreflightResult> {
    return preflightPostgis(scripts, declaration, protectedDomains);
  }

  lock(owner: string): Promise<LockResult> {
    return tryLock(this.client, owner, this.applicationName);
  }

  unlock(): Promise<void> {
    return releaseLock(this.client, this.applicationName);
  }

  ledgerState(migrationId: string): Promise<LedgerState> {
    return readLedgerState(this.client, migrationId);
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
  scripts: { forward: 'forward.sql', rollback: 'rollback.sql' },
  connection: { dsn: 'KFM_PG_DSN' },
  async connect(values: ConnectionValues, options: { applicationName: string }): Promise<StoreSession> {
    const dsn = values.dsn;
    if (!dsn) throw new KfmError({ code: 'ENV_MISSING', message: 'no PostgreSQL connection string was given (role `dsn`)' });
    const { client, sanitize } = await connectPostgres(dsn, options.applicationName);
    return new PostgisSession(client, sanitize, options.applicationName);
  },
  rehearsal: postgisRehearsal,
};
