// Apply by projection: every operation is worked out in memory (no file changes), POST is PRE with
// those changes projected, and only on `decide(...) === true` are the files written (each to a temp
// file, then renamed into place) with the ledger entry. A refusal leaves the tree exactly at PRE.
// Without a commit point (`transactional: false`) the files are written as the manifest goes.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { commitPoint, errorText, statementRuns, transactionGroups } from '@kfm/adapter-kit';
import type {
  ApplyRequest,
  ApplyResult,
  Baseline,
  BaselineObject,
  Issue,
  MigrationDeclaration,
  Progress,
  RollbackResult,
  ScriptFile,
  StatementRun,
} from '@kfm/migration-contracts';
import { cidOfBytes } from '@kfm/receipts';
import { baselineOf, captureFiles, fileObject } from './capture.js';
import type { FileLedger } from './ledger.js';
import { bytesOf, type LocatedOperation, parseManifests, RESERVED_DIR } from './manifest.js';

export interface TreeContext {
  root: string;
  ledger: FileLedger;
}

/** Path → new bytes, or null for a deletion; what the manifest would do, worked out without writing. */
type Changes = Map<string, Buffer | null>;

async function readCurrent(root: string, changes: Changes, file: string): Promise<Buffer | null> {
  if (changes.has(file)) return changes.get(file) ?? null;
  return fs.readFile(path.join(root, file)).catch(() => null);
}

/** Project the operations; the first that cannot run (deleting or moving a missing file) stops it. */
async function project(
  root: string,
  operations: readonly LocatedOperation[],
  progress?: Progress,
): Promise<{ changes: Changes; done: number; failure?: { at: LocatedOperation; message: string } }> {
  const changes: Changes = new Map();
  let done = 0;
  for (const located of operations) {
    const { operation } = located;
    progress?.(`${located.file}:${located.line} ${operation.op}`, {
      done,
      total: operations.length,
      unit: 'operations',
    });
    if (operation.op === 'write') changes.set(operation.path, bytesOf(operation));
    else {
      const source = operation.op === 'move' ? operation.from : operation.path;
      const bytes = await readCurrent(root, changes, source);
      if (bytes === null) return { changes, done, failure: { at: located, message: `${source} does not exist` } };
      changes.set(source, null);
      if (operation.op === 'move') changes.set(operation.to, bytes);
    }
    done++;
  }
  return { changes, done };
}

async function projectedBaseline(pre: Baseline, changes: Changes, request: ApplyRequest): Promise<Baseline> {
  const objects = new Map<string, BaselineObject>(pre.objects.map((object) => [object.name, object]));
  for (const [file, bytes] of changes) {
    if (bytes === null) objects.delete(file);
    else objects.set(file, fileObject(file, await cidOfBytes(bytes)));
  }
  return baselineOf([...objects.values()], request.baseline);
}

/** Writes each change via a temp file and rename (a reader sees the old or the new file, never half). */
async function writeChanges(root: string, changes: Changes): Promise<void> {
  const staging = path.join(root, RESERVED_DIR, 'staging', randomUUID());
  await fs.mkdir(staging, { recursive: true });
  try {
    for (const [file, bytes] of changes) {
      const target = path.join(root, file);
      if (bytes === null) {
        await fs.rm(target, { force: true });
        continue;
      }
      const temp = path.join(staging, randomUUID());
      await fs.writeFile(temp, bytes);
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.rename(temp, target);
    }
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

function metricsOf(changes: Changes, done: number): Record<string, number> {
  const written = [...changes.values()].filter((bytes): bytes is Buffer => bytes !== null);
  return {
    statements: done,
    files_written: written.length,
    files_deleted: [...changes.values()].filter((bytes) => bytes === null).length,
    bytes_written: written.reduce((sum, bytes) => sum + bytes.length, 0),
  };
}

function runs(operations: readonly LocatedOperation[], done: number, failed?: number): StatementRun[] {
  const statements = operations.map((located) => ({
    index: located.index,
    file: located.file,
    line: located.line,
    kind: located.operation.op,
    transactional: true,
  }));
  return statementRuns(transactionGroups(statements), {
    lastRunIndex: done - 1,
    ...(failed !== undefined ? { failedIndex: failed } : {}),
  });
}

export async function applyManifest(context: TreeContext, request: ApplyRequest): Promise<ApplyResult> {
  const parsed = parseManifests(request.scripts);
  if (!parsed.ok) return { status: 'failed', atPre: true, metrics: { statements: 0 }, failure: parsed.issues[0]! };
  const { operations } = parsed;
  const pre = await captureFiles(context.root, request.baseline);
  const projected = await project(context.root, operations, request.progress);
  const metrics = metricsOf(projected.changes, projected.done);
  if (projected.failure) {
    const failure: Issue = {
      code: 'STATEMENT_FAILED',
      file: projected.failure.at.file,
      line: projected.failure.at.line,
      message: `${projected.failure.at.operation.op} failed: ${projected.failure.message}`,
    };
    return {
      status: 'failed',
      atPre: true,
      metrics,
      statements: runs(operations, projected.done, projected.failure.at.index),
      failure,
    };
  }
  const post = await projectedBaseline(pre, projected.changes, request);
  const describe = (error: unknown) => errorText(error, (text) => text.split(context.root).join('<root>'));
  if (!request.transactional) {
    await writeChanges(context.root, projected.changes);
    const decision = await commitPoint({
      request,
      post,
      metrics,
      commit: () => context.ledger.record(request.ledger),
      abort: async () => undefined,
      describe,
    });
    return {
      status: decision.status === 'committed' ? 'committed' : 'applied',
      atPre: false,
      post,
      metrics,
      statements: runs(operations, operations.length),
      ...('failure' in decision && decision.failure ? { failure: decision.failure } : {}),
    };
  }
  const decision = await commitPoint({
    request,
    post,
    metrics,
    commit: async () => {
      await writeChanges(context.root, projected.changes);
      await context.ledger.record(request.ledger);
    },
    abort: async () => undefined,
    describe,
  });
  const statements = runs(operations, operations.length);
  if (decision.status === 'committed') return { status: 'committed', atPre: false, post, metrics, statements };
  return {
    status: decision.status,
    atPre: decision.status === 'aborted',
    post,
    metrics,
    statements,
    ...(decision.failure ? { failure: decision.failure } : {}),
  };
}

/** The rollback manifest runs as written (projected first, so a failing operation writes nothing). */
export async function rollbackManifest(
  context: TreeContext,
  scripts: ScriptFile[],
  _declaration: MigrationDeclaration,
  progress?: Progress,
): Promise<RollbackResult> {
  const parsed = parseManifests(scripts);
  if (!parsed.ok) return { ok: false, failure: { ...parsed.issues[0]!, code: 'ROLLBACK_FAILED' } };
  const projected = await project(context.root, parsed.operations, progress);
  if (projected.failure) {
    return {
      ok: false,
      statements: runs(parsed.operations, projected.done, projected.failure.at.index),
      failure: {
        code: 'ROLLBACK_FAILED',
        file: projected.failure.at.file,
        line: projected.failure.at.line,
        message: projected.failure.message,
      },
    };
  }
  await writeChanges(context.root, projected.changes);
  return { ok: true, statements: runs(parsed.operations, parsed.operations.length) };
}
