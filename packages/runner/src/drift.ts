// The drift gate: before a rollback changes anything, the objects the apply touched must still be as the
// apply's POST recorded them. "Touched" is the footprint of every change the apply made: each object
// whose names cover all the names of a changed object (for an index on public.parcels: every column,
// index, constraint and the table itself). The apply's evidence is read from the bundle's own
// receipts, validated against the schemas.
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  loadArtifact,
  type Baseline,
  type BaselineObject,
  type DiffSummary,
  type RunReceipt,
} from '@kfm/migration-contracts';
import { EVIDENCE_ROLES, RUNS_DIR, runDirectoryOf } from '@kfm/receipts';

export interface AppliedEvidence {
  receipt: RunReceipt;
  pre?: Baseline;
  post?: Baseline;
  summary?: DiffSummary;
}

/** Every valid run receipt of the bundle, oldest first (an invalid one is skipped: verify reports it). */
export async function bundleReceipts(bundleDir: string): Promise<RunReceipt[]> {
  const runsDir = path.join(bundleDir, RUNS_DIR);
  const runs = await fs.readdir(runsDir).catch(() => [] as string[]);
  const receipts: RunReceipt[] = [];
  for (const run of runs) {
    const receipt = await loadArtifact<RunReceipt>(path.join(runsDir, run, 'run_receipt.json'), 'run_receipt.v1');
    if (receipt.ok) receipts.push(receipt.value);
  }
  return receipts.sort((a, b) => (a.finished_at < b.finished_at ? -1 : a.finished_at > b.finished_at ? 1 : 0));
}

/** A run's PRE, POST and diff summary, read from the files its receipt lists and validated. */
export async function runEvidence(bundleDir: string, receipt: RunReceipt): Promise<AppliedEvidence> {
  const dir = runDirectoryOf(receipt);
  const read = async <T>(
    role: keyof typeof EVIDENCE_ROLES,
    schema: 'baseline.v1' | 'diff_summary.v1',
  ): Promise<T | undefined> => {
    const file = `${dir}/${EVIDENCE_ROLES[role]}`;
    if (!receipt.outputs.some((output) => output.path === file)) return undefined;
    const loaded = await loadArtifact<T>(path.join(bundleDir, file), schema);
    return loaded.ok ? loaded.value : undefined;
  };
  const [pre, post, summary] = await Promise.all([
    read<Baseline>('pre', 'baseline.v1'),
    read<Baseline>('post', 'baseline.v1'),
    read<DiffSummary>('summary', 'diff_summary.v1'),
  ]);
  return { receipt, ...(pre ? { pre } : {}), ...(post ? { post } : {}), ...(summary ? { summary } : {}) };
}

/** The newest committed apply in the bundle's receipts, with its PRE, POST and summary. */
export async function latestApplied(bundleDir: string): Promise<AppliedEvidence | undefined> {
  const newest = (await bundleReceipts(bundleDir))
    .filter(
      (receipt) =>
        receipt.operation === 'apply' && receipt.run_type !== 'rehearsal' && receipt.outcome?.status === 'committed',
    )
    .pop();
  return newest ? runEvidence(bundleDir, newest) : undefined;
}

export interface DriftedObject {
  kind: string;
  name: string;
  expected: string | null;
  found: string | null;
}

/** Does `object` carry every canonical name of `footprint` (a changed object's scope)? */
function within(
  object: Pick<BaselineObject, 'scope'>,
  footprint: Readonly<Record<string, readonly string[] | undefined>>,
): boolean {
  const dimensions = Object.entries(footprint).filter(([, names]) => names && names.length > 0);
  return dimensions.length > 0 && dimensions.every(([dimension, names]) => object.scope[dimension]?.[0] === names![0]);
}

/** Objects in the apply's footprint whose live digest differs from its POST (or that appeared or vanished). */
export function driftFrom(
  applied: Required<Pick<AppliedEvidence, 'post' | 'summary'>>,
  live: Baseline,
): DriftedObject[] {
  const footprints = applied.summary.changes.map((change) => change.scope ?? {});
  const inFootprint = (object: BaselineObject) => footprints.some((footprint) => within(object, footprint));
  const key = (object: Pick<BaselineObject, 'kind' | 'name'>) => `${object.kind}\u0000${object.name}`;
  const expected = new Map(applied.post.objects.filter(inFootprint).map((object) => [key(object), object]));
  const found = new Map(live.objects.filter(inFootprint).map((object) => [key(object), object]));
  const drifted: DriftedObject[] = [];
  for (const id of [...new Set([...expected.keys(), ...found.keys()])].sort()) {
    const before = expected.get(id);
    const now = found.get(id);
    if (before?.digest === now?.digest) continue;
    const [kind, name] = id.split('\u0000') as [string, string];
    drifted.push({ kind, name, expected: before?.digest ?? null, found: now?.digest ?? null });
  }
  return drifted;
}
