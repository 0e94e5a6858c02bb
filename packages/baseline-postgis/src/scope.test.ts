import { describe, expect, it } from 'vitest';
import { firstMatch, isProtected, tableAliases } from './scope.js';

describe('tableAliases and protection', () => {
  it('gives every table its qualified name first and its bare name second', () => {
    expect(tableAliases('public', 'parcels')).toEqual(['public.parcels', 'parcels']);
    expect(tableAliases('stage_a', 'staging_roads')).toEqual(['stage_a.staging_roads', 'staging_roads']);
  });
  it('matches protected schemas and tables by any alias', () => {
    const domains = { schemas: ['audit*'], tables: ['public.authority_*'] };
    expect(isProtected(domains, { schemas: ['audit_2026'] })).toBe(true);
    expect(isProtected(domains, { schemas: ['public'], tables: tableAliases('public', 'authority_sites') })).toBe(true);
    expect(isProtected(domains, { schemas: ['other'], tables: tableAliases('other', 'authority_sites') })).toBe(false);
    expect(isProtected(undefined, { schemas: ['audit'] })).toBe(false);
  });
  it('points at the first pattern that fired', () => {
    expect(firstMatch(['a*', 'parcels'], ['public.parcels', 'parcels'])).toBe(1);
    expect(firstMatch(undefined, ['x'])).toBe(-1);
  });
});
