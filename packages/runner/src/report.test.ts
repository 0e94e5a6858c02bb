// The reviewer's report is built from a bundle's evidence alone: the committed example bundles (real runs
// on the real stores) are its fixtures. No store is needed.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildReport, renderHtml, renderMarkdown, reportBundle } from './report.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const example = (relative: string) => path.join(repo, 'migrations', relative);

async function model(relative: string) {
  const built = await buildReport(example(relative));
  if (!built.ok) throw new Error(JSON.stringify(built.issues));
  return built.model;
}

describe('report', () => {
  it('lists every check once, the limits as used/declared, touched objects and whether PRE came back', async () => {
    const report = await model('postgis/PG-MIG-2026-02-28-01');
    const names = report.checks.map((check) => check.name);
    expect(new Set(names).size).toBe(names.length);
    expect(report.limits.map((limit) => limit.name)).toContain('max_index_count_delta');
    const md = renderMarkdown(report);
    expect(md.match(/^\| [✅❌➖] \|/gmu)?.length).toBe(report.checks.length);
    for (const limit of report.limits) expect(md).toContain(`${limit.name} ${limit.used}/${limit.declared}`);
    for (const change of report.apply?.summary?.changes ?? [])
      expect(md).toContain(`| ${change.change} | ${change.kind} | ${change.name} |`);
    expect(md).toContain(
      report.fingerprints.pre === report.fingerprints.after_rollback ? 'PRE restored ✅' : 'differs from PRE ❌',
    );
    expect(report.history.map((receipt) => receipt.operation)).toEqual(['plan', 'apply', 'rollback']);
  });

  it('links only evidence that exists, relative to the bundle', async () => {
    const dir = example('graph/GRAPH-MIG-2026-03-06-01');
    const md = (await reportBundle(dir, 'md')) as { ok: true; text: string };
    const links = [...md.text.matchAll(/\]\(([^)]+)\)/g)].map((match) => match[1]!);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      expect(path.isAbsolute(link)).toBe(false);
      await expect(fs.stat(path.join(dir, link))).resolves.toBeTruthy();
    }
  });

  it('renders one self-contained HTML file: no external reference, escaped text, one bar pair per limit', async () => {
    const report = await model('search/SEARCH-MIG-2026-03-05-01');
    const html = renderHtml({
      ...report,
      declaration: { ...report.declaration, intent: '<script>alert(1)</script> & more' },
    });
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i);
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; more');
    const limitsChart = html.slice(
      html.indexOf('Limits: used vs declared'),
      html.indexOf('</svg>', html.indexOf('Limits: used vs declared')),
    );
    expect(limitsChart.match(/<rect /g)?.length).toBe(report.limits.length * 2);
    expect(renderHtml(report)).toBe(renderHtml(report));
  });

  it('refuses a directory without a valid declaration with its issues (exit 2 at the CLI)', async () => {
    const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-report-'));
    const result = await reportBundle(empty, 'md');
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues.map((issue) => issue.code)).toEqual(['FILE_NOT_FOUND']);
  });
});
