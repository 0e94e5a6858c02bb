// The spatial index invariant: every geometry/geography column of the tables the declaration names
// must be a key column of a valid GiST, SP-GiST or BRIN index.
import type { Check } from '@kfm/migration-contracts';
import type { CatalogFacts } from './catalog-objects.js';
import { compareText, matchesAny } from './scope.js';

export function spatialIndexChecks(
  patterns: readonly string[] | undefined,
  facts: Pick<CatalogFacts, 'relations' | 'spatialColumns' | 'spatialIndexKeys'>,
): Check[] {
  if (!patterns || patterns.length === 0) return [];
  const checks: Check[] = [];
  for (const pattern of patterns) {
    const tables = facts.relations.filter((relation) => matchesAny([pattern], relation.aliases));
    if (tables.length === 0) {
      checks.push({
        name: `spatial_index:${pattern}`,
        rule: 'invariant',
        status: 'skip',
        declared: pattern,
        message: `no table matches ${pattern}`,
      });
    }
    for (const table of tables) {
      const columns = facts.spatialColumns.get(table.name) ?? [];
      if (columns.length === 0) {
        checks.push({
          name: `spatial_index:${table.name}`,
          rule: 'invariant',
          status: 'skip',
          declared: pattern,
          message: `${table.name} has no geometry or geography column`,
        });
      }
      const indexes = facts.spatialIndexKeys.get(table.name) ?? [];
      for (const column of columns) {
        const indexed = indexes.some((keys) => keys.includes(column));
        checks.push(
          indexed
            ? {
                name: `spatial_index:${table.name}.${column}`,
                rule: 'invariant',
                status: 'pass',
                declared: pattern,
                message: `${table.name}.${column} has a spatial index`,
              }
            : {
                name: `spatial_index:${table.name}.${column}`,
                rule: 'invariant',
                status: 'fail',
                code: 'INVARIANT_FAILED',
                declared: pattern,
                message: `${table.name}.${column} has no valid GiST, SP-GiST or BRIN index`,
              },
        );
      }
    }
  }
  // Two patterns may name the same table: keep one check per name, in name order.
  const unique = new Map(checks.map((check) => [check.name, check]));
  return [...unique.values()].sort((a, b) => compareText(a.name, b.name));
}
