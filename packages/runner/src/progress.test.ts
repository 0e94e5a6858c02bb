import { describe, expect, it } from 'vitest';
import { createReporter, renderBar } from './progress.js';

describe('progress', () => {
  it('draws a bar with percentage and ETA, and a count when the total is unknown', () => {
    expect(renderBar({ done: 50, total: 200, unit: 'rows' }, 10_000, 8)).toBe('[##------] 25% 50/200 rows, ETA 30s');
    expect(renderBar({ done: 200, total: 200 }, 10_000, 4)).toBe('[####] 100% 200/200');
    expect(renderBar({ done: 12_345, unit: 'documents' }, 1_000)).toBe('12,345 documents');
  });

  it('writes plain, throttled lines when stderr is not a terminal, always the last one', () => {
    const lines: string[] = [];
    let now = 0;
    const reporter = createReporter({
      write: (line) => lines.push(line),
      clock: () => now,
      tty: false,
      throttleMs: 1_000,
      width: 4,
    });
    for (let done = 0; done <= 10; done++) {
      now = done * 300;
      reporter.info('backfill parcels', { done, total: 10, unit: 'batches' });
    }
    expect(lines).toEqual([
      '[kfm]   backfill parcels [----] 0% 0/10 batches',
      '[kfm]   backfill parcels [##--] 40% 4/10 batches, ETA 2s',
      '[kfm]   backfill parcels [###-] 80% 8/10 batches, ETA 1s',
      '[kfm]   backfill parcels [####] 100% 10/10 batches',
    ]);
  });
});
