// The graph StoreAdapter: a connected session composing baseline capture, static preflight, the
// KfmLock node, the KfmLedger and the apply/rollback runs for the generic runner lifecycle.
import type {
  ApplyRequest, ApplyResult, Baseline, BaselineOptions, ConnectionValues, LedgerEntry, LedgerState, LockResult,
  MigrationDeclaration, PreflightResult, Progress, ProtectedDomains, RollbackResult, ScriptFile, StoreAdapter, StoreSession,
} from '@kfm/migration-contracts';
import { randomUUID } from 'node:crypto';
import type { Session } from 'neo4j-driver';
import { captureGraphBaseline } from './capture.js';
import { connectNeo4j, type Connected } from './connection.js';
import { applyForward, applyRollback, type GraphRunContext } from './graph-apply.js';
import type { GraphScopeOptions } from './graph-scope.js';
import { readLedgerState, recordLedgerEntry } from './ledger.js';
import { DEFAULT_LOCK_ID, releaseLock, tryLock } from './lock.js';
import { preflightGraph } from './preflight.js';
import { ensureRunnerSchema } from './runner-schema.js';

export interface GraphAdapterOptions extends GraphScopeOptions {
  /** The id of the KfmLock node; runs sharing it exclude each other (default `kfm-migrate`). */
  lockId?: string;
}

export class GraphSession implements StoreSession {
  private lockToken: string | undefined;

  constructor(
    private readonly connected: Connected,
    private readonly options: GraphAdapterOptions = {},
  ) {}

  private session(mode: 'READ' | 'WRITE'): Session {
    const { driver, database } = this.connected;
    return driver.session({ defaultAccessMode: mode, ...(database ? { database } : {}) });
  }

  private async with<T>(mode: 'READ' | 'WRITE', work: (session: Session) => Promise<T>): Promise<T> {
    const session = this.session(mode);
    try {
      return await work(session);
    } finally {
      await session.close();
    }
  }

  private get context(): GraphRunContext {
    const { driver, database, sanitize } = this.connected;
    return { driver, sanitize, ...(database ? { database } : {}), ...(this.options.labelPrefix !== undefined ? { labelPrefix: this.options.labelPrefix } : {}) };
  }

  captureBaseline(options: BaselineOptions): Promise<Baseline> {
    return this.with('READ', (session) => captureGraphBaseline(session, { ...options, ...(this.options.labelPrefix !== undefined ? { labelPrefix: this.options.labelPrefix } : {}) }));
  }

  async preflight(scripts: ScriptFile[], declaration: MigrationDeclaration, protectedDomains?: ProtectedDomains): Promise<PreflightResult> {
    return preflightGraph(scripts, declaration, protectedDomains);
  }

  async lock(owner: string): Promise<LockResult> {
    const token = randomUUID();
    const result = await this.with('WRITE', async (session) => {
      await ensureRunnerSchema(session);
      return tryLock(session, this.options.lockId ?? DEFAULT_LOCK_ID, owner, token);
    });
    if (result.acquired) this.lockToken = token;
    return result;
  }

  async unlock(): Promise<void> {
    const token = this.lockToken;
    if (!token) return;
    await this.with('WRITE', (session) => releaseLock(session, this.options.lockId ?? DEFAULT_LOCK_ID, token));
    this.lockToken = undefined;
  }

  ledgerState(migrationId: string): Promise<LedgerState> {
    return this.with('READ', (session) => readLedgerState(session, migrationId));
  }

  recordLedger(entry: LedgerEntry): Promise<void> {
    return this.with('WRITE', (session) => session.executeWrite((transaction) => recordLedgerEntry(transaction, entry)));
  }

  apply(request: ApplyRequest): Promise<ApplyResult> {
    return applyForward(this.context, request);
  }

  runRollback(scripts: ScriptFile[], declaration: MigrationDeclaration, progress?: Progress): Promise<RollbackResult> {
    return applyRollback(this.context, scripts, declaration, progress);
  }

  async close(): Promise<void> {
    await this.connected.driver.close();
  }
}

/** A graph adapter; options confine it to a label namespace or give it its own lock id (tests). */
export function createGraphAdapter(options: GraphAdapterOptions = {}): StoreAdapter {
  return {
    type: 'graph',
    scripts: { forward: 'forward.cypher', rollback: 'rollback.cypher' },
    connection: { uri: 'KFM_NEO4J_URI', user: 'KFM_NEO4J_USER', password: 'KFM_NEO4J_PASSWORD' },
    async connect(values: ConnectionValues, connectOptions: { applicationName: string }): Promise<StoreSession> {
      return new GraphSession(await connectNeo4j(values, connectOptions.applicationName), options);
    },
  };
}

export const graphAdapter: StoreAdapter = createGraphAdapter();
