import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { searchOperationsSchema } from './operations-schema.js';

describe('search_operations.v1 schema module', () => {
  it('is the same document as schemas/search_operations.v1.schema.json', () => {
    const file = JSON.parse(fs.readFileSync(new URL('../../../schemas/search_operations.v1.schema.json', import.meta.url), 'utf8'));
    expect(searchOperationsSchema).toEqual(file);
  });
});
