// Before an alias moves to a new index, that index must be allocated as the plan declared: green by
// default (every primary and replica assigned), or yellow when the plan says so. On a cluster a node
// can leave while a reindex runs; flipping an alias to an index whose copies are missing would put
// a degraded index behind live traffic. The wait is the cluster's own (`_cluster/health/<index>`
// with wait_for_status), so a node that returns in time is simply waited for.
import type { Progress } from '@kfm/migration-contracts';
import { SearchResponseError, type SearchRest } from './es-client.js';
import type { LocatedOperation } from './operations.js';

const DEFAULT_TIMEOUT = '60s';

interface HealthAnswer {
  status?: 'green' | 'yellow' | 'red';
  timed_out?: boolean;
  number_of_data_nodes?: number;
  unassigned_shards?: number;
  initializing_shards?: number;
}

/** The first created index that did not reach its declared health in time, with why; undefined when all did. */
export async function waitForHealth(
  rest: SearchRest,
  created: readonly LocatedOperation[],
  progress?: Progress,
): Promise<{ located: LocatedOperation; message: string } | undefined> {
  for (const located of created) {
    const { operation } = located;
    if (operation.op !== 'create_index') continue;
    const status = operation.wait_for_health ?? 'green';
    const timeout = operation.wait_timeout ?? DEFAULT_TIMEOUT;
    progress?.(`health: waiting for ${operation.index} to be ${status} (up to ${timeout})`);
    let answer: HealthAnswer;
    try {
      answer = await rest.request<HealthAnswer>('GET', `/_cluster/health/${encodeURIComponent(operation.index)}`, {
        query: { wait_for_status: status, timeout },
      });
    } catch (error) {
      // A wait that timed out is answered 408, with the health as the body.
      if (!(error instanceof SearchResponseError && error.statusCode === 408)) throw error;
      answer = { ...(error.body as HealthAnswer), timed_out: true };
    }
    if (answer.timed_out)
      return {
        located,
        message:
          `index ${operation.index} did not become ${status} within ${timeout} (it is ${answer.status ?? 'unknown'}: ` +
          `${answer.unassigned_shards ?? '?'} shard copies unassigned, ${answer.initializing_shards ?? 0} initializing, ` +
          `${answer.number_of_data_nodes ?? '?'} data node(s)); no alias moved. Lower number_of_replicas, or declare ` +
          'wait_for_health: yellow, if the cluster cannot hold every copy',
      };
  }
  return undefined;
}
