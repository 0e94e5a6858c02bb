// The graph StoreAdapter: its vocabulary (labels and relationship types; limits on label/type appearances
// and on nodes/relationships touched), its language (Cypher, split and classified by a real lexer) and a
// connected session composing baseline capture, preflight, the KfmLock lease, the KfmLedger, the store-held
// policy and the apply/rollback runs for the runner's lifecycle.
import type {
  ApplyRequest,
  ApplyResult,
  Baseline,
  BaselineOptions,
  Check,
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
import type { LeaseLock } from '@kfm/adapter-kit';
import type { Session } from 'neo4j-driver';
import { applyForward, applyRollback, type GraphRunContext } from './apply.js';
import { captureGraphBaseline } from './capture.js';
import { connectNeo4j, type Connected } from './connection.js';
import { rows } from './cypher-runner.js';
import {
  readLedgerHistory,
  readLedgerState,
  readStorePolicy,
  recordLedgerEntry,
  recordReceiptEntry,
  writeStorePolicy,
} from './ledger.js';
import { DEFAULT_LOCK_ID, graphLock } from './lock.js';
import { preflightGraph, splitScripts } from './preflight.js';
import { ensureRunnerSchema } from './runner-store.js';
import { compareText, firstMatching, quoteName, type GraphScopeOptions } from './scope.js';

const ADDED_OR_REMOVED = ['added', 'removed'] as const;

export const graphVocabulary: StoreVocabulary = {
  idPrefix: 'GRAPH',
  scopeDimensions: ['labels', 'relationship_types'],
  protectedKeys: {
    labels: { dimension: 'labels', nameField: 'label' },
    relationship_types: { dimension: 'relationship_types' },
  },
  limits: {
    max_label_count_delta: {
      measure: 'changes',
      kind: 'label',
      changes: ADDED_OR_REMOVED,
      description: 'labels that appeared or disappeared',
    },
    max_relationship_type_count_delta: {
      measure: 'changes',
      kind: 'relationship_type',
      changes: ADDED_OR_REMOVED,
      description: 'relationship types that appeared or disappeared',
    },
    max_nodes_touched: {
      measure: 'metric',
      metric: 'nodes_touched',
      description: 'nodes created or deleted plus labels added or removed (adapter metric nodes_touched)',
    },
    max_relationships_touched: {
      measure: 'metric',
      metric: 'relationships_touched',
      description: 'relationships created plus deleted (adapter metric relationships_touched)',
    },
  },
  invariants: ['provenance_label', 'required_relationships', 'exclusive_labels'],
};

export const cypherLanguage: ScriptLanguage = {
  forward: 'forward.cypher',
  rollback: 'rollback.cypher',
  placeholder: (text) => `// ${text.replace(/\n/g, '\n// ')}\n`,
  async parse(scripts) {
    const split = splitScripts(scripts);
    if (!split.ok) {
      const { file, line, column, message } = split.failure;
      return {
        statements: 0,
        issues: [{ code: 'SCRIPT_PARSE', file, line, column, message: `does not parse: ${message}` }],
      };
    }
    return { statements: split.statements.length, issues: [] };
  },
  async preflight(scripts, declaration, options) {
    return preflightGraph(scripts, declaration, options);
  },
};

export interface GraphAdapterOptions extends GraphScopeOptions {
  /** The id of the KfmLock node; runs sharing it exclude each other (default `kfm-migrate`). */
  lockId?: string;
}

export class GraphSession implements StoreSession {
  private readonly lease: LeaseLock;
  private runnerSchemaReady = false;

  constructor(
    private readonly connected: Connected,
    readonly server: string,
    private readonly options: GraphAdapterOptions = {},
  ) {
    this.lease = graphLock(connected.driver, connected.database, options.lockId ?? DEFAULT_LOCK_ID);
  }

  private async with<T>(mode: 'READ' | 'WRITE', work: (session: Session) => Promise<T>): Promise<T> {
    const { driver, database } = this.connected;
    const session = driver.session({ defaultAccessMode: mode, ...(database ? { database } : {}) });
    try {
      if (mode === 'WRITE' && !this.runnerSchemaReady) {
        await ensureRunnerSchema(session);
        this.runnerSchemaReady = true;
      }
      return await work(session);
    } finally {
      await session.close();
    }
  }

  private get context(): GraphRunContext {
    const { driver, database, sanitize } = this.connected;
    return {
      driver,
      sanitize,
      ...(database ? { database } : {}),
      ...(this.options.labelPrefix !== undefined ? { labelPrefix: this.options.labelPrefix } : {}),
    };
  }

  captureBaseline(options: BaselineOptions): Promise<Baseline> {
    return this.with('READ', (session) =>
      captureGraphBaseline(session, {
        ...options,
        ...(this.options.labelPrefix !== undefined ? { labelPrefix: this.options.labelPrefix } : {}),
      }),
    );
  }

  async preflight(
    scripts: ScriptFile[],
    declaration: MigrationDeclaration,
    options: PreflightOptions,
  ): Promise<PreflightResult> {
    const result = preflightGraph(scripts, declaration, options);
    const split = splitScripts(scripts);
    if (!split.ok) return result;
    result.checks.push(...(await this.sharedLabelChecks(split.statements, declaration)));
    return result;
  }

  /**
   * A node is written through one of its labels, and it carries all the others: `MATCH (p:Parcel) SET …`
   * also writes every Parcel that is an Owner too. So each allowed label a statement writes is looked up
   * in the store, and a label sharing its nodes that `allowed_labels` does not cover refuses the run
   * (one label scan per written label, nothing else read).
   */
  private async sharedLabelChecks(
    statements: readonly { file: string; line: number; facts: { writtenLabels: readonly string[] } }[],
    declaration: MigrationDeclaration,
  ): Promise<Check[]> {
    const allowed = declaration.scope.allowed_labels;
    if (!allowed) return [];
    const firstWrite = new Map<string, string>();
    for (const statement of statements)
      for (const label of statement.facts.writtenLabels)
        if (!firstWrite.has(label) && firstMatching(label, allowed) !== undefined)
          firstWrite.set(label, `${statement.file}:${statement.line}`);
    if (firstWrite.size === 0) return [];
    const checks: Check[] = [];
    await this.with('READ', async (session) => {
      for (const [label, where] of [...firstWrite].sort(([a], [b]) => compareText(a, b))) {
        const found = await rows(
          session,
          `MATCH (n:${quoteName(label)}) UNWIND labels(n) AS other RETURN DISTINCT other`,
        );
        const outside = found
          .map((row) => String(row.other))
          .filter((other) => other !== label && firstMatching(other, allowed) === undefined)
          .sort(compareText);
        if (outside.length === 0) continue;
        checks.push({
          name: `preflight:shared-labels:${where}:${label}`,
          rule: 'preflight',
          status: 'fail',
          code: 'PREFLIGHT_FORBIDDEN',
          pointer: '/scope/allowed_labels',
          declared: [...allowed],
          observed: outside.join(', '),
          message: `${where} writes ${label} nodes, and some of them are also ${outside.join(', ')}, which scope.allowed_labels does not cover: a write to them changes those labels' nodes too`,
        });
      }
    });
    return checks;
  }

  lock(request: LeaseRequest): Promise<LockResult> {
    return this.lease.lock(request);
  }

  unlock(): Promise<void> {
    return this.lease.unlock();
  }

  lockHolder() {
    return this.lease.lockHolder();
  }

  breakLock(options: { force: boolean; reason: string }) {
    return this.lease.breakLock(options);
  }

  ledgerState(migrationId: string): Promise<LedgerState> {
    return this.with('READ', (session) => readLedgerState(session, migrationId));
  }

  ledgerHistory(migrationId?: string): Promise<LedgerRecord[]> {
    return this.with('READ', (session) => readLedgerHistory(session, migrationId));
  }

  recordLedger(entry: LedgerEntry): Promise<void> {
    return this.with('WRITE', (session) =>
      session.executeWrite((transaction) => recordLedgerEntry(transaction, entry)),
    );
  }

  recordReceipt(record: ReceiptRecord): Promise<void> {
    return this.with('WRITE', (session) =>
      session.executeWrite((transaction) => recordReceiptEntry(transaction, record)),
    );
  }

  readPolicy(): Promise<StorePolicy | undefined> {
    return this.with('READ', (session) => readStorePolicy(session));
  }

  writePolicy(policy: StorePolicy): Promise<void> {
    return this.with('WRITE', (session) =>
      session.executeWrite((transaction) => writeStorePolicy(transaction, policy)),
    );
  }

  async apply(request: ApplyRequest): Promise<ApplyResult> {
    // The ledger node is written in the data transaction: its constraint must exist before it begins.
    await this.with('WRITE', async () => undefined);
    return applyForward(this.context, request);
  }

  runRollback(scripts: ScriptFile[], declaration: MigrationDeclaration, progress?: Progress): Promise<RollbackResult> {
    return applyRollback(this.context, scripts, declaration, progress);
  }

  async close(): Promise<void> {
    await this.connected.driver.close();
  }
}

async function serverOf(connected: Connected): Promise<string> {
  const session = connected.driver.session({
    defaultAccessMode: 'READ',
    ...(connected.database ? { database: connected.database } : {}),
  });
  try {
    const [row] = await rows(
      session,
      "CALL dbms.components() YIELD name, versions, edition WHERE name = 'Neo4j Kernel' RETURN versions[0] AS version, edition",
    );
    return `Neo4j ${String(row?.version ?? 'unknown')} ${String(row?.edition ?? '')}`.trim();
  } finally {
    await session.close();
  }
}

/** A graph adapter; options confine it to a label namespace or give it its own lock id (tests). */
export function createGraphAdapter(options: GraphAdapterOptions = {}): StoreAdapter {
  return {
    type: 'graph',
    description:
      'Neo4j: data rewrites in one transaction with the scope check before commit; schema commands in script order',
    vocabulary: graphVocabulary,
    language: cypherLanguage,
    connection: { uri: 'KFM_NEO4J_URI', user: 'KFM_NEO4J_USER', password: 'KFM_NEO4J_PASSWORD' },
    async connect(values: ConnectionValues, connectOptions: ConnectOptions): Promise<StoreSession> {
      const connected = await connectNeo4j(values, connectOptions.applicationName);
      try {
        return new GraphSession(connected, await serverOf(connected), options);
      } catch (error) {
        await connected.driver.close().catch(() => undefined);
        throw error;
      }
    },
  };
}

export const graphAdapter: StoreAdapter = createGraphAdapter();
