#!/usr/bin/env node
// kfm-migrate: parses arguments, reads the environment, calls the library and renders its result.
// With --json the very object the library returned goes to stdout; progress goes to stderr.
//
// Start-up is kept short: only Node's own modules and the adapter registry load statically. `--version`
// answers from package.json alone; the shared packages load once the version fast path is passed, and
// each command imports its own module (and, through the registry, a store's adapter with its drivers
// and parsers) only when it runs.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { Command as CommandType } from 'commander';
import type { ExitCode, Issue, StoreAdapter } from '@kfm/migration-contracts';
import { registerAdapter, registerAdapterLoader, registeredTypes } from './adapters.js';
import type { AdminResult } from './admin.js';
import type { ApprovalResult } from './approvals.js';
import type { CiResult } from './ci.js';
import { createReporter } from './progress.js';
import type { CiRehearsal } from './rehearse.js';
import type { RunOptions, RunResult } from './run-context.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

// Third-party adapters are modules named in KFM_ADAPTERS (comma-separated) or by --adapter; each exports
// a StoreAdapter as `adapter` or default.
const adapterModules = [...(process.env.KFM_ADAPTERS ?? '').split(','), ...adapterFlags(process.argv)]
  .map((s) => s.trim())
  .filter(Boolean);

// `kfm-migrate --version` alone: the answer commander would give, without loading commander or any package.
// (With adapter modules to load, the full path runs: a module that fails to load still fails the command.)
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V') && adapterModules.length === 0) {
  process.stdout.write(`${pkg.version}\n`);
  process.exit(0);
}

const [{ ExitCode: Exit, exitCodeFor, formatIssue }, { durationMs }, { Command, CommanderError, Option }] =
  await Promise.all([import('@kfm/migration-contracts'), import('@kfm/adapter-kit'), import('commander')]);

// Adapter registration: the only place the CLI names stores. Each built-in adapter loads when a command
// first needs its type (a bundle's declaration, a STORE argument); registeredTypes() lists them unloaded.
registerAdapterLoader('postgis', async () => (await import('@kfm/baseline-postgis')).postgisAdapter);
registerAdapterLoader('search', async () => (await import('@kfm/baseline-search')).searchAdapter);
registerAdapterLoader('graph', async () => (await import('@kfm/baseline-graph')).graphAdapter);
await loadAdapterModules(adapterModules);

/** `--adapter <module>` may appear anywhere; read before commander so registered types show in --help. */
function adapterFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  argv.forEach((arg, i) => {
    if (arg === '--adapter' && argv[i + 1]) out.push(argv[i + 1] as string);
    else if (arg.startsWith('--adapter=')) out.push(arg.slice('--adapter='.length));
  });
  return out;
}

