// Connecting to Neo4j over Bolt without ever leaking a connection value: failures name the host
// and port and the driver's error code only, and anything the driver echoes is masked.
import { sanitizer } from '@kfm/adapter-kit';
import { KfmError, type ConnectionValues } from '@kfm/migration-contracts';
import type { Driver } from 'neo4j-driver';
import { neo4jModule } from './neo4j-values.js';

/** Milliseconds to wait for a server before calling it unreachable. */
const CONNECT_TIMEOUT = 10_000;

export interface Connected {
  driver: Driver;
  database?: string;
  /** `host:port`, safe to show. */
  endpoint: string;
  sanitize(message: string): string;
}

/** Host and port of a Bolt/Neo4j URI, without user info, path or query. */
export function endpointOf(uri: string): string {
  try {
    const url = new URL(uri);
    return `${url.protocol}//${url.hostname}${url.port ? `:${url.port}` : ''}`;
  } catch {
    return '(an invalid URI, not shown)';
  }
}

export async function connectNeo4j(values: ConnectionValues, applicationName: string): Promise<Connected> {
  const uri = values.uri;
  if (!uri) throw new KfmError({ code: 'ENV_MISSING', message: 'no Neo4j URI was given (connection role `uri`)' });
  const user = values.user ?? 'neo4j';
  const password = values.password ?? '';
  const sanitize = sanitizer([`${user}:${password}`, password, uri !== endpointOf(uri) ? uri : undefined]);
  const endpoint = sanitize(endpointOf(uri));
  let driver: Driver;
  try {
    const neo4j = neo4jModule();
    driver = neo4j.driver(uri, neo4j.auth.basic(user, password), {
      userAgent: applicationName,
      connectionTimeout: CONNECT_TIMEOUT,
      maxTransactionRetryTime: 0,
      logging: { level: 'error', logger: () => undefined },
    });
  } catch {
    throw new KfmError({
      code: 'STORE_UNREACHABLE',
      message: `Neo4j connection settings are invalid for ${endpoint} (values are not shown)`,
    });
  }
  try {
    await driver.verifyConnectivity(values.database ? { database: values.database } : {});
  } catch (error) {
    await driver.close().catch(() => undefined);
    const code =
      typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'unknown error';
    const reason = code === 'Neo.ClientError.Security.Unauthorized' ? 'authentication failed' : code;
    throw new KfmError({
      code: 'STORE_UNREACHABLE',
      message: `Neo4j at ${endpoint} is unreachable: ${sanitize(reason)}`,
    });
  }
  return { driver, endpoint, sanitize, ...(values.database ? { database: values.database } : {}) };
}
