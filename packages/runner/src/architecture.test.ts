// Architecture rules, checked on the real sources (as neo4j-migrations checks that catalog never
// imports core): one dependency direction, no deep imports, no relative import into another package,
// and no store named outside its own package — the diff and the runner know stores only through the
// adapters registered with them (the CLI's registration is the one place that names them).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packagesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const layer: Record<string, number> = {
  'migration-contracts': 0,
  receipts: 1,
  diff: 1,
  'adapter-kit': 1,
  'baseline-postgis': 2,
  'baseline-search': 2,
  'baseline-graph': 2,
  runner: 3,
};

function sources(pkg: string, withTests = false): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const dir of ['src', ...(withTests ? ['test'] : [])]) {
    const root = path.join(packagesDir, pkg, dir);
    if (!fs.existsSync(root)) continue;
    for (const entry of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.parentPath.includes('generated')) continue;
      if (!withTests && (entry.name.endsWith('.test.ts') || entry.parentPath.includes('__fixtures__'))) continue;
      const file = path.join(entry.parentPath, entry.name);
      out.push({ file, text: fs.readFileSync(file, 'utf8') });
    }
  }
  return out;
}

function imports(text: string): string[] {
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((match) => match[1] as string);
}

describe('package architecture', () => {
  for (const pkg of Object.keys(layer)) {
    it(`${pkg} imports only lower layers, through their entry points, and declares them`, () => {
      const manifest = JSON.parse(fs.readFileSync(path.join(packagesDir, pkg, 'package.json'), 'utf8'));
      for (const { file, text } of sources(pkg)) {
        for (const specifier of imports(text).filter((s) => s.startsWith('@kfm/'))) {
          const [, name, deep] = /^@kfm\/([^/]+)(\/.*)?$/.exec(specifier) ?? [];
          const where = path.relative(packagesDir, file);
          expect(deep, `${where} deep-imports ${specifier}`).toBeUndefined();
          expect(layer[name as string], `${where} imports unknown package ${specifier}`).toBeDefined();
          expect(layer[name as string]! < layer[pkg]!, `${where} imports ${specifier}, which is not below ${pkg}`).toBe(
            true,
          );
          expect(manifest.dependencies?.[specifier], `${pkg}/package.json does not declare ${specifier}`).toBeDefined();
        }
      }
    });

    it(`${pkg} never reaches into another package by a relative path`, () => {
      for (const { file, text } of sources(pkg, true)) {
        for (const specifier of imports(text).filter((s) => s.startsWith('.'))) {
          const target = path.resolve(path.dirname(file), specifier);
          const owner = path.relative(packagesDir, target).split(path.sep)[0];
          if (owner === '..') continue; // the repository's fixtures, outside every package
          expect(owner, `${path.relative(packagesDir, file)} imports ${specifier}, inside package ${owner}`).toBe(pkg);
        }
      }
    });
  }

  it('names no store outside the store packages: diff and runner read every store from its adapter', () => {
    const storeWords = /\b(postgis|postgres(?:ql)?|elasticsearch|opensearch|neo4j|cypher|search|graph)\b/i;
    const allowed = new Set([path.join(packagesDir, 'runner/src/cli.ts')]);
    for (const pkg of ['diff', 'runner']) {
      for (const { file, text } of sources(pkg)) {
        if (allowed.has(file)) continue;
        // Comments may explain with examples; code and strings may not depend on a store.
        const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
        const hit = code
          .split('\n')
          .find((line) => storeWords.test(line.replace(/@kfm\/baseline-(postgis|search|graph)/g, '')));
        expect(hit, `${path.relative(packagesDir, file)} names a store: ${hit?.trim()}`).toBeUndefined();
      }
    }
  });

  it('uses no runtime API newer than the engines floor (Node 20.12) in any package', () => {
    const floor = JSON.parse(fs.readFileSync(path.join(packagesDir, '..', 'package.json'), 'utf8')).engines.node;
    expect(floor).toBe('>=20.12');
    // APIs added after 20.12, with the version that added them; a hit means `engines` lies.
    const newer: [RegExp, string][] = [
      [/\bprocess\.getBuiltinModule\b/, '22.3'],
      [/\bfs(?:\.promises)?\.glob\b|\bglob\(/, '22.0'],
      [/\bArray\.fromAsync\b/, '22.0'],
      [/\bPromise\.withResolvers\b/, '22.0'],
      [/\b(?:Object|Map)\.groupBy\b/, '21.0'],
      [/\bURL\.parse\(/, '22.1'],
      [/\.(?:union|intersection|symmetricDifference|isSubsetOf|isSupersetOf|isDisjointFrom)\(/, '22.0 (Set methods)'],
      [/\bnew WebSocket\(/, '22.0'],
      [/\bnavigator\./, '21.0'],
    ];
    for (const pkg of [...Object.keys(layer)]) {
      for (const { file, text } of sources(pkg)) {
        for (const [pattern, since] of newer) {
          const line = text.split('\n').find((l) => pattern.test(l) && !l.trim().startsWith('//'));
          expect(
            line,
            `${path.relative(packagesDir, file)} uses an API from Node ${since}: ${line?.trim()}`,
          ).toBeUndefined();
        }
      }
    }
  });
});
