import { describe, expect, it } from 'vitest';
import { firstMatchingPattern as firstMatch, matchesNamePattern as matchesPattern } from './name-pattern.js';

describe('matchesPattern', () => {
  it('matches names exactly without a wildcard', () => {
    expect(matchesPattern('parcels', 'parcels')).toBe(true);
    expect(matchesPattern('parcels_v2', 'parcels')).toBe(false);
    expect(matchesPattern('public.parcels', 'parcels')).toBe(false);
  });

  it('lets * match any run of characters, dots included, anchored at both ends', () => {
    expect(matchesPattern('public.parcels', '*.parcels')).toBe(true);
    expect(matchesPattern('a.b.parcels', '*.parcels')).toBe(true);
    expect(matchesPattern('public.parcels_old', '*.parcels')).toBe(false);
    expect(matchesPattern('kfm-parcels-v2', 'kfm-*')).toBe(true);
    expect(matchesPattern('x-kfm-parcels', 'kfm-*')).toBe(false);
    expect(matchesPattern('kfm-', 'kfm-*')).toBe(true);
    expect(matchesPattern('anything at all', '*')).toBe(true);
    expect(matchesPattern('gov_audit_log', 'gov*log')).toBe(true);
  });

  it('is case-sensitive', () => {
    expect(matchesPattern('Parcels', 'parcels')).toBe(false);
    expect(matchesPattern('PUBLIC.parcels', 'public.*')).toBe(false);
  });

  it('treats regular-expression characters in patterns literally', () => {
    expect(matchesPattern('publicXparcels', 'public.parcels*')).toBe(false);
    expect(matchesPattern('a+b', 'a+*')).toBe(true);
    expect(matchesPattern('aab', 'a+*')).toBe(false);
    expect(matchesPattern('(Start)-[T]->(End)', '(Start)-[*]->(End)')).toBe(true);
  });

  it('lets * span line breaks, so an odd name cannot slip past a forbidden pattern', () => {
    expect(matchesPattern('gov\nernance', 'gov*')).toBe(true);
  });

  it('returns the first pattern any name matches', () => {
    expect(firstMatch(['public.parcels', 'parcels'], ['audit', 'parcels'])).toBe('parcels');
    expect(firstMatch(['public.parcels'], ['audit'])).toBeUndefined();
  });
});

describe('matchesNamePattern with PostgreSQL-style names', () => {
  it('treats * as any run of characters and everything else literally', () => {
    expect(matchesPattern('staging_roads', 'staging_*')).toBe(true);
    expect(matchesPattern('stage_roads', 'staging_*')).toBe(false);
    expect(matchesPattern('public.parcels', 'public.parcel?')).toBe(false);
    expect(matchesPattern('publicXparcels', 'public.parcels')).toBe(false);
    expect(matchesPattern('gov.site_authority', '*_authority')).toBe(true);
  });
  it('is case-sensitive like quoted PostgreSQL identifiers', () => {
    expect(matchesPattern('parcels', 'Parcels')).toBe(false);
  });
});
