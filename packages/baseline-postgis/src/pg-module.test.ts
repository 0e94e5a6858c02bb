import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// In a fresh process (this worker may have loaded fetch already): the built module, as the CLI loads it.
const built = new URL('../dist/pg-module.js', import.meta.url).href;

describe('pgModule', () => {
  it("loads node-postgres without loading Node's fetch, and leaves the global scope as it found it", () => {
    const script = `
      const before = 'navigator' in globalThis;
      const { pgModule } = await import(${JSON.stringify(built)});
      const pg = pgModule();
      console.log(JSON.stringify({
        client: typeof pg.Client,
        sameModuleTwice: pgModule() === pg,
        navigatorUnchanged: ('navigator' in globalThis) === before,
        fetchLoaded: process.moduleLoadList.some((name) => name.includes('undici')),
      }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({
      client: 'function',
      sameModuleTwice: true,
      navigatorUnchanged: true,
      fetchLoaded: false,
    });
  });
});
