// Runs one plan operation against the cluster (the body goes out verbatim), and prepares the undo
// of template and pipeline operations by reading the previous definition first.
import type { Progress } from '@kfm/migration-contracts';
import { withoutTimestamps } from './normalize.js';
import type { SearchOperation } from './operations.js';
import { runReindex, type Sleep } from './reindex.js';
import type { SearchRest } from './es-client.js';

export type OperationOutcome = { ok: true; reindexed: number } | { ok: false; message: string; reindexed: number };

const seg = encodeURIComponent;

function objectPath(operation: SearchOperation): string | undefined {
  switch (operation.op) {
    case 'put_index_template':
    case 'delete_index_template':
      return `/_index_template/${seg(operation.name)}`;
    case 'put_component_template':
    case 'delete_component_template':
      return `/_component_template/${seg(operation.name)}`;
    case 'put_pipeline':
    case 'delete_pipeline':
      return `/_ingest/pipeline/${seg(operation.id)}`;
    default:
      return undefined;
  }
}

export interface ExecuteHooks {
  /** Told when a reindex task starts and ends (the apply records it for a takeover to cancel). */
  tasks?: { started(task: string): Promise<void>; finished(task: string): Promise<void> };
  /** Aborted when the lease is lost: a running reindex is cancelled. */
  signal?: AbortSignal;
}

export async function executeOperation(
  rest: SearchRest,
  operation: SearchOperation,
  progress: Progress | undefined,
  sleep: Sleep,
  hooks: ExecuteHooks = {},
): Promise<OperationOutcome> {
  switch (operation.op) {
    case 'create_index':
      await rest.request('PUT', `/${seg(operation.index)}`, { body: operation.body ?? {} });
      return { ok: true, reindexed: 0 };
    case 'put_mapping':
      await rest.request('PUT', `/${seg(operation.index)}/_mapping`, { body: operation.body });
      return { ok: true, reindexed: 0 };
    case 'put_settings':
      await rest.request('PUT', `/${seg(operation.index)}/_settings`, { body: operation.body });
      return { ok: true, reindexed: 0 };
    case 'delete_index':
      await rest.request('DELETE', `/${seg(operation.index)}`);
      return { ok: true, reindexed: 0 };
    case 'update_aliases':
      await rest.request('POST', '/_aliases', { body: operation.body });
      return { ok: true, reindexed: 0 };
    case 'reindex': {
      const result = await runReindex(rest, operation.body, progress, sleep, hooks);
      return result.ok ? { ok: true, reindexed: result.reindexed } : result;
    }
    case 'put_index_template':
    case 'put_component_template':
    case 'put_pipeline':
      await rest.request('PUT', objectPath(operation)!, { body: operation.body });
      return { ok: true, reindexed: 0 };
    case 'delete_index_template':
    case 'delete_component_template':
    case 'delete_pipeline':
      await rest.request('DELETE', objectPath(operation)!);
      return { ok: true, reindexed: 0 };
  }
}

/** Puts something back the way it was before an operation ran. */
export type Undo = { describe: string; run(): Promise<void> };

/** The undo of an operation, computed before it runs; undefined when a shadow drop covers it. */
export async function prepareUndo(rest: SearchRest, operation: SearchOperation): Promise<Undo | undefined> {
  if (operation.op === 'create_index') {
    const index = operation.index;
    return {
      describe: `delete shadow index ${index}`,
      run: async () => {
        await rest.request('DELETE', `/${seg(index)}`, { ignore: [404] });
      },
    };
  }
  const path = objectPath(operation);
  if (!path) return undefined;
  const previous = await readDefinition(rest, operation, path);
  if (previous === undefined) {
    return {
      describe: `delete ${path}`,
      run: async () => {
        await rest.request('DELETE', path, { ignore: [404] });
      },
    };
  }
  return {
    describe: `restore ${path}`,
    run: async () => {
      await rest.request('PUT', path, { body: previous });
    },
  };
}

async function readDefinition(
  rest: SearchRest,
  operation: SearchOperation,
  path: string,
): Promise<Record<string, unknown> | undefined> {
  const answer = await rest.request<Record<string, unknown> | undefined>('GET', path, { ignore: [404] });
  if (!answer) return undefined;
  if (operation.op === 'put_pipeline' || operation.op === 'delete_pipeline') {
    const body = answer[operation.id] as Record<string, unknown> | undefined;
    return body ? withoutTimestamps(body) : undefined;
  }
  const key = operation.op.includes('component') ? 'component_templates' : 'index_templates';
  const inner = operation.op.includes('component') ? 'component_template' : 'index_template';
  const found = (answer[key] as { name: string; [k: string]: unknown }[] | undefined)?.find(
    (entry) => entry.name === (operation as { name: string }).name,
  );
  return found ? withoutTimestamps(found[inner] as Record<string, unknown>) : undefined;
}
