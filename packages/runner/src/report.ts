// `kfm-migrate report`: what a reviewer reads at a glance, built only from the bundle's own validated
// evidence (its receipts and the files they list), never from the store. Markdown for a pull-request
// comment or a CI job summary; one self-contained HTML file (inline CSS, SVG charts, a few lines of
// script for the filter; no request at view time). Deterministic: same evidence ⇒ same bytes.
import path from 'node:path';
import {
  loadDeclaration,
  type Check,
  type Issue,
  type DiffSummary,
  type MigrationDeclaration,
  type RunReceipt,
} from '@kfm/migration-contracts';
import { runDirectoryOf } from '@kfm/receipts';
import { bundleReceipts, runEvidence } from './drift.js';

const TOUCHED_SHOWN = 50;

export interface ReportModel {
  bundle: string;
  declaration: MigrationDeclaration;
  latest?: RunReceipt;
  /** The newest apply (any outcome) and its diff summary: what the change did or would have done. */
  apply?: { receipt: RunReceipt; summary?: DiffSummary };
  checks: Check[];
  limits: { name: string; used: number; declared: number; status: string }[];
  fingerprints: { pre?: string; post?: string; after_rollback?: string };
  history: RunReceipt[];
  evidence: string[];
}

/** Read and validate the bundle's evidence. A bundle that never ran still gets a report (no runs yet). */
export async function buildReport(
  bundleDir: string,
): Promise<{ ok: true; model: ReportModel } | { ok: false; issues: Issue[] }> {
  const loaded = await loadDeclaration(bundleDir);
  if (!loaded.ok) return { ok: false, issues: loaded.issues };
  const history = (await bundleReceipts(bundleDir)).filter((receipt) => receipt.run_type !== 'rehearsal');
  const latest = history.at(-1);
  const applyReceipt = history.filter((receipt) => receipt.operation === 'apply').at(-1);
  const applied = applyReceipt ? await runEvidence(bundleDir, applyReceipt) : undefined;
  // The receipt's checks already include the summary's; keep the first of each name.
  const seen = new Set<string>();
  const checks = [...(applyReceipt?.validation?.checks ?? []), ...(applied?.summary?.checks ?? [])].filter(
    (check) => !seen.has(check.name) && Boolean(seen.add(check.name)),
  );
  const limits = checks
    .filter(
      (check) => check.rule === 'limit' && typeof check.observed === 'number' && typeof check.declared === 'number',
    )
    .map((check) => ({
      name: check.name.replace(/^limits\./, ''),
      used: check.observed as number,
      declared: check.declared as number,
      status: check.status,
    }));
  const rollback = history
    .filter(
      (receipt) => receipt.operation === 'rollback' && applyReceipt && receipt.finished_at > applyReceipt.finished_at,
    )
    .at(-1);
  const fingerprints: ReportModel['fingerprints'] = {};
  if (applyReceipt?.fingerprints?.pre) fingerprints.pre = applyReceipt.fingerprints.pre;
  if (applyReceipt?.fingerprints?.post) fingerprints.post = applyReceipt.fingerprints.post;
  const after = rollback?.fingerprints?.after_rollback ?? applyReceipt?.fingerprints?.after_rollback;
  if (after) fingerprints.after_rollback = after;
  const model: ReportModel = {
    bundle: bundleDir,
    declaration: loaded.declaration,
    ...(latest ? { latest } : {}),
    ...(applyReceipt
      ? { apply: { receipt: applyReceipt, ...(applied?.summary ? { summary: applied.summary } : {}) } }
      : {}),
    checks,
    limits,
    fingerprints,
    history,
    evidence: latest
      ? latest.outputs
          .map((output) => output.path)
          .filter((file) => file.startsWith(runDirectoryOf(latest)))
          .sort()
      : [],
  };
  return { ok: true, model };
}

