// Child: diff + evaluate of two baseline files against a declaration, as the runner does after POST.
// argv: PRE POST BUNDLE. Parsing is timed apart (parseMs) so opMs is diffBaselines + evaluate alone.
import fs from 'node:fs';
import { postgisVocabulary } from '@kfm/baseline-postgis';
import { diffBaselines, evaluate } from '@kfm/diff';
import { loadDeclaration } from '@kfm/migration-contracts';

const [preFile, postFile, bundle] = process.argv.slice(2);
const loaded = await loadDeclaration(bundle);
if (!loaded.ok) throw new Error(`declaration does not load: ${loaded.issues.map((i) => i.code).join(', ')}`);
const texts = [fs.readFileSync(preFile, 'utf8'), fs.readFileSync(postFile, 'utf8')];
let started = performance.now();
const [pre, post] = texts.map((text) => JSON.parse(text));
const parseMs = performance.now() - started;
started = performance.now();
const diff = diffBaselines(pre, post);
// The store's vocabulary comes from its adapter (the bench baselines are PostGIS-shaped).
const summary = evaluate(loaded.declaration, { pre, post, diff, metrics: { rows_affected: 0 } }, postgisVocabulary);
const opMs = performance.now() - started;
console.log(
  JSON.stringify({
    opMs,
    parseMs,
    status: summary.status,
    changes: diff.changes?.length ?? null,
    checks: summary.checks.length,
    maxRssKb: process.resourceUsage().maxRSS,
  }),
);
