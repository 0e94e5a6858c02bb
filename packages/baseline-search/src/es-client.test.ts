import { describe, expect, it } from 'vitest';
import { describeError, engineOf, SearchResponseError } from './es-client.js';

describe('engineOf: the engine a GET / answer names', () => {
  it('tells OpenSearch from Elasticsearch by version.distribution', () => {
    expect(engineOf({ version: { number: '2.19.6', distribution: 'opensearch' } })).toEqual({
      engine: 'opensearch',
      product: 'OpenSearch',
      version: '2.19.6',
    });
    expect(engineOf({ version: { number: '7.10.2' } })).toEqual({
      engine: 'elasticsearch',
      product: 'Elasticsearch',
      version: '7.10.2',
    });
  });

  it('refuses what the adapter does not speak: Elasticsearch 8+, OpenSearch 4+, no version at all', () => {
    expect(engineOf({ version: { number: '8.15.0' } })).toBeUndefined();
    expect(engineOf({ version: { number: '6.8.23' } })).toBeUndefined();
    expect(engineOf({ version: { number: '4.0.0', distribution: 'opensearch' } })).toBeUndefined();
    expect(engineOf({})).toBeUndefined();
    expect(engineOf(undefined)).toBeUndefined();
  });
});

describe('SearchResponseError', () => {
  it('carries the status and the error type, and describes itself without URLs', () => {
    const error = new SearchResponseError(400, {
      error: { type: 'illegal_argument_exception', reason: 'bad http://user:secret@host:9200/x' },
    });
    expect(error.type).toBe('illegal_argument_exception');
    const text = describeError(error);
    expect(text).toBe('400 illegal_argument_exception: bad <url>');
    expect(text).not.toContain('secret');
  });
});
