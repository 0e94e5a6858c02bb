import { describe, expect, it } from 'vitest';
import { degreeBucket, degreeExponent } from './graph-structure.js';

describe('degree buckets', () => {
  it('puts every degree in its exact power-of-two bucket, at the edges and past 2^31', () => {
    const cases: [number, string][] = [
      [0, '0'],
      [1, '1'],
      [2, '2-3'],
      [3, '2-3'],
      [4, '4-7'],
      [7, '4-7'],
      [8, '8-15'],
      [2 ** 31 - 1, `${2 ** 30}-${2 ** 31 - 1}`],
      [2 ** 31, `${2 ** 31}-${2 ** 32 - 1}`],
      [2 ** 40 - 1, `${2 ** 39}-${2 ** 40 - 1}`],
      [2 ** 40, `${2 ** 40}-${2 ** 41 - 1}`],
      [2 ** 53 - 1, `${2 ** 52}-${2 ** 53 - 1}`],
    ];
    for (const [degree, bucket] of cases)
      expect([degree, degreeBucket(degreeExponent(degree))]).toEqual([degree, bucket]);
  });
});
