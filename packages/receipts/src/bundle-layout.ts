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
