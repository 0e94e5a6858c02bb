import { describe, expect, it } from 'vitest';
import type { DiffChange } from '@kfm/migration-contracts';
import { diffBaselines } from './baseline-diff.js';
import { evaluate } from './__fixtures__/vocabularies.js';
import { csvCell, renderTouchedCsv } from './touched-csv.js';
import { baseline, declaration, index, object, table } from './__fixtures__/build.js';

/** A strict RFC 4180 reader, to prove the output round-trips. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (ch === '"') {
        quoted = false;
        i++;
        continue;
      }
      cell += ch;
      i++;
      continue;
    }
    if (ch === '"' && cell === '') {
      quoted = true;
      i++;
      continue;
    }
    if (ch === ',') {
      row.push(cell);
      cell = '';
      i++;
      continue;
    }
    if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 2;
      continue;
    }
    if (ch === '"' || ch === '\r' || ch === '\n') throw new Error(`bare ${JSON.stringify(ch)} at ${i}`);
    cell += ch;
    i++;
  }
  if (cell !== '' || row.length) throw new Error('last record is not terminated by CRLF');
  return rows;
}

describe('renderTouchedCsv', () => {
  const pre = baseline({ objects: [table('public.parcels'), index('public.old_idx', 'public.parcels')] });
  const post = baseline({
    objects: [
      table('public.parcels', 'v2'),
      index('public.geom_idx', 'public.parcels'),
      object('extension', 'postgis', {}),
    ],
  });
  const diff = diffBaselines(pre, post);

  it('writes a header with the sorted dimensions and one row per change, names joined with ;', () => {
    expect(parseCsv(renderTouchedCsv(diff))).toEqual([
      ['change', 'kind', 'name', 'schemas', 'tables'],
      ['added', 'extension', 'postgis', '', ''],
      ['added', 'index', 'public.geom_idx', 'public', 'public.parcels;parcels'],
      ['removed', 'index', 'public.old_idx', 'public', 'public.parcels;parcels'],
      ['changed', 'table', 'public.parcels', 'public', 'public.parcels;parcels'],
    ]);
  });

  it('uses CRLF line endings and renders a summary exactly like its diff', () => {
    const text = renderTouchedCsv(diff);
    expect(text.startsWith('change,kind,name,schemas,tables\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const summary = evaluate(declaration('postgis', { allowed_schemas: ['*'], allowed_tables: ['*'] }), { pre, post });
    expect(renderTouchedCsv(summary)).toBe(text);
  });

  it('lists a dimension that was touched even if only the touched map names it', () => {
    expect(renderTouchedCsv({ changes: [], touched: { templates: [] } })).toBe('change,kind,name,templates\r\n');
  });

  it('quotes cells holding commas, quotes or line breaks', () => {
    const changes: DiffChange[] = [
      { change: 'added', kind: 'table', name: 'public."odd, name"\nx', scope: { tables: ['a,b', 'c"d'] } },
    ];
    const text = renderTouchedCsv({ changes });
    expect(text).toContain('"public.""odd, name""\nx"');
    expect(parseCsv(text)[1]).toEqual(['added', 'table', 'public."odd, name"\nx', 'a,b;c"d']);
  });

  it('neutralises cells a spreadsheet would evaluate as formulas', () => {
    for (const evil of ['=HYPERLINK("http://x")', '+1', '-2+3', '@SUM(A1)', '\tcmd', '\r=1']) {
      const cell = csvCell(evil);
      const parsed = parseCsv(`${cell}\r\n`)[0]![0]!;
      expect(parsed, JSON.stringify(evil)).toBe(`'${evil}`);
    }
    expect(csvCell('public.parcels')).toBe('public.parcels');
    expect(csvCell('a-b')).toBe('a-b');
    const text = renderTouchedCsv({
      changes: [{ change: 'added', kind: 'index', name: '=cmd|calc', scope: { tables: ['@t', 'ok'] } }],
    });
    expect(parseCsv(text)[1]).toEqual(['added', 'index', "'=cmd|calc", "'@t;ok"]);
  });

  it('is deterministic', () => {
    expect(renderTouchedCsv(diffBaselines(pre, { ...post, objects: [...post.objects].reverse() }))).toBe(
      renderTouchedCsv(diff),
    );
  });
});