async function loadAdapterModules(specifiers: readonly string[]): Promise<void> {
  for (const specifier of specifiers) {
    // A path is resolved from the working directory; a package name from node_modules.
    const target =
      specifier.startsWith('.') || path.isAbsolute(specifier) ? pathToFileURL(path.resolve(specifier)).href : specifier;
    let loaded: { adapter?: unknown; default?: unknown };
    try {
      loaded = (await import(target)) as { adapter?: unknown; default?: unknown };
    } catch (error) {
      process.stderr.write(
        `kfm-migrate: cannot load store adapter ${specifier}: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exit(Exit.InvalidInput);
    }
    const candidate = loaded.adapter ?? loaded.default;
    if (!isStoreAdapter(candidate)) {
      process.stderr.write(`kfm-migrate: ${specifier} exports no StoreAdapter (as \`adapter\` or default)\n`);
      process.exit(Exit.InvalidInput);
    }
    registerAdapter(candidate);
  }
}

function isStoreAdapter(value: unknown): value is StoreAdapter {
  const candidate = value as Partial<StoreAdapter> | undefined;
  return (
    typeof candidate?.type === 'string' &&
    typeof candidate.connect === 'function' &&
    typeof candidate.vocabulary === 'object' &&
    typeof candidate.language?.parse === 'function'
  );
}

interface Printable {
  exit_code: ExitCode;
  issues?: Issue[];
}

interface GlobalOptions {
  json?: boolean;
  env: RunOptions['environment'];
  approval?: string;
  actor: string;
  signKey?: string;
  signKeyEnv?: string;
}

const program = new Command('kfm-migrate')
  .description(
    `Governed, reversible migrations with baselines, scope enforcement and content-addressed receipts (stores: ${registeredTypes().join(', ')})`,
  )
  .version(pkg.version)
  .option('--json', 'machine output on stdout (progress stays on stderr)')
  .addOption(new Option('--env <name>', 'target environment').choices(['dev', 'stage', 'prod']).default('dev'))
  .option(
    '--approval <ref>',
    'approval reference (recorded approvals bind it to the bundle digest; required with --env prod)',
  )
  .option('--actor <principal>', 'who runs this (service principal)', process.env.KFM_ACTOR ?? 'svc:kfm-migrate')
  .option('--sign-key <file>', 'Ed25519 private key (PEM) that signs each in-toto statement (DSSE)')
  .option('--sign-key-env <name>', 'name of the environment variable holding the Ed25519 private key (PEM)')
  .option('--adapter <module>', 'load a third-party store adapter module (repeatable; or KFM_ADAPTERS=mod1,mod2)')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

const globals = (): GlobalOptions => program.opts<GlobalOptions>();

function emit<T extends Printable>(value: T, human: (v: T) => string[]): never {
  if (globals().json) process.stdout.write(JSON.stringify(value, null, 2) + '\n');
  else {
    for (const line of human(value)) process.stdout.write(line + '\n');
    for (const issue of value.issues ?? []) process.stderr.write(formatIssue(issue) + '\n');
  }
  process.exit(value.exit_code);
}

function invalid(message: string): never {
  return emit(
    { exit_code: Exit.InvalidInput, status: 'failed', issues: [{ code: 'ARGUMENT_INVALID', message }] },
    () => [],
  );
}

/** A duration flag (`30s`, `500ms`, `2min`) in milliseconds; a malformed one ends the command (exit 2). */
function duration(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = durationMs(value);
  if (ms === undefined) invalid(`${flag} ${value} is not a duration (e.g. 500ms, 30s, 2min)`);
  return ms;
}

/** The signing key named by --sign-key / --sign-key-env; a bad key ends the command (exit 2) before any run. */
async function signingKey(): Promise<KeyObject | undefined> {
  const opts = globals();
  if (!opts.signKey && !opts.signKeyEnv) return undefined;
  const source = opts.signKey ? `--sign-key ${opts.signKey}` : `environment variable ${opts.signKeyEnv}`;
  const pem = opts.signKey
    ? await fs.readFile(opts.signKey).catch(() => undefined)
    : process.env[opts.signKeyEnv as string];
  if (!pem) return invalid(`${source} is empty or unreadable`);
  const { parseSigningKey } = await import('@kfm/receipts');
  const parsed = parseSigningKey(pem, source);
  if (!parsed.ok) return emit({ exit_code: Exit.InvalidInput, status: 'failed', issues: [parsed.issue] }, () => []);
  return parsed.key;
}

async function publicKeys(files: readonly string[]): Promise<KeyObject[]> {
  const keys: KeyObject[] = [];
  if (files.length === 0) return keys;
  const { parseVerifyKey } = await import('@kfm/receipts');
  for (const file of files) {
    const parsed = parseVerifyKey(await fs.readFile(file).catch(() => ''), `--public-key ${file}`);
    if (!parsed.ok) emit({ exit_code: Exit.InvalidInput, status: 'failed', issues: [parsed.issue] }, () => []);
    else keys.push(parsed.key);
  }
  return keys;
}

function gitCommitOf(dir: string): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: path.resolve(dir), stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

interface LockFlags {
  lockWait?: string;
  lockTtl?: string;
}

function runOptions(bundle: string, extra: Partial<RunOptions> = {}, lock: LockFlags = {}): RunOptions {
  const opts = globals();
  const gitCommit = gitCommitOf(bundle);
  const lockWaitMs = duration('--lock-wait', lock.lockWait);
  const lockTtlMs = duration('--lock-ttl', lock.lockTtl);
  return {
    bundle,
    environment: opts.env,
    ...(opts.approval ? { approval: opts.approval } : {}),
    actor: { principal: opts.actor, role: 'pipeline' },
    env: process.env,
    ...(gitCommit ? { gitCommit } : {}),
    runnerVersion: `@kfm/runner@${pkg.version}`,
    now: () => new Date(),
    reporter: createReporter(),
    ...(lockWaitMs !== undefined ? { lockWaitMs } : {}),
    ...(lockTtlMs !== undefined ? { lockTtlMs } : {}),
    ...extra,
  };
}

function renderRun(run: RunResult): string[] {
  const lines = [
    `${run.command} ${run.migration_id ?? ''}: ${run.status.toUpperCase()} (exit ${run.exit_code})${run.outcome ? ` — ${run.outcome.status}` : ''}`,
  ];
  for (const check of run.checks)
    lines.push(
      `  ${check.status === 'pass' ? 'ok  ' : check.status === 'fail' ? 'FAIL' : 'skip'} ${check.name}${check.code && check.status === 'fail' ? ` [${check.code}]` : ''}${check.message ? ` — ${check.message}` : ''}`,
    );
  if (run.fingerprints.pre) lines.push(`  PRE  ${run.fingerprints.pre}`);
  if (run.fingerprints.post) lines.push(`  POST ${run.fingerprints.post}`);
  if (run.fingerprints.after_rollback) lines.push(`  AFTER ROLLBACK ${run.fingerprints.after_rollback}`);
  if (run.run_id) lines.push(`  receipt ${run.run_id}`);
  return lines;
}

function renderAdmin(result: AdminResult): string[] {
  const lines = [`${result.command} ${result.store}: ${result.status.toUpperCase()} (exit ${result.exit_code})`];
  for (const check of result.checks)
    lines.push(`  ${check.status === 'pass' ? 'ok  ' : 'FAIL'} ${check.message ?? check.name}`);
  if (result.policy)
    lines.push(
      `  policy ${result.policy.digest} (run ${result.policy.run_id}${result.policy.recorded_at ? `, ${result.policy.recorded_at}` : ''})`,
      JSON.stringify(result.policy.policy, null, 2),
    );
  else if (result.command === 'policy show') lines.push('  the store holds no policy (kfm-migrate policy push)');
  if (result.receipt) lines.push(`  receipt ${result.receipt}`);
  return lines;
}

function renderApproval(result: ApprovalResult): string[] {
  if (!result.migration_id) return [];
  return [
    `${result.migration_id}: ${result.registry_status ?? ''} (bundle ${result.bundle_digest ?? ''})${result.missing?.length ? `; still needs approvals by ${result.missing.join(', ')}` : ''}`,
  ];
}

const lockOptions = (command: CommandType) =>
  command
    .option('--lock-wait <duration>', 'wait up to this long for a held store lock, with backoff (default 0: fail fast)')
    .option(
      '--lock-ttl <duration>',
      'lease time-to-live for search and graph stores (default 30s; renewed every third of it)',
    );

program
  .command('validate')
  .argument('[paths...]', 'bundles, migration.yml files or JSON artifacts (default: every bundle under ./migrations)')
  .description('validate bundles (as a run would prepare them), declarations and artifacts against the schemas')
  .action(async (paths: string[]) => {
    const { discoverBundles, validatePaths } = await import('./commands.js');
    const targets = paths.length ? paths : await discoverBundles(process.cwd());
    const result = await validatePaths(targets);
    emit(result, (r) =>
      r.results.flatMap((x) => [
        `${x.ok ? 'ok  ' : 'FAIL'} ${x.path} (${x.kind})`,
        ...x.issues.map((i) => `  ${formatIssue(i)}`),
      ]),
    );
  });

program
  .command('ci')
  .option('--root <dir>', 'repository root holding migrations/', '.')
  .option(
    '--rehearse',
    'also rehearse forward + rollback of every draft/approved bundle on a scratch copy of its store',
  )
  .option(
    '--public-key <file>',
    'Ed25519 public key (PEM) for signature checks (repeatable)',
    (v: string, all: string[]) => [...all, v],
    [] as string[],
  )
  .description('every CI gate over migrations/: schema, secrets, evidence, chains, registry, scope of committed diffs')
  .action(async (o: { root: string; rehearse?: boolean; publicKey: string[] }) => {
    const keys = await publicKeys(o.publicKey);
    const { runCi } = await import('./ci.js');
    const ci = await runCi(path.resolve(o.root), keys.length ? { publicKeys: keys } : {});
    let rehearsals: CiRehearsal[] = [];
    if (o.rehearse) {
      const key = await signingKey();
      const { rehearseRegistered } = await import('./rehearse.js');
      rehearsals = await rehearseRegistered(path.resolve(o.root, 'migrations'), (bundle) =>
        runOptions(bundle, key ? { signingKey: key } : {}),
      );
      for (const r of rehearsals.filter((x) => x.status === 'failed')) {
        const found: Issue[] = r.issues.length
          ? r.issues
          : r.checks.map((c) => ({ code: 'ROLLBACK_UNVERIFIED', message: `${c.name}: ${c.message ?? ''}` }));
        ci.findings.push(
          ...found.map((issue) => ({
            ...issue,
            gate: 'rehearsal' as const,
            file: issue.file ?? `migrations/${r.path}`,
          })),
        );
      }
    }
    const exit = Math.max(ci.exit_code, ...rehearsals.map((r) => r.exit_code)) as ExitCode;
    const result: CiResult & { rehearsals: CiRehearsal[]; issues: Issue[] } = {
      ...ci,
      rehearsals,
      exit_code: exit,
      status: ci.findings.length || exit ? 'failed' : 'passed',
      issues: [],
    };
    emit(result, (r) => [
      ...r.findings.map((f) => `${f.gate}: ${formatIssue(f)}`),
      ...r.rehearsals.map(
        (x) => `rehearse ${x.migration_id}: ${x.status.toUpperCase()}${x.note ? ` — ${x.note}` : ''}`,
      ),
      `ci: ${r.bundles.length} bundle(s), ${r.findings.length} finding(s): ${r.status.toUpperCase()}`,
    ]);
  });

program
  .command('plan')
  .argument('<bundle>')
  .description('dry run: preflight + PRE baseline + predicted touches + drift → plan.json (nothing changes)')
  .action(async (bundle: string) => {
    const { planBundle } = await import('./plan.js');
    emit(await planBundle(runOptions(bundle)), renderRun);
  });

lockOptions(program.command('apply').argument('<bundle>').description('the full governed lifecycle'))
  .option('--full', 'capture full baselines, not only what the declaration scopes')
  .option('--resume', 'continue an interrupted batched run from the last batch the ledger recorded')
  .action(async (bundle: string, o: LockFlags & { full?: boolean; resume?: boolean }) => {
    const key = await signingKey();
    const { applyBundle } = await import('./apply.js');
    emit(
      await applyBundle(
        runOptions(
          bundle,
          {
            ...(key ? { signingKey: key } : {}),
            ...(o.full ? { full: true } : {}),
            ...(o.resume ? { resume: true } : {}),
          },
          o,
        ),
      ),
      renderRun,
    );
  });

lockOptions(
  program
    .command('rollback')
    .argument('<bundle>')
    .description('drift gate, then the rollback script, verified against PRE'),
)
  .option(
    '--accept-drift',
    'roll back although objects the apply touched drifted since its POST (needs --approval REF; recorded)',
  )
  .action(async (bundle: string, o: LockFlags & { acceptDrift?: boolean }) => {
    const key = await signingKey();
    const { rollbackBundle } = await import('./rollback.js');
    emit(
      await rollbackBundle(
        runOptions(bundle, { ...(key ? { signingKey: key } : {}), ...(o.acceptDrift ? { acceptDrift: true } : {}) }, o),
      ),
      renderRun,
    );
  });

program
  .command('rehearse')
  .argument('<bundle>')
  .description('apply + rollback on a scratch copy of the store; passes only if rollback restores PRE')
  .action(async (bundle: string) => {
    const key = await signingKey();
    const { rehearseBundle } = await import('./rehearse.js');
    emit(await rehearseBundle(runOptions(bundle, key ? { signingKey: key } : {})), renderRun);
  });

program
  .command('verify')
  .argument('[target]', 'a bundle directory or a run_receipt.json')
  .option('--chain <dir>', 'check the receipt chain of every store found under DIR (first break per store)')
  .option(
    '--public-key <file>',
    'Ed25519 public key (PEM); every receipt must be signed by one of them (repeatable)',
    (v: string, all: string[]) => [...all, v],
    [] as string[],
  )
  .option(
    '--against-store',
    "compare the bundle's receipts with the store's ledger (connection variables from the declaration)",
  )
  .description(
    'recompute every digest; bind the evidence to the latest run; statements, signatures, chains, the store ledger',
  )
  .action(async (target: string | undefined, o: { chain?: string; publicKey: string[]; againstStore?: boolean }) => {
    const { verifyChainDirectory, verifyTarget } = await import('./verify.js');
    if (o.chain) {
      emit(await verifyChainDirectory(o.chain), (c) =>
        [
          'chains' in c ? c.chains.map((x) => `chain ${x.chain}: ${x.links.length} receipt(s), head ${x.head}`) : [],
          [`verify --chain: ${c.status.toUpperCase()}`],
        ].flat(),
      );
    }
    if (!target) return invalid('verify needs a bundle, a receipt or --chain DIR');
    const keys = await publicKeys(o.publicKey);
    const result = await verifyTarget(target, {
      ...(keys.length ? { publicKeys: keys } : {}),
      ...(o.againstStore ? { againstStore: { env: process.env } } : {}),
    });
    emit(result, (v) => [
      ...('files' in v
        ? v.files.map(
            (f) => `${f.status === 'ok' ? 'ok  ' : 'FAIL'} ${f.path}${f.status === 'ok' ? '' : ` (${f.status})`}`,
          )
        : []),
      ...('attestations' in v
        ? v.attestations.map(
            (a) =>
              `${a.statement === 'mismatch' || a.signature === 'invalid' ? 'FAIL' : 'ok  '} ${a.receipt}: statement ${a.statement}, signature ${a.signature}`,
          )
        : []),
      ...('ledger' in v && v.ledger
        ? [
            `ledger: ${v.ledger.status} (${v.ledger.ledger.length} receipt(s) in the store, ${v.ledger.bundle.length} chained in the bundle)`,
          ]
        : []),
      `verify: ${v.status.toUpperCase()}`,
    ]);
  });

program
  .command('baseline')
  .argument('<store>', `store type (${registeredTypes().join(' | ')})`)
  .option('--out <file>', 'write the baseline here (default stdout)')
  .option('--full', 'every object and histogram, not a declaration-scoped capture')
  .description('capture a baseline of a store')
  .action(async (store: string, o: { out?: string; full?: boolean }) => {
    const { captureStoreBaseline } = await import('./commands.js');
    const result = await captureStoreBaseline(
      store,
      process.env,
      new Date().toISOString(),
      o.full ? { full: true } : {},
    );
    if (result.status === 'passed' && o.out) await fs.writeFile(o.out, result.text);
    if (result.status === 'passed' && !o.out && !globals().json) {
      process.stdout.write(result.text + '\n');
      process.exit(0);
    }
    const { text: _text, ...value } = { text: undefined, ...result };
    emit(value, () => (o.out ? [`baseline written to ${o.out}`] : []));
  });

program
  .command('diff')
  .argument('<pre>')
  .argument('<post>')
  .option('--declaration <file>', 'evaluate against this migration.yml')
  .description('diff two baselines; with --declaration, evaluate scope and limits')
  .action(async (pre: string, post: string, o: { declaration?: string }) => {
    const [{ diffFiles }, { formatSummary }] = await Promise.all([import('./commands.js'), import('@kfm/diff')]);
    emit(await diffFiles(pre, post, o.declaration), (d) => {
      if ('summary' in d && d.summary) return [formatSummary(d.summary)];
      if ('diff' in d && d.diff)
        return d.diff.changes
          .map((c) => `${c.change.padEnd(8)} ${c.kind} ${c.name}`)
          .concat(`${d.diff.changes.length} change(s)`);
      return [];
    });
  });

program
  .command('new')
  .argument('<store>', `store type (${registeredTypes().join(' | ')})`)
  .requiredOption('--intent <text>', 'what the migration does, in plain language')
  .option('--root <dir>', 'repository root holding migrations/', '.')
  .description('scaffold a bundle with a fresh id and register it as draft')
  .action(async (store: string, o: { intent: string; root: string }) => {
    const { scaffoldBundle } = await import('./scaffold.js');
    const result = await scaffoldBundle({ root: path.resolve(o.root), type: store, intent: o.intent, now: new Date() });
    emit({ ...result, exit_code: result.status === 'passed' ? Exit.Passed : Exit.InvalidInput }, (s) =>
      s.migration_id ? [`created ${s.migration_id} at ${s.path}`, ...s.files.map((f) => `  ${f}`)] : [],
    );
  });

program
  .command('status')
  .option('--root <dir>', 'repository root holding migrations/', '.')
  .description('registry + ledger view: state, drift, incomplete runs, evidence against the store, lease holders')
  .action(async (o: { root: string }) => {
    const { storeStatus } = await import('./status.js');
    emit(await storeStatus(path.resolve(o.root), process.env), (r) => [
      ...r.migrations.map(
        (m) =>
          `${m.migration_id.padEnd(24)} ${m.type.padEnd(8)} ${m.status.padEnd(15)} ledger=${m.ledger.padEnd(15)} drift=${m.drift ?? '-'} evidence=${m.evidence}${m.note ? `  (${m.note})` : ''}`,
      ),
      ...Object.entries(r.locks).map(
        ([store, holder]) =>
          `lock ${store}: ${holder === null ? 'free' : holder === 'unreachable' ? 'store unreachable' : holder.description}`,
      ),
    ]);
  });

program
  .command('approve')
  .argument('<bundle>')
  .requiredOption('--reviewer <name>', 'who approves (one of approvals.required_reviewers)')
  .requiredOption('--ref <ref>', 'the approval reference (ticket, PR review)')
  .description('record an approval bound to the bundle digest (an edit voids it)')
  .action(async (bundle: string, o: { reviewer: string; ref: string }) => {
    const { approveBundle } = await import('./approvals.js');
    emit(await approveBundle(bundle, { reviewer: o.reviewer, ref: o.ref, now: new Date() }), renderApproval);
  });

program
  .command('mark')
  .argument('<bundle>')
  .argument('<status>', 'merged | superseded')
  .option('--by <id>', 'the migration that supersedes this one')
  .option('--ref <ref>', 'a reference (merge commit, PR)')
  .description('record a registry transition (merged, superseded); history is appended, never rewritten')
  .action(async (bundle: string, status: string, o: { by?: string; ref?: string }) => {
    const { markBundle } = await import('./approvals.js');
    emit(
      await markBundle(bundle, {
        status,
        ...(o.by ? { by: o.by } : {}),
        ...(o.ref ? { ref: o.ref } : {}),
        now: new Date(),
      }),
      renderApproval,
    );
  });

const policy = program.command('policy').description('the store-held protected-domain policy');
lockOptions(
  policy
    .command('push')
    .argument('<store>', `store type (${registeredTypes().join(' | ')})`)
    .option('--file <file>', 'the policy to push (default migrations/registry/policy.v1.json)')
    .option('--root <dir>', 'repository root holding migrations/', '.'),
)
  .description("write the policy into the store's ledger (needs --env and --approval REF), with a receipt")
  .action(async (store: string, o: LockFlags & { file?: string; root: string }) => {
    const { bundle: _bundle, ...options } = runOptions(path.resolve(o.root), {}, o);
    const { pushPolicy } = await import('./admin.js');
    emit(
      await pushPolicy(store, { ...options, root: path.resolve(o.root), ...(o.file ? { file: o.file } : {}) }),
      renderAdmin,
    );
  });
policy
  .command('show')
  .argument('<store>', `store type (${registeredTypes().join(' | ')})`)
  .description('print the policy the store holds')
  .action(async (store: string) => {
    const { showPolicy } = await import('./admin.js');
    emit(await showPolicy(store, process.env), renderAdmin);
  });

program
  .command('unlock')
  .argument('<store>', `store type (${registeredTypes().join(' | ')})`)
  .requiredOption('--reason <text>', 'why the lock is removed (goes into the audit receipt)')
  .option(
    '--force',
    'remove a live lease too (its run aborts before its commit point); PostgreSQL: terminate the holding backend',
  )
  .option('--root <dir>', 'repository root holding migrations/ (the audit receipt goes to its registry)', '.')
  .description('show the lock holder; remove an expired lease (a live one only with --force); audit receipt')
  .action(async (store: string, o: { reason: string; force?: boolean; root: string }) => {
    const { bundle: _bundle, ...options } = runOptions(path.resolve(o.root));
    const { unlockStore } = await import('./admin.js');
    emit(
      await unlockStore(store, { ...options, root: path.resolve(o.root), reason: o.reason, force: o.force === true }),
      (r) => [
        `unlock ${r.store}: ${r.unlock?.message ?? r.status}`,
        ...(r.holder ? [`  holder: ${r.holder.description}`] : []),
        ...(r.unlock?.cleaned.length ? [`  cleaned: ${r.unlock.cleaned.join(', ')}`] : []),
        ...(r.receipt ? [`  receipt ${r.receipt}`] : []),
      ],
    );
  });

program
  .command('lint')
  .argument('<bundles...>')
  .option('--format <format>', 'text | json', 'text')
  .description('lock-hazard lint of each bundle (sizes from the store when its connection variables are set)')
  .action(async (bundles: string[], o: { format: string }) => {
    if (o.format !== 'text' && o.format !== 'json') invalid(`--format ${o.format} is not text or json`);
    const { lintBundles } = await import('./lint.js');
    const result = await lintBundles(bundles, process.env);
    if (o.format === 'json' && !globals().json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      process.exit(result.exit_code);
    }
    emit(result, (r) =>
      r.bundles.flatMap((entry) => [
        `${entry.migration_id} (${entry.type}; sizes ${entry.sizes === 'store' ? 'from the store' : 'unknown'}${entry.note ? `: ${entry.note}` : ''})`,
        ...entry.findings.map(
          (f) =>
            `  ${f.ignored ? 'ignored' : f.severity.padEnd(7)} ${f.file}:${f.line} [${f.rule}] ${f.message}${f.table ? ` (${f.table}${f.rows_estimate !== undefined ? `, ~${f.rows_estimate} rows` : ''})` : ''}${f.ignored ? ` — ${f.ignored.reason}` : ''}`,
        ),
        ...(entry.findings.length === 0 ? ['  no findings'] : []),
      ]),
    );
  });

program
  .command('report')
  .argument('<bundle>')
  .option('--format <format>', 'md (a pull-request comment or job summary) | html (one self-contained file)', 'md')
  .option('--out <file>', 'write the report here (default stdout)')
  .description(
    "a reviewer's report of the bundle's evidence: checks, limits, touched objects, fingerprints, run history",
  )
  .action(async (bundle: string, o: { format: string; out?: string }) => {
    if (o.format !== 'md' && o.format !== 'html') invalid(`--format ${o.format} is not md or html`);
    const { reportBundle } = await import('./report.js');
    const report = await reportBundle(path.resolve(bundle), o.format as 'md' | 'html');
    if (!report.ok) emit({ exit_code: exitCodeFor(report.issues), status: 'failed', issues: report.issues }, () => []);
    if (!o.out) {
      process.stdout.write(report.text);
      process.exit(Exit.Passed);
    }
    await fs.writeFile(o.out, report.text);
    emit({ exit_code: Exit.Passed, status: 'passed', issues: [], file: o.out }, () => [`report written to ${o.out}`]);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : Exit.InvalidInput);
  process.stderr.write(`kfm-migrate: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(Exit.Unreachable);
}
