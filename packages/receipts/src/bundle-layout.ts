// Where a bundle keeps its evidence: the latest receipt and its companions at receipts/, and every run's
// own copies under receipts/runs/<run-dir>/ (append-only). Writers and verifiers share these names.

/** The latest run's receipt. */
export const LATEST_RECEIPT = 'receipts/run_receipt.json';
/** A pointer to a receipt kept elsewhere (artifact store). */
export const RECEIPT_REF = 'receipts/receipt_ref.json';
/** One directory per run, named by runDirectoryName(run_id). */
export const RUNS_DIR = 'receipts/runs';
/** The receipt's file name, at receipts/ and in each run directory. */
export const RECEIPT_FILE = 'run_receipt.json';
/** The in-toto statement, beside each run_receipt.json. */
export const STATEMENT_FILE = 'statement.intoto.json';
/** The DSSE envelope signing the statement, beside it. */
export const ENVELOPE_FILE = 'statement.intoto.dsse.json';

/** The evidence a run may produce, by role: its conventional path (also its name inside a run directory). */
export const EVIDENCE_ROLES = {
  pre: 'baselines/pre.json',
  post: 'baselines/post.json',
  after_rollback: 'baselines/after_rollback.json',
  summary: 'diffs/summary.json',
  touched: 'diffs/touched.csv',
  temporal: 'diffs/temporal.json',
} as const;

export type EvidenceRole = keyof typeof EVIDENCE_ROLES;

/** Where a declaration puts its evidence (artifacts.baselines / artifacts.diffs); unset roles use the conventional path. */
export interface DeclaredEvidence {
  baselines?: { pre?: string; post?: string };
  diffs?: { summary?: string; touched?: string; temporal?: string };
}

/**
 * For every role: the path a reviewer reads (declared, else conventional) — holding the latest run's copy —
 * and the name of that copy inside a run directory (always the conventional path).
 */
export function evidencePaths(
  declared: DeclaredEvidence | undefined,
): { role: EvidenceRole; latest: string; runCopy: string }[] {
  const declaredPath: Partial<Record<EvidenceRole, string | undefined>> = {
    pre: declared?.baselines?.pre,
    post: declared?.baselines?.post,
    summary: declared?.diffs?.summary,
    touched: declared?.diffs?.touched,
    temporal: declared?.diffs?.temporal,
  };
  return (Object.keys(EVIDENCE_ROLES) as EvidenceRole[]).map((role) => ({
    role,
    latest: declaredPath[role] ?? EVIDENCE_ROLES[role],
    runCopy: EVIDENCE_ROLES[role],
  }));
}

/** The latest copies of the receipt's companions at receipts/, each bound to its run directory's copy. */
export const LATEST_COMPANIONS = ['prov.jsonld', 'statement.intoto.json', 'statement.intoto.dsse.json'] as const;

/** The dry run's plan, at the bundle root; bound to the newest plan run's copy. */
export const PLAN_FILE = 'plan.json';