/** A declared/observed value short enough for a table cell, else an ellipsis (the evidence has it in full). */
const brief = (value: unknown) => {
  if (value === undefined || value === null || value === '') return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length <= 60 ? text : '…';
};
const mdCell = (value: unknown) =>
  String(value ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ');
const short = (cid?: string) => (cid ? `\`${cid.slice(0, 12)}…${cid.slice(-6)}\`` : '—');
const statusOf = (model: ReportModel) =>
  model.latest
    ? `${model.latest.operation} ${model.latest.outcome?.status ?? ''} (exit ${model.latest.outcome?.exit_code ?? '?'})`
    : 'never run';

export function renderMarkdown(model: ReportModel): string {
  const { declaration } = model;
  const lines: string[] = [];
  lines.push(`### ${declaration.migration_id} (${declaration.type})`, '', `> ${mdCell(declaration.intent)}`, '');
  lines.push(
    `**Status:** ${statusOf(model)}${model.latest ? ` — run \`${model.latest.run_id}\` at ${model.latest.finished_at}` : ''}`,
    '',
  );
  if (model.checks.length > 0) {
    lines.push('| | check | declared | observed |', '|---|---|---|---|');
    for (const check of model.checks) {
      const mark = check.status === 'fail' ? '❌' : check.status === 'pass' ? '✅' : '➖';
      lines.push(
        `| ${mark} | ${mdCell(check.name)}${check.status === 'fail' && check.message ? ` — ${mdCell(check.message)}` : ''} | ${mdCell(brief(check.declared))} | ${mdCell(brief(check.observed))} |`,
      );
    }
    lines.push('');
  }
  if (model.limits.length > 0) {
    lines.push(
      '**Limits (used / declared):** ' +
        model.limits
          .map((limit) => `${limit.name} ${limit.used}/${limit.declared}${limit.status === 'fail' ? ' ❌' : ''}`)
          .join(' · '),
      '',
    );
  }
  const changes = model.apply?.summary?.changes ?? [];
  if (changes.length > 0) {
    lines.push(`**Touched (${changes.length}):**`, '', '| change | kind | name |', '|---|---|---|');
    for (const change of changes.slice(0, TOUCHED_SHOWN))
      lines.push(`| ${change.change} | ${mdCell(change.kind)} | ${mdCell(change.name)} |`);
    if (changes.length > TOUCHED_SHOWN)
      lines.push(`| … | | ${changes.length - TOUCHED_SHOWN} more in diffs/touched.csv |`);
    lines.push('');
  }
  const lint =
    (
      model.apply?.receipt as
        | { lint?: { rule: string; severity: string; file: string; line: number; message: string }[] }
        | undefined
    )?.lint ?? [];
  if (lint.length > 0) {
    lines.push('**Lint:**', '');
    for (const finding of lint)
      lines.push(
        `- ${finding.severity === 'error' ? '❌' : '⚠️'} \`${finding.rule}\` ${finding.file}:${finding.line} ${mdCell(finding.message)}`,
      );
    lines.push('');
  }
  const { pre, post, after_rollback: after } = model.fingerprints;
  if (pre || post)
    lines.push(
      `**Fingerprints:** PRE ${short(pre)} → POST ${short(post)} → after rollback ${short(after)}${after ? (after === pre ? ' (PRE restored ✅)' : ' (differs from PRE ❌)') : ''}`,
      '',
    );
  if (model.history.length > 0) {
    lines.push(
      '<details><summary>Run history</summary>',
      '',
      '| finished | operation | outcome | run |',
      '|---|---|---|---|',
    );
    for (const receipt of model.history)
      lines.push(
        `| ${receipt.finished_at} | ${receipt.operation} | ${receipt.outcome?.status ?? ''} | \`${receipt.run_id}\` |`,
      );
    lines.push('', '</details>', '');
  }
  if (model.evidence.length > 0)
    lines.push(
      '**Evidence:** ' + model.evidence.map((file) => `[${path.posix.basename(file)}](${file})`).join(' · '),
      '',
    );
  return lines.join('\n');
}

const esc = (value: unknown) =>
  String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** Horizontal bars, one per row, each with its reference mark: a plain SVG, no library needed at view time. */
function barChart(
  title: string,
  rows: { label: string; value: number; reference: number; fail?: boolean }[],
  legend: [string, string],
): string {
  if (rows.length === 0) return '';
  const width = 560;
  const labelWidth = 220;
  const rowHeight = 26;
  const max = Math.max(1, ...rows.flatMap((row) => [row.value, row.reference]));
  const scale = (n: number) => ((width - labelWidth - 60) * n) / max;
  const bars = rows.map((row, i) => {
    const y = 24 + i * rowHeight;
    return (
      `<text x="0" y="${y + 14}" class="label">${esc(row.label)}</text>` +
      `<rect x="${labelWidth}" y="${y + 2}" width="${scale(row.reference).toFixed(1)}" height="16" class="reference"/>` +
      `<rect x="${labelWidth}" y="${y + 5}" width="${Math.max(scale(row.value), row.value > 0 ? 2 : 0).toFixed(1)}" height="10" class="${row.fail ? 'value fail' : 'value'}"/>` +
      `<text x="${labelWidth + scale(Math.max(row.value, row.reference)) + 6}" y="${y + 14}" class="number">${row.value} / ${row.reference}</text>`
    );
  });
  const height = 30 + rows.length * rowHeight;
  return (
    `<figure><figcaption>${esc(title)} <span class="legend"><i class="value"></i>${esc(legend[0])} <i class="reference"></i>${esc(legend[1])}</span></figcaption>` +
    `<svg role="img" aria-label="${esc(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${bars.join('')}</svg></figure>`
  );
}

