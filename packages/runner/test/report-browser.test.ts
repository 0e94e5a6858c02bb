// The HTML report in a real headless browser (Debian's chromium driven by playwright-core): it loads with
// no console error and no network request, its charts render, its filter works, and a screenshot is kept.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { kfm, repo } from './postgis-harness.js';

const executablePath = process.env.KFM_CHROMIUM ?? '/usr/bin/chromium';

describe('the HTML report in a browser', () => {
  it('renders self-contained: charts drawn, filter working, no error, no request', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-report-'));
    const file = path.join(dir, 'report.html');
    const made = await kfm(
      ['report', path.join(repo, 'migrations/graph/GRAPH-MIG-2026-03-06-01'), '--format', 'html', '--out', file],
      {},
    );
    expect(made.code, made.stderr).toBe(0);

    const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('request', (request) => !request.url().startsWith('file://') && requests.push(request.url()));
      await page.goto(`file://${file}`);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);

      const bars = await page.locator('svg rect').count();
      expect(bars).toBeGreaterThan(0);
      const box = await page.locator('svg').first().boundingBox();
      expect(box?.width ?? 0).toBeGreaterThan(100);

      const rows = page.locator('#touched tbody tr');
      const total = await rows.count();
      expect(total).toBeGreaterThan(1);
      await page.fill('#filter', 'HAS_OWNER');
      const visible = await rows.evaluateAll(
        (all) => all.filter((row) => !(row as unknown as { hidden: boolean }).hidden).length,
      );
      expect(visible).toBeGreaterThan(0);
      expect(visible).toBeLessThan(total);

      const shot = path.join(dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect((await fs.stat(shot)).size).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });
});
