// Architecture rules, checked on the real sources (as neo4j-migrations checks that catalog never
// imports core): one dependency direction, no deep imports, baseline packages never import each other.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packagesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const layer: Record<string, number> = { 'migration-contracts': 0, receipts: 1, diff: 1, 'baseline-postgis': 2, 'baseline-search': 2, 'baseline-graph': 2, runner: 3 };

function sourceImports(pkg: string): { file: string; specifier: string }[] {
  const out: { file: string; specifier: string }[] = [];
  const dir = path.join(packagesDir, pkg, 'src');
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts')) continue;
    const file = path.join(entry.parentPath, entry.name);
    for (const match of fs.readFileSync(file, 'utf8').matchAll(/from '(@kfm\/[^']+)'/g)) out.push({ file: path.relative(packagesDir, file), specifier: match[1] as string });
  }
  return out;
}

describe('package architecture', () => {
  for (const pkg of Object.keys(layer)) {
    it(`${pkg} imports only lower layers, through their entry points, and declares them`, () => {
      const manifest = JSON.parse(fs.readFileSync(path.join(packagesDir, pkg, 'package.json'), 'utf8'));
      for (const { file, specifier } of sourceImports(pkg)) {
        const [, name, deep] = /^@kfm\/([^/]+)(\/.*)?$/.exec(specifier) ?? [];
        expect(deep, `${file} deep-imports ${specifier}`).toBeUndefined();
        expect(layer[name as string], `${file} imports unknown package ${specifier}`).toBeDefined();
        expect(layer[name as string]! < layer[pkg]!, `${file} imports ${specifier}, which is not below ${pkg}`).toBe(true);
        expect(manifest.dependencies?.[specifier], `${pkg}/package.json does not declare ${specifier}`).toBeDefined();
      }
    });
  }
});
