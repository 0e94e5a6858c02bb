// Reindex as a server-side task: started with wait_for_completion=false, polled through the tasks
// API with progress, then verified by counting documents in both indices. The data never passes
// through the runner; only counters do.
import type { Progress } from '@kfm/migration-contracts';
import type { ExecuteHooks } from './execute.js';
import { describeErrorBody, type EsErrorBody, type SearchRest } from './es-client.js';
import type { ReindexBody } from './operations.js';

export type Sleep = (milliseconds: number) => Promise<void>;

export type ReindexResult =
  | { ok: true; reindexed: number; source: number; dest: number }
  | { ok: false; reindexed: number; message: string };

interface TaskStatus {
  total?: number;
  created?: number;
  updated?: number;
  deleted?: number;
  noops?: number;
}

interface TaskAnswer {
  completed?: boolean;
  task?: { status?: TaskStatus };
  error?: EsErrorBody;
  response?: TaskStatus & { failures?: { cause?: EsErrorBody; id?: string; index?: string }[]; timed_out?: boolean };
}

function indexPath(index: string): string {
  return `/${encodeURIComponent(index)}`;
}

async function count(rest: SearchRest, index: string, query?: Record<string, unknown>): Promise<number> {
  const answer = await rest.request<{ count: number }>('POST', `${indexPath(index)}/_count`, {
    body: query ? { query } : {},
  });
  return answer.count;
}

export async function runReindex(
  rest: SearchRest,
  body: ReindexBody,
  progress: Progress | undefined,
  sleep: Sleep,
  hooks: ExecuteHooks = {},
): Promise<ReindexResult> {
  const label = `reindex ${body.source.index} -> ${body.dest.index}`;
  const started = await rest.request<{ task: string }>('POST', '/_reindex', {
    body,
    query: { wait_for_completion: false, refresh: true },
  });
  const taskPath = `/_tasks/${encodeURIComponent(started.task)}`;
  await hooks.tasks?.started(started.task);
  let answer: TaskAnswer;
  let wait = 100;
  try {
    for (;;) {
      if (hooks.signal?.aborted)
        throw hooks.signal.reason instanceof Error ? hooks.signal.reason : new Error('the store lease was lost');
      answer = await rest.request<TaskAnswer>('GET', taskPath);
      if (answer.completed) break;
      const status = answer.task?.status ?? {};
      const done = (status.created ?? 0) + (status.updated ?? 0);
      progress?.(label, { done, ...(status.total ? { total: status.total } : {}), unit: 'documents' });
      await sleep(wait);
      wait = Math.min(wait * 2, 2_000);
    }
  } catch (error) {
    // A task left running would keep writing (and re-create a dropped shadow by auto-creation).
    await rest.request('POST', `${taskPath}/_cancel`).catch(() => undefined);
    await hooks.tasks?.finished(started.task).catch(() => undefined);
    throw error;
  }
  await hooks.tasks?.finished(started.task);
  const response = answer.response ?? {};
  // A task that failed has no response; its status still counts what was written before the failure.
  const counters = answer.response ?? answer.task?.status ?? {};
  const reindexed = (counters.created ?? 0) + (counters.updated ?? 0);
  if (answer.error) return { ok: false, reindexed, message: `${label} failed: ${describeErrorBody(answer.error)}` };
  const failures = response.failures ?? [];
  if (failures.length > 0) {
    const first = failures[0]?.cause ? describeErrorBody(failures[0].cause) : 'unknown cause';
    return { ok: false, reindexed, message: `${label}: ${failures.length} document(s) rejected, first: ${first}` };
  }
  if (response.timed_out) return { ok: false, reindexed, message: `${label} timed out` };
  progress?.(`${label}: ${reindexed}/${response.total ?? reindexed} documents, verifying counts`);
  await rest.request('POST', `${indexPath(body.dest.index)}/_refresh`);
  const [source, dest] = await Promise.all([
    count(rest, body.source.index, body.source.query),
    count(rest, body.dest.index),
  ]);
  // Documents a script turned into no-ops or deletes are intentionally not copied.
  let expected = source - (response.noops ?? 0) - (response.deleted ?? 0);
  if (body.max_docs !== undefined) expected = Math.min(expected, body.max_docs);
  if (dest !== expected)
    return {
      ok: false,
      reindexed,
      message: `${label}: destination holds ${dest} documents, expected ${expected} (source ${source})`,
    };
  return { ok: true, reindexed, source, dest };
}
