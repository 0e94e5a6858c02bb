// A fourth store, written only against the published contract: a directory of files (tile archives,
// exports, model weights). Its vocabulary — files and directories, limits on files touched, files
// added or removed and bytes written — is all the runner, the diff and the CI gates learn of it.
import fs from 'node:fs/promises';
import path from 'node:path';
import { LeaseLock } from '@kfm/adapter-kit';
import {
  KfmError,
  type ApplyRequest,
  type BaselineOptions,
  type ConnectionValues,
  type MigrationDeclaration,
  type PreflightOptions,
  type Progress,
  type ScriptFile,
  type ScriptLanguage,
  type StoreAdapter,
  type StoreSession,
  type StoreVocabulary,
} from '@kfm/migration-contracts';
import { applyManifest, rollbackManifest, type TreeContext } from './apply.js';
import { captureFiles } from './capture.js';
import { FileLeaseStore, FileLedger } from './ledger.js';
import { parseManifests } from './manifest.js';
import { preflightManifest } from './preflight.js';

export const filesVocabulary: StoreVocabulary = {
  idPrefix: 'FILES',
  scopeDimensions: ['directories', 'files'],
  protectedKeys: { directories: { dimension: 'directories' }, files: { dimension: 'files' } },
  limits: {
    max_files_touched: {
      measure: 'touched',
      dimension: 'files',
      description: 'distinct files written, deleted or moved',
    },
    max_file_count_delta: {
      measure: 'changes',
      kind: 'file',
      changes: ['added', 'removed'],
      description: 'files added or removed',
    },
    max_bytes_written: { measure: 'metric', metric: 'bytes_written', description: 'bytes written by the manifest' },
  },
};

export const manifestLanguage: ScriptLanguage = {
  forward: 'forward.json',
  rollback: 'rollback.json',
  placeholder: (text) => `${JSON.stringify({ description: text, operations: [] }, null, 2)}\n`,
  async parse(scripts) {
    const parsed = parseManifests(scripts);
    return parsed.ok ? { statements: parsed.operations.length, issues: [] } : { statements: 0, issues: parsed.issues };
  },
};

export class FileTreeSession implements StoreSession {
  readonly server = 'file tree';
  private readonly lease: LeaseLock;
  private readonly context: TreeContext;

  constructor(readonly root: string) {
    this.lease = new LeaseLock(new FileLeaseStore(root));
    this.context = { root, ledger: new FileLedger(root) };
  }

  captureBaseline(options: BaselineOptions) {
    return captureFiles(this.root, options);
  }
  async preflight(scripts: ScriptFile[], declaration: MigrationDeclaration, options: PreflightOptions) {
    return preflightManifest(scripts, declaration, options);
  }
  lock(request: Parameters<LeaseLock['lock']>[0]) {
    return this.lease.lock(request);
  }
  unlock() {
    return this.lease.unlock();
  }
  lockHolder() {
    return this.lease.lockHolder();
  }
  breakLock(options: { force: boolean; reason: string }) {
    return this.lease.breakLock(options);
  }
  ledgerState(migrationId: string) {
    return this.context.ledger.state(migrationId);
  }
  recordLedger(entry: Parameters<FileLedger['record']>[0]) {
    return this.context.ledger.record(entry);
  }
  recordReceipt(record: Parameters<FileLedger['recordReceipt']>[0]) {
    return this.context.ledger.recordReceipt(record);
  }
  ledgerHistory(migrationId?: string) {
    return this.context.ledger.history(migrationId);
  }
  readPolicy() {
    return this.context.ledger.readPolicy();
  }
  writePolicy(policy: Parameters<FileLedger['writePolicy']>[0]) {
    return this.context.ledger.writePolicy(policy);
  }
  apply(request: ApplyRequest) {
    return applyManifest(this.context, request);
  }
  runRollback(scripts: ScriptFile[], declaration: MigrationDeclaration, progress?: Progress) {
    return rollbackManifest(this.context, scripts, declaration, progress);
  }
  async close() {
    await this.lease.unlock();
  }
}

export const filesAdapter: StoreAdapter = {
  type: 'files',
  description: 'a directory of files, baselined by per-file digests, changed by a manifest of file operations',
  vocabulary: filesVocabulary,
  language: manifestLanguage,
  connection: { root: 'KFM_FILES_ROOT' },
  async connect(values: ConnectionValues) {
    const root = values.root;
    const stat = root ? await fs.stat(root).catch(() => undefined) : undefined;
    // The root is a connection value: it never appears in a message.
    if (!root || !stat?.isDirectory())
      throw new KfmError({
        code: 'STORE_UNREACHABLE',
        message: 'the file tree named by the connection is not a directory',
      });
    return new FileTreeSession(path.resolve(root));
  },
};
