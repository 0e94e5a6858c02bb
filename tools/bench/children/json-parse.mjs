// Child: JSON.parse of the same two baseline files (the floor any consumer of them pays). argv: PRE POST.
import fs from 'node:fs';

const texts = process.argv.slice(2, 4).map((file) => fs.readFileSync(file, 'utf8'));
const started = performance.now();
const parsed = texts.map((text) => JSON.parse(text));
const opMs = performance.now() - started;
console.log(
  JSON.stringify({ opMs, objects: parsed.map((b) => b.objects.length), maxRssKb: process.resourceUsage().maxRSS }),
);
