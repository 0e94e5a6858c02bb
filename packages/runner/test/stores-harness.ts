// What the search and graph tests through the CLI share: random migration ids (search and graph ledgers
// outlive a test), copies of the example bundles with their names moved into a test namespace, a bare
// REST call for reading Elasticsearch and a Neo4j driver for reading the graph directly (never
// through our adapter).
import { randomInt } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import neo4j, { type Driver } from 'neo4j-driver';
import { repo, startCli } from './postgis-harness.js';

/** The CLI's Neo4j connection variables (the local stores' defaults). */
export const graphEnv = {
  KFM_NEO4J_URI: process.env.KFM_NEO4J_URI ?? 'bolt://127.0.0.1:7687',
  KFM_NEO4J_USER: process.env.KFM_NEO4J_USER ?? 'neo4j',
  KFM_NEO4J_PASSWORD: process.env.KFM_NEO4J_PASSWORD ?? 'kfm-local-dev',
};

/** A quiet driver on the same server, for the test's own reads and seeds. */
export const graphDriver = (): Driver =>
  neo4j.driver(graphEnv.KFM_NEO4J_URI, neo4j.auth.basic(graphEnv.KFM_NEO4J_USER, graphEnv.KFM_NEO4J_PASSWORD), {
    logging: { level: 'error', logger: () => undefined },
  });

/**
 * `<PREFIX>-MIG-20YY-MM-DD-NN` with random digits: a fresh id for every test, drawn from all of 2000–2099
 * (days 1–28, runs 01–99): a store's ledger keeps every id a test ever applied, and a repeat is
 * LEDGER_DRIFT for an unrelated test.
 */
export const randomId = (prefix: string) =>
  `${prefix}-MIG-20${String(randomInt(0, 100)).padStart(2, '0')}-${String(randomInt(1, 13)).padStart(2, '0')}-${String(randomInt(1, 29)).padStart(2, '0')}-${String(randomInt(1, 100)).padStart(2, '0')}`;

/** A copy of `migrations/<relative>` without its evidence, each file passed through `rewrite`. */
export async function copyExample(relative: string, rewrite: (name: string, text: string) => string): Promise<string> {
  const source = path.join(repo, 'migrations', relative);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-example-'));
  for (const name of await fs.readdir(source)) {
    if (['baselines', 'diffs', 'receipts', 'plan.json'].includes(name)) continue;
    await fs.writeFile(path.join(dir, name), rewrite(name, await fs.readFile(path.join(source, name), 'utf8')));
  }
  return dir;
}

/** The graph seed's labels, types and constraint moved into a namespace `prefix`. */
export const renameGraphSeed = (text: string, prefix: string) =>
  text.replace(
    /\b(Parcel|Owner|Provenance|AuthoritySite|OWNS|HAS_OWNER|DERIVED_FROM|WITHIN|parcel_parcel_id_unique)\b/g,
    (name) => `${prefix}${name}`,
  );

/** One Elasticsearch REST call; the JSON answer, or undefined for a 404. */
export async function searchRest(url: string, method: string, pathname: string, body?: unknown): Promise<any> {
  const response = await fetch(`${url}${pathname}`, {
    method,
    ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  return response.status === 404 ? undefined : response.json();
}

/** Start the CLI and resolve once its progress output matches `marker` (or it ends). */
export function startUntil(args: string[], env: Record<string, string>, marker: RegExp) {
  const run = startCli(args, env);
  let seen = false;
  const reached = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (marker.test(run.output())) {
        seen = true;
        clearInterval(timer);
        resolve();
      }
    }, 20);
    void run.done.then((result) => {
      clearInterval(timer);
      if (!seen) {
        // What stopped it: the failed checks and issues of its JSON result, then its progress.
        const failed = [...(result.json.issues ?? []), ...(result.json.checks ?? [])]
          .filter((entry: { status?: string }) => entry.status !== 'pass')
          .map((entry: { code?: string; message?: string }) => `${entry.code ?? ''} ${entry.message ?? ''}`);
        reject(
          new Error(
            `ended (exit ${result.code}) before ${marker}: ${failed.join('; ').slice(0, 2000)}\n${result.stderr.slice(-2000)}`,
          ),
        );
      }
    });
  });
  return { ...run, reached };
}
