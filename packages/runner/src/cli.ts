#!/usr/bin/env node
// kfm-migrate: parses arguments, reads the environment, calls the library and renders its result.
// With --json the very object the library returned goes to stdout; progress goes to stderr.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { formatIssue, ExitCode, type Issue } from '@kfm/migration-contracts';
import { parseSigningKey, parseVerifyKey } from '@kfm/receipts';
import { formatSummary } from '@kfm/diff';
import { postgisAdapter } from '@kfm/baseline-postgis';
import { graphAdapter } from '@kfm/baseline-graph';
import { searchAdapter } from '@kfm/baseline-search';
import { registerAdapter } from './adapters.js';
import { applyBundle } from './apply.js';
import { verifyChainDirectory } from './chain.js';
import { runCi } from './ci.js';
import { captureStoreBaseline, diffFiles, discoverBundles, storeStatus, validatePaths, verifyTarget } from './commands.js';
import { planBundle } from './plan.js';
import { createReporter } from './progress.js';
import { rehearseBundle, rehearseRegistered } from './rehearse.js';
import { rollbackBundle } from './rollback.js';
import type { RunOptions, RunResult } from './run-context.js';
import { scaffoldBundle } from './scaffold.js';

registerAdapter(postgisAdapter);
registerAdapter(graphAdapter);
registerAdapter(searchAdapter);

