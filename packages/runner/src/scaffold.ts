// `kfm-migrate new`: scaffolds a bundle with a fresh, never-used id and registers it as draft.
import fs from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Issue, MigrationDeclaration } from '@kfm/migration-contracts';
import { loadAdapter, registeredTypes } from './adapters.js';
import { updateRegistry } from './migrations-registry.js';

export interface ScaffoldResult {
  status: 'passed' | 'failed';
  migration_id?: string;
  path?: string;
  files: string[];
  issues: Issue[];
}

/** The next unused id for an id prefix and day: never one the registry or the tree has seen. */
export function nextMigrationId(prefix: string, day: string, used: Iterable<string>): string {
  const stem = `${prefix}-MIG-${day}-`;
  let max = 0;
  for (const id of used) if (id.startsWith(stem)) max = Math.max(max, Number(id.slice(stem.length)));
  if (max >= 99) throw new Error(`no ids left for ${stem}NN today`);
  return `${stem}${String(max + 1).padStart(2, '0')}`;
}

export async function scaffoldBundle(options: {
  root: string;
  type: string;
  intent: string;
  now: Date;
}): Promise<ScaffoldResult> {
  const { root, type, intent } = options;
  const adapter = await loadAdapter(type);
  if (!adapter)
    return {
      status: 'failed',
      files: [],
      issues: [
        {
          code: 'ARGUMENT_INVALID',
          message: 'unknown store type',
          expected: registeredTypes().join(', '),
          found: type,
        },
      ],
    };
  if (!intent.trim())
    return {
      status: 'failed',
      files: [],
      issues: [
        {
          code: 'ARGUMENT_INVALID',
          message: '--intent must say what the migration does',
          expected: 'a plain-language intent',
        },
      ],
    };
  const migrationsRoot = path.resolve(root, 'migrations');
  // The id is allocated and registered under the registry's lock, so two `new` at once never share one.
  const created = await updateRegistry(
    migrationsRoot,
    async (registry) => {
      const used = new Set(registry.migrations.map((m) => m.migration_id));
      for (const dir of await fs.readdir(path.join(migrationsRoot, type)).catch(() => [] as string[])) used.add(dir);
      const day = options.now.toISOString().slice(0, 10);
      const id = nextMigrationId(adapter.vocabulary.idPrefix, day, used);
      const scripts = adapter.language;
      const bundleRel = `${type}/${id}`;
      const bundleDir = path.join(migrationsRoot, bundleRel);
      const declaration: MigrationDeclaration = {
        migration_id: id,
        type,
        intent,
        transactional: true,
        scope: {},
        limits: {},
        requires_rollback: true,
        approvals: { required_reviewers: [] },
        runner: { tool: 'kfm-migrate', environment: Object.values(adapter.connection) },
        artifacts: {
          forward: [scripts.forward],
          rollback: [scripts.rollback],
          baselines: { pre: 'baselines/pre.json', post: 'baselines/post.json' },
          diffs: { summary: 'diffs/summary.json', touched: 'diffs/touched.csv' },
          notes: 'notes.md',
        },
      };
      const files: Record<string, string> = {
        'migration.yml': `# ${id}: declare what this migration may touch before writing it.\n# Scope and limits are enforced: anything touched outside allowed_* fails the run.\n${stringify(declaration)}`,
        [scripts.forward]: scripts.placeholder(`Forward change for ${id}. ${intent}`),
        [scripts.rollback]: scripts.placeholder(`Rollback for ${id}: must restore the PRE baseline exactly.`),
        'notes.md': `# ${id}\n\n${intent}\n\n## Risks\n\n## Rollback verification\n\nThe runner verifies that the store fingerprint after rollback equals PRE.\n`,
      };
      await fs.mkdir(bundleDir, { recursive: true });
      for (const [name, content] of Object.entries(files))
        await fs.writeFile(path.join(bundleDir, name), content, { flag: 'wx' });
      registry.migrations.push({
        migration_id: id,
        type,
        path: bundleRel,
        status: 'draft',
        history: [{ status: 'draft', at: options.now.toISOString(), note: 'scaffolded by kfm-migrate new' }],
      });
      return { id, bundleDir, files: Object.keys(files) };
    },
    true,
  );
  if (!created.ok) return { status: 'failed', files: [], issues: created.issues };
  const { id, bundleDir, files } = created.value;
  return {
    status: 'passed',
    migration_id: id,
    path: path.relative(root, bundleDir),
    files: files.map((f) => path.join(path.relative(root, bundleDir), f)),
    issues: [],
  };
}
