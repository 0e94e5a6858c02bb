// `kfm-migrate verify --chain DIR`: the receipt chains of every store found under a directory, with the
// first break of each, shaped as a CLI result (exit 1 on a break, 2 when a receipt is unreadable).
import fs from 'node:fs/promises';
import { ExitCode, exitCodeFor, type Issue } from '@kfm/migration-contracts';
import { verifyChain, type ChainResult } from '@kfm/receipts';

export type ChainCheckResult = ChainResult & { status: 'passed' | 'failed'; exit_code: ExitCode };

export async function verifyChainDirectory(dir: string): Promise<ChainCheckResult | { status: 'failed'; exit_code: ExitCode; issues: Issue[] }> {
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat?.isDirectory()) return { status: 'failed', exit_code: ExitCode.InvalidInput, issues: [{ code: 'FILE_NOT_FOUND', file: dir, message: 'no such directory of receipts' }] };
  const result = await verifyChain(dir);
  const exit = result.ok ? ExitCode.Passed : exitCodeFor(result.issues) || ExitCode.CheckFailed;
  return { ...result, status: result.ok ? 'passed' : 'failed', exit_code: exit };
}
