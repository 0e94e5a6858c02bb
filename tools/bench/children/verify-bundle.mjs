// Child: verifyBundle over a bundle whose receipt names the artifact files (argv: BUNDLE).
import { verifyBundle } from '@kfm/receipts';

const started = performance.now();
const result = await verifyBundle(process.argv[2]);
const opMs = performance.now() - started;
if (!result.ok) throw new Error(`verify failed: ${result.issues.map((i) => i.code).join(', ')}`);
console.log(JSON.stringify({ opMs, files: result.files.length, maxRssKb: process.resourceUsage().maxRSS }));
