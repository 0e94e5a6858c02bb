// The one thing capture needs from the driver: something that runs Cypher (a session, an explicit
// transaction or a managed one). Reading through a transaction lets the POST baseline see the
// uncommitted change. Rows come back as plain objects; `stream` folds records one at a time so
// large results never sit in client memory (the driver pauses pulling at its fetch-size watermark).
import type { Result } from 'neo4j-driver';

export interface CypherRunner {
  run(query: string, parameters?: Record<string, unknown>): Result;
}

export type Row = Record<string, unknown>;

export async function rows(
  runner: CypherRunner,
  query: string,
  parameters: Record<string, unknown> = {},
): Promise<Row[]> {
  const result = await runner.run(query, parameters);
  return result.records.map((record) => record.toObject() as Row);
}

export async function stream(
  runner: CypherRunner,
  query: string,
  parameters: Record<string, unknown>,
  onRow: (row: Row) => void,
): Promise<number> {
  let count = 0;
  for await (const record of runner.run(query, parameters)) {
    onRow(record.toObject() as Row);
    count++;
  }
  return count;
}
