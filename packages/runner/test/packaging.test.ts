// The packages as a user gets them: `npm pack` each publishable package, install the tarballs into an empty
// project, import every public API from ESM, type-check a consumer against the shipped declarations, and
// run `npx kfm-migrate validate` on a bundle there. Catches a missing file in `files`, a wrong `exports`
// map, a dependency used but not declared, and a bin that does not link.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repo } from './postgis-harness.js';

const run = promisify(execFile);
const PACKAGES = [
  'migration-contracts',
  'adapter-kit',
  'receipts',
  'diff',
  'baseline-postgis',
  'baseline-search',
  'baseline-graph',
  'runner',
];

describe('the published packages', () => {
  it('install from their tarballs, import, type-check and run the CLI in an empty project', async () => {
    const project = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-consumer-'));
    const tarballs: string[] = [];
    for (const name of PACKAGES) {
      const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', project], {
        cwd: path.join(repo, 'packages', name),
      });
      tarballs.push(path.join(project, stdout.trim().split('\n').pop()!));
    }
    await fs.writeFile(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    await run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', ...tarballs], {
      cwd: project,
      maxBuffer: 16 * 1024 * 1024,
    });

    // Every package's public API, from ESM, as a consumer imports it.
    const consumer = [
      ...PACKAGES.map((name, i) => `import * as p${i} from '@kfm/${name}';`),
      `const apis = { ${PACKAGES.map((name, i) => `'${name}': Object.keys(p${i}).length`).join(', ')} };`,
      "import { validateValue, type MigrationDeclaration } from '@kfm/migration-contracts';",
      "import { evaluate } from '@kfm/diff';",
      "import { postgisVocabulary } from '@kfm/baseline-postgis';",
      'const declaration: MigrationDeclaration | undefined = undefined;',
      'void evaluate; void postgisVocabulary; void declaration; void validateValue;',
      'console.log(JSON.stringify(apis));',
      '',
    ].join('\n');
    await fs.writeFile(path.join(project, 'consumer.ts'), consumer);
    await fs.writeFile(
      path.join(project, 'consumer.mjs'),
      consumer.replace(/, type MigrationDeclaration/, '').replace(/: MigrationDeclaration \| undefined/, ''),
    );
    const imported = JSON.parse((await run(process.execPath, ['consumer.mjs'], { cwd: project })).stdout) as Record<
      string,
      number
    >;
    for (const name of PACKAGES) expect(imported[name], `@kfm/${name} exports nothing`).toBeGreaterThan(0);

    await fs.writeFile(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['consumer.ts'],
      }),
    );
    await run(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: project });

    // The bin links and runs from the installed package.
    const bundle = path.join(project, 'migrations/postgis/PG-MIG-2026-02-28-01');
    await fs.cp(path.join(repo, 'migrations/postgis/PG-MIG-2026-02-28-01'), bundle, { recursive: true });
    const validated = await run('npx', ['--no-install', 'kfm-migrate', 'validate', bundle, '--json'], { cwd: project });
    expect(JSON.parse(validated.stdout)).toMatchObject({ exit_code: 0 });
  });
});