const pkg = JSON.parse(await fs.readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const program = new Command('kfm-migrate')
  .description('Governed, reversible migrations for PostGIS, Elasticsearch and Neo4j')
  .version(pkg.version)
  .option('--json', 'machine output on stdout (progress stays on stderr)')
  .addOption(new Option('--env <name>', 'target environment').choices(['dev', 'stage', 'prod']).default('dev'))
  .option('--approval <ref>', 'approval reference (required with --env prod)')
  .option('--actor <principal>', 'who runs this (service principal)', process.env.KFM_ACTOR ?? 'svc:kfm-migrate')
  .option('--sign-key <file>', 'Ed25519 private key (PEM) that signs each in-toto statement (DSSE)')
  .option('--sign-key-env <name>', 'name of the environment variable holding the Ed25519 private key (PEM)')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

type Printable = { exit_code: ExitCode; issues?: Issue[] } & Record<string, unknown>;

function emit(value: Printable, human: (v: Printable) => string[]): never {
  const json = program.opts().json as boolean | undefined;
  if (json) process.stdout.write(JSON.stringify(value, null, 2) + '\n');
  else {
    for (const line of human(value)) process.stdout.write(line + '\n');
    for (const issue of value.issues ?? []) process.stderr.write(formatIssue(issue) + '\n');
  }
  process.exit(value.exit_code);
}

/** The signing key named by --sign-key / --sign-key-env; a bad key ends the command (exit 2) before any run. */
async function signingKey(): Promise<RunOptions['signingKey']> {
  const opts = program.opts<{ signKey?: string; signKeyEnv?: string }>();
  if (!opts.signKey && !opts.signKeyEnv) return undefined;
  const source = opts.signKey ? `--sign-key ${opts.signKey}` : `environment variable ${opts.signKeyEnv}`;
  const pem = opts.signKey ? await fs.readFile(opts.signKey).catch(() => undefined) : process.env[opts.signKeyEnv as string];
  const parsed = pem ? parseSigningKey(pem, source) : { ok: false as const, issue: { code: 'ARGUMENT_INVALID' as const, message: `${source} is empty or unreadable` } };
  if (!parsed.ok) emit({ exit_code: ExitCode.InvalidInput, status: 'failed', issues: [parsed.issue] }, () => []);
  return parsed.key;
}

function runOptions(bundle: string, key?: RunOptions['signingKey']): RunOptions {
  const opts = program.opts<{ env: RunOptions['environment']; approval?: string; actor: string }>();
  let gitCommit: string | undefined;
  try {
    gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: path.resolve(bundle), stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    gitCommit = undefined;
  }
  return {
    bundle, environment: opts.env, ...(opts.approval ? { approval: opts.approval } : {}), actor: { principal: opts.actor, role: 'pipeline' },
    env: process.env, ...(gitCommit ? { gitCommit } : {}), runnerVersion: `@kfm/runner@${pkg.version}`, now: () => new Date(), reporter: createReporter(),
    ...(key ? { signingKey: key } : {}),
  };
}

function renderRun(r: Printable): string[] {
  const run = r as unknown as RunResult;
  const lines = [`${run.command} ${run.migration_id ?? ''}: ${run.status.toUpperCase()} (exit ${run.exit_code})${run.outcome ? ` — ${run.outcome.status}` : ''}`];
  for (const check of run.checks) lines.push(`  ${check.status === 'pass' ? 'ok  ' : check.status === 'fail' ? 'FAIL' : 'skip'} ${check.name}${check.code && check.status === 'fail' ? ` [${check.code}]` : ''}${check.message ? ` — ${check.message}` : ''}`);
  if (run.fingerprints.pre) lines.push(`  PRE  ${run.fingerprints.pre}`);
  if (run.fingerprints.post) lines.push(`  POST ${run.fingerprints.post}`);
  if (run.fingerprints.after_rollback) lines.push(`  AFTER ROLLBACK ${run.fingerprints.after_rollback}`);
  if (run.run_id) lines.push(`  receipt ${run.run_id}`);
  return lines;
}

program.command('validate').argument('[paths...]', 'bundles, migration.yml files or JSON artifacts (default: every bundle under ./migrations)')
  .description('validate bundles, declarations and artifacts against the schemas')
  .action(async (paths: string[]) => {
    const targets = paths.length ? paths : await discoverBundles(process.cwd());
    const result = await validatePaths(targets);
    emit(result as unknown as Printable, (r) => (r as unknown as Awaited<ReturnType<typeof validatePaths>>).results.flatMap((x) => [`${x.ok ? 'ok  ' : 'FAIL'} ${x.path} (${x.kind})`, ...x.issues.map((i) => `  ${formatIssue(i)}`)]));
  });

program.command('ci').option('--root <dir>', 'repository root holding migrations/', '.')
  .option('--rehearse', 'also rehearse forward + rollback of every draft/approved bundle on a scratch copy of its store')
  .description('all CI gates over migrations/')
  .action(async (o: { root: string; rehearse?: boolean }) => {
    const result = await runCi(path.resolve(o.root));
    if (o.rehearse) {
      const key = await signingKey();
      const rehearsals = await rehearseRegistered(path.resolve(o.root, 'migrations'), (bundle) => runOptions(bundle, key));
      for (const r of rehearsals.filter((x) => x.status === 'failed')) {
        const found: Issue[] = r.issues.length ? r.issues : r.checks.map((c) => ({ code: (c.code ?? 'ROLLBACK_UNVERIFIED') as Issue['code'], message: `${c.name}: ${c.message ?? ''}` }));
        result.findings.push(...found.map((issue) => ({ ...issue, gate: 'rehearsal' as const, file: issue.file ?? `migrations/${r.path}` })));
      }
      const worst = Math.max(result.exit_code, ...rehearsals.map((r) => r.exit_code)) as ExitCode;
      Object.assign(result, { rehearsals, exit_code: worst, status: result.findings.length || worst ? 'failed' : 'passed' });
    }
    emit({ ...result, issues: [] } as unknown as Printable, (r) => {
      const ci = r as unknown as Awaited<ReturnType<typeof runCi>> & { rehearsals?: Awaited<ReturnType<typeof rehearseRegistered>> };
      const rehearsed = (ci.rehearsals ?? []).map((x) => `rehearse ${x.migration_id}: ${x.status.toUpperCase()}${x.note ? ` — ${x.note}` : ''}`);
      return [...ci.findings.map((f) => `${f.gate}: ${formatIssue(f)}`), ...rehearsed, `ci: ${ci.bundles.length} bundle(s), ${ci.findings.length} finding(s): ${ci.status.toUpperCase()}`];
    });
  });

program.command('plan').argument('<bundle>').description('dry run: preflight + PRE baseline + predicted touches → plan.json')
  .action(async (bundle: string) => emit((await planBundle(runOptions(bundle))) as unknown as Printable, renderRun));

program.command('apply').argument('<bundle>').description('the full governed lifecycle')
  .action(async (bundle: string) => emit((await applyBundle(runOptions(bundle, await signingKey()))) as unknown as Printable, renderRun));

program.command('rollback').argument('<bundle>').description('run rollback, verify PRE is restored, write a receipt')
  .action(async (bundle: string) => emit((await rollbackBundle(runOptions(bundle, await signingKey()))) as unknown as Printable, renderRun));

program.command('rehearse').argument('<bundle>').description('apply + rollback on a scratch copy of the store; passes only if rollback restores PRE')
  .action(async (bundle: string) => emit((await rehearseBundle(runOptions(bundle, await signingKey()))) as unknown as Printable, renderRun));

program.command('verify').argument('[target]', 'a bundle directory or a run_receipt.json')
  .option('--chain <dir>', 'check the receipt chain of every store found under DIR (first break per store)')
  .option('--public-key <file>', 'Ed25519 public key (PEM); every receipt must be signed by one of them (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
  .description('recompute every digest, validate schemas, check statements, signatures and receipt chains')
  .action(async (target: string | undefined, o: { chain?: string; publicKey: string[] }) => {
    if (o.chain) {
      const chain = await verifyChainDirectory(o.chain);
      emit(chain as unknown as Printable, (r) => {
        const c = r as unknown as Awaited<ReturnType<typeof verifyChainDirectory>> & { chains?: { chain: string; links: unknown[]; head: string }[] };
        return [...(c.chains ?? []).map((x) => `chain ${x.chain}: ${x.links.length} receipt(s), head ${x.head}`), `verify --chain: ${c.status.toUpperCase()}`];
      });
    }
    if (!target) emit({ exit_code: ExitCode.InvalidInput, status: 'failed', issues: [{ code: 'ARGUMENT_INVALID', message: 'verify needs a bundle, a receipt or --chain DIR' }] }, () => []);
    const publicKeys = [];
    for (const file of o.publicKey) {
      const parsed = parseVerifyKey(await fs.readFile(file).catch(() => ''), `--public-key ${file}`);
      if (!parsed.ok) emit({ exit_code: ExitCode.InvalidInput, status: 'failed', issues: [parsed.issue] }, () => []);
      publicKeys.push(parsed.key);
    }
    const result = await verifyTarget(target, publicKeys.length ? { publicKeys } : {});
    emit(result as unknown as Printable, (r) => {
      const v = r as unknown as { status: string; files?: { path: string; status: string }[]; attestations?: { receipt: string; statement: string; signature: string }[] };
      return [
        ...(v.files ?? []).map((f) => `${f.status === 'ok' ? 'ok  ' : 'FAIL'} ${f.path}${f.status === 'ok' ? '' : ` (${f.status})`}`),
        ...(v.attestations ?? []).map((a) => `${a.statement === 'mismatch' || a.signature === 'invalid' ? 'FAIL' : 'ok  '} ${a.receipt}: statement ${a.statement}, signature ${a.signature}`),
        `verify: ${v.status.toUpperCase()}`,
      ];
    });
  });

program.command('baseline').argument('<store>', 'postgis | search | graph').option('--out <file>', 'write the baseline here (default stdout)')
  .description('capture a baseline of a store')
  .action(async (store: string, o: { out?: string }) => {
    const result = await captureStoreBaseline(store, process.env, new Date().toISOString());
    if (result.status === 'passed' && o.out) await fs.writeFile(o.out, result.text);
    if (result.status === 'passed' && !o.out && !program.opts().json) {
      process.stdout.write(result.text + '\n');
      process.exit(0);
    }
    const { text: _text, ...value } = result as typeof result & { text?: string };
    emit(value as unknown as Printable, () => (o.out ? [`baseline written to ${o.out}`] : []));
  });

program.command('diff').argument('<pre>').argument('<post>').option('--declaration <file>', 'evaluate against this migration.yml')
  .description('diff two baselines; with --declaration, evaluate scope and limits')
  .action(async (pre: string, post: string, o: { declaration?: string }) => {
    const result = await diffFiles(pre, post, o.declaration);
    emit(result as unknown as Printable, (r) => {
      const d = r as unknown as Awaited<ReturnType<typeof diffFiles>>;
      if ('summary' in d && d.summary) return [formatSummary(d.summary)];
      if ('diff' in d && d.diff) return d.diff.changes.map((c) => `${c.change.padEnd(8)} ${c.kind} ${c.name}`).concat(`${d.diff.changes.length} change(s)`);
      return [];
    });
  });

program.command('new').argument('<store>', 'postgis | search | graph').requiredOption('--intent <text>', 'what the migration does, in plain language')
  .option('--root <dir>', 'repository root holding migrations/', '.')
  .description('scaffold a bundle with a fresh id and register it as draft')
  .action(async (store: string, o: { intent: string; root: string }) => {
    const result = await scaffoldBundle({ root: path.resolve(o.root), type: store, intent: o.intent, now: new Date() });
    emit({ ...result, exit_code: result.status === 'passed' ? 0 : 2 } as unknown as Printable, (r) => {
      const s = r as unknown as typeof result;
      return s.migration_id ? [`created ${s.migration_id} at ${s.path}`, ...s.files.map((f) => `  ${f}`)] : [];
    });
  });

program.command('status').option('--root <dir>', 'repository root holding migrations/', '.')
  .description('registry + ledger view')
  .action(async (o: { root: string }) => {
    const result = await storeStatus(path.resolve(o.root), process.env);
    emit(result as unknown as Printable, (r) => (r as unknown as typeof result).migrations.map((m) => `${m.migration_id.padEnd(24)} ${m.type.padEnd(8)} ${m.status.padEnd(15)} ledger=${m.ledger}`));
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : ExitCode.InvalidInput);
  process.stderr.write(`kfm-migrate: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(ExitCode.Unreachable);
}
