import { describe, expect, it } from 'vitest';
import { analyzerDefinitions, isVolatileSetting, normalizeSettings, normalizeTemplate } from './normalize.js';

describe('normalization', () => {
  it('drops settings the server sets or changes by itself', () => {
    const settings = {
      'index.uuid': 'abc',
      'index.creation_date': '1',
      'index.provided_name': 'x',
      'index.version.created': '7100299',
      'index.routing.allocation.initial_recovery._id': 'n1',
      'index.resize.source.uuid': 'u',
      'index.resize.source.name': 'src',
      'index.verified_before_close': 'true',
      'index.routing.allocation.include._tier_preference': 'data_content',
      'index.number_of_shards': '1',
      'index.number_of_replicas': '0',
      'index.refresh_interval': '5s',
      'index.routing.allocation.require.box': 'hot',
    };
    expect(normalizeSettings(settings)).toEqual({
      'index.number_of_replicas': '0',
      'index.number_of_shards': '1',
      'index.refresh_interval': '5s',
      'index.routing.allocation.require.box': 'hot',
    });
    expect(isVolatileSetting('index.version.upgraded')).toBe(true);
    expect(isVolatileSetting('index.analysis.analyzer.a.type')).toBe(false);
  });

  it('describes an analyzer with the custom filters and tokenizer it uses', () => {
    const definitions = analyzerDefinitions({
      'index.analysis.analyzer.fold.type': 'custom',
      'index.analysis.analyzer.fold.tokenizer': 'edge',
      'index.analysis.analyzer.fold.filter': ['lowercase', 'my_stop'],
      'index.analysis.filter.my_stop.type': 'stop',
      'index.analysis.filter.my_stop.stopwords.0': 'de',
      'index.analysis.filter.my_stop.stopwords.1': 'la',
      'index.analysis.filter.unused.type': 'stop',
      'index.analysis.tokenizer.edge.type': 'edge_ngram',
    });
    expect([...definitions.keys()]).toEqual(['fold']);
    expect(definitions.get('fold')).toEqual({
      analyzer: { type: 'custom', tokenizer: 'edge', filter: ['lowercase', 'my_stop'] },
      tokenizer: { edge: { type: 'edge_ngram' } },
      filter: { my_stop: { type: 'stop', stopwords: ['de', 'la'] } },
      char_filter: {},
    });
  });

  it('gives the same template digest input whatever the timestamps and settings nesting', () => {
    const a = normalizeTemplate({
      index_patterns: ['x-*'],
      created_date_millis: 1,
      template: { settings: { index: { number_of_replicas: '0' } } },
    });
    const b = normalizeTemplate({
      index_patterns: ['x-*'],
      modified_date_millis: 2,
      template: { settings: { 'index.number_of_replicas': '0' } },
    });
    expect(a).toEqual(b);
    expect(a).toEqual({ index_patterns: ['x-*'], template: { settings: { 'index.number_of_replicas': '0' } } });
  });
});
