import { describe, expect, it } from 'vitest';
import { firstMatch, isProtected, matchesPattern, tableAliases } from './names.js';

describe('matchesPattern', () => {
  it('treats * as any run of characters and everything else literally', () => {
    expect(matchesPattern('staging_*', 'staging_roads')).toBe(true);
    expect(matchesPattern('staging_*', 'stage_roads')).toBe(false);
    expect(matchesPattern('public.parcel?', 'public.parcels')).toBe(false);
    expect(matchesPattern('public.parcels', 'publicXparcels')).toBe(false);
    expect(matchesPattern('*_authority', 'gov.site_authority')).toBe(true);
  });
  it('is case-sensitive like quoted PostgreSQL identifiers', () => {
    expect(matchesPattern('Parcels', 'parcels')).toBe(false);
  });
});

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
