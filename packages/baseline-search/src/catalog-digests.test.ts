// Digests of a fixed catalog, pinned from the capture code as it was before the performance work: a
// faster capture must give byte-identical digests for the same cluster state, or every stored baseline
// would read as drift.
import { describe, expect, it } from 'vitest';
import { catalogObjects, type CatalogResponses } from './catalog-objects.js';

const responses: CatalogResponses = {
  indices: [
    { index: 'parcels_v1', status: 'open' },
    { index: 'roads', status: 'close' },
    { index: '.hidden', status: 'open' },
  ],
  mappings: {
    parcels_v1: {
      mappings: {
        _meta: { kfm_run_id: 'r1', owner: 'gis' },
        properties: { name: { type: 'text', analyzer: 'folded' } },
      },
    },
    roads: { mappings: {} },
  },
  settings: {
    parcels_v1: {
      settings: {
        'index.uuid': 'u1',
        'index.creation_date': '1',
        'index.version.created': '7100299',
        'index.provided_name': 'parcels_v1',
        'index.number_of_shards': '1',
        'index.number_of_replicas': '0',
        'index.default_pipeline': 'stamp',
        'index.analysis.analyzer.folded.type': 'custom',
        'index.analysis.analyzer.folded.tokenizer': 'standard',
        'index.analysis.analyzer.folded.filter.0': 'lowercase',
        'index.analysis.analyzer.folded.filter.1': 'stop_en',
        'index.analysis.filter.stop_en.type': 'stop',
        'index.routing.allocation.include._tier_preference': 'data_content',
      },
    },
    roads: {
      settings: {
        'index.uuid': 'u2',
        'index.number_of_shards': '2',
        'index.number_of_replicas': '1',
        'index.verified_before_close': 'true',
      },
    },
  },
  aliases: { parcels_v1: { aliases: { parcels: { is_write_index: true, routing: '1' } } }, roads: { aliases: {} } },
  indexTemplates: [
    {
      name: 'logs',
      index_template: {
        index_patterns: ['logs-*'],
        priority: 5,
        composed_of: ['base'],
        template: { settings: { index: { number_of_replicas: '0', uuid: 'x' } } },
        created_date_millis: 1,
      },
    },
  ],
  componentTemplates: [
    { name: 'base', component_template: { template: { settings: { number_of_shards: '1' } }, modified_date: 'y' } },
  ],
  pipelines: { stamp: { description: 'd', processors: [{ set: { field: 'a', value: 1 } }] } },
};

const PINNED = [
  ['alias', 'parcels->parcels_v1', 'bagaaierajerdzlda7l3zyln3m334xqblk5tusmtxz2emrxjnv3quomc25d7a'],
  ['analyzer', 'parcels_v1/folded', 'bagaaierawnbk2fnhdkliouo3i2dgwhkocrvtrdktvtojuxhg3ldsf64aefga'],
  ['component_template', 'base', 'bagaaierawk72emmyckg4biexu5miaff7xrff57fxtyrzcmpu75ii4dn5ns6q'],
  ['index', 'parcels_v1', 'bagaaiera4qyarfadxhzbtrdlymuaabzlvogjk7lmehjxgyd7edgvnlo3l6mq'],
  ['index', 'roads', 'bagaaieraclkrrslbx5ml54wmmreew3yx2ndpv6cfios5mhhhw3f3ixsfofdq'],
  ['index_template', 'logs', 'bagaaieragkxnf4nsjxy4pn5i7jx4lzyvca7pryxzrt3bxl5rs4v647hrmjza'],
  ['pipeline', 'stamp', 'bagaaiera2tgfo72kcbjdkzjaawsint3njebndrfaocojjdxuhrodu6qkymxa'],
];

describe('catalogObjects digests', () => {
  it('are the ones the pre-optimization code computed for the same catalog', async () => {
    const objects = await catalogObjects(responses, { excluded: () => false });
    expect(objects.map((o) => [o.kind, o.name, o.digest])).toEqual(PINNED);
  });
});