export function renderHtml(model: ReportModel): string {
  const { declaration } = model;
  const counts = Object.entries(model.apply?.summary?.count_deltas ?? {}).flatMap(([kind, delta]) =>
    delta ? [{ label: kind, value: delta.post, reference: delta.pre }] : [],
  );
  const limitRows = model.limits.map((limit) => ({
    label: limit.name,
    value: limit.used,
    reference: limit.declared,
    fail: limit.status === 'fail',
  }));
  const changes = model.apply?.summary?.changes ?? [];
  const checkRows = model.checks
    .map(
      (check) =>
        `<tr class="${esc(check.status)}"><td>${check.status === 'fail' ? '❌' : check.status === 'pass' ? '✅' : '➖'}</td><td>${esc(check.name)}</td><td>${esc(check.message)}</td></tr>`,
    )
    .join('');
  const changeRows = changes
    .map((change) => `<tr><td>${esc(change.change)}</td><td>${esc(change.kind)}</td><td>${esc(change.name)}</td></tr>`)
    .join('');
  const historyRows = model.history
    .map(
      (receipt) =>
        `<tr><td>${esc(receipt.finished_at)}</td><td>${esc(receipt.operation)}</td><td>${esc(receipt.outcome?.status)}</td><td><code>${esc(receipt.run_id)}</code></td></tr>`,
    )
    .join('');
  const { pre, post, after_rollback: after } = model.fingerprints;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(declaration.migration_id)} — kfm-migrate report</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1b1f24}
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}td,th{border-bottom:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
tr.fail td{background:#ffebe9}code{font-size:12px}figure{margin:1rem 0}figcaption{font-weight:600;margin-bottom:.25rem}
.label,.number{font-size:12px;fill:#1b1f24}.reference{fill:#d0d7de}.value{fill:#2f81f7}.value.fail{fill:#cf222e}
.legend{font-weight:400;font-size:12px;margin-left:1rem}.legend i{display:inline-block;width:10px;height:10px;margin:0 .25rem 0 .75rem}.legend i.value{background:#2f81f7}.legend i.reference{background:#d0d7de}
input{padding:.25rem .5rem;width:20rem}
</style></head><body>
<h1>${esc(declaration.migration_id)} <small>(${esc(declaration.type)})</small></h1>
<p>${esc(declaration.intent)}</p>
<p><strong>Status:</strong> ${esc(statusOf(model))}</p>
${pre || post ? `<p><strong>Fingerprints:</strong> PRE <code>${esc(pre ?? '—')}</code><br>POST <code>${esc(post ?? '—')}</code><br>after rollback <code>${esc(after ?? '—')}</code>${after ? (after === pre ? ' ✅ PRE restored' : ' ❌ differs from PRE') : ''}</p>` : ''}
${barChart('Limits: used vs declared', limitRows, ['used', 'declared'])}
${barChart('Objects per kind: after vs before', counts, ['after', 'before'])}
<h2>Checks</h2><table><thead><tr><th></th><th>check</th><th>message</th></tr></thead><tbody>${checkRows}</tbody></table>
<h2>Touched objects (${changes.length})</h2>
<input id="filter" type="text" placeholder="filter by change, kind or name" aria-label="filter touched objects">
<table id="touched"><thead><tr><th>change</th><th>kind</th><th>name</th></tr></thead><tbody>${changeRows}</tbody></table>
<h2>Run history</h2><table><thead><tr><th>finished</th><th>operation</th><th>outcome</th><th>run</th></tr></thead><tbody>${historyRows}</tbody></table>
<script>
document.getElementById('filter').addEventListener('input', function (event) {
  var needle = event.target.value.toLowerCase();
  document.querySelectorAll('#touched tbody tr').forEach(function (row) { row.hidden = needle !== '' && row.textContent.toLowerCase().indexOf(needle) < 0; });
});
</script>
</body></html>
`;
}

/** The report text, or the issues that stop it (an invalid declaration: exit 2). */
export async function reportBundle(
  bundleDir: string,
  format: 'md' | 'html',
): Promise<{ ok: true; text: string } | { ok: false; issues: Issue[] }> {
  const built = await buildReport(bundleDir);
  if (!built.ok) return built;
  return { ok: true, text: format === 'html' ? renderHtml(built.model) : renderMarkdown(built.model) };
}
