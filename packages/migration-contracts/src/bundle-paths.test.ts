// Artifact path confinement against a real directory tree with real symlinks.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveInBundle } from './bundle-paths.js';

let sandbox: string;
let bundle: string;
let outside: string;

beforeAll(async () => {
  sandbox = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-bundle-paths-')));
  bundle = path.join(sandbox, 'bundle');
  outside = path.join(sandbox, 'outside');
  await fs.mkdir(path.join(bundle, 'sql', 'v2'), { recursive: true });
  await fs.mkdir(outside);
  await fs.writeFile(path.join(bundle, 'sql', 'v2', 'forward.sql'), 'SELECT 1;\n');
  await fs.writeFile(path.join(bundle, '..notes.md'), 'a name that merely starts with two dots\n');
  await fs.writeFile(path.join(outside, 'secret.sql'), 'SELECT 2;\n');
  // Inside: a relative link, a chain of links, and an absolute link that comes back into the bundle.
  await fs.symlink('sql/v2/forward.sql', path.join(bundle, 'forward.sql'));
  await fs.symlink('forward.sql', path.join(bundle, 'chained.sql'));
  await fs.symlink(path.join(bundle, 'sql'), path.join(bundle, 'absolute-in'));
  // Escapes: a file link, a dangling link, a directory link, a link hidden behind an inside link.
  await fs.symlink('../outside/secret.sql', path.join(bundle, 'escape.sql'));
  await fs.symlink('../outside/not-yet-written.sql', path.join(bundle, 'dangling.sql'));
  await fs.symlink(outside, path.join(bundle, 'shared'));
  await fs.symlink('escape.sql', path.join(bundle, 'indirect.sql'));
  await fs.symlink('sql/../../outside', path.join(bundle, 'dotdot-link'));
  // A loop.
  await fs.symlink('loop-b', path.join(bundle, 'loop-a'));
  await fs.symlink('loop-a', path.join(bundle, 'loop-b'));
});

afterAll(async () => {
  await fs.rm(sandbox, { recursive: true, force: true });
});

describe('resolveInBundle', () => {
  it('resolves a normal nested path to its real location', async () => {
    expect(await resolveInBundle(bundle, 'sql/v2/forward.sql')).toEqual({
      ok: true,
      path: path.join(bundle, 'sql', 'v2', 'forward.sql'),
      exists: true,
    });
    expect(await resolveInBundle(bundle, './sql//v2/forward.sql')).toEqual({
      ok: true,
      path: path.join(bundle, 'sql', 'v2', 'forward.sql'),
      exists: true,
    });
  });

  it('resolves a missing file inside the bundle as not existing (an output to be written)', async () => {
    expect(await resolveInBundle(bundle, 'baselines/pre.json')).toEqual({
      ok: true,
      path: path.join(bundle, 'baselines', 'pre.json'),
      exists: false,
    });
  });

  it('follows symlinks that stay inside the bundle', async () => {
    const real = path.join(bundle, 'sql', 'v2', 'forward.sql');
    expect(await resolveInBundle(bundle, 'forward.sql')).toEqual({ ok: true, path: real, exists: true });
    expect(await resolveInBundle(bundle, 'chained.sql')).toEqual({ ok: true, path: real, exists: true });
    expect(await resolveInBundle(bundle, 'absolute-in/v2/forward.sql')).toEqual({ ok: true, path: real, exists: true });
  });

  it('accepts a name that only starts with two dots', async () => {
    expect(await resolveInBundle(bundle, '..notes.md')).toEqual({
      ok: true,
      path: path.join(bundle, '..notes.md'),
      exists: true,
    });
  });

  it.each(['/etc/passwd', 'C:\\migrations\\forward.sql', 'c:/forward.sql', '\\\\server\\share\\forward.sql'])(
    'refuses the absolute path %j',
    async (relative) => {
      const result = await resolveInBundle(bundle, relative);
      expect(result).toEqual({ ok: false, issue: expect.objectContaining({ code: 'ARTIFACT_PATH_ABSOLUTE' }) });
    },
  );

  it.each(['../outside/secret.sql', 'sql/../../outside/secret.sql', 'sql/..', 'sql\\..\\..\\outside\\secret.sql'])(
    'refuses the traversal %j',
    async (relative) => {
      const result = await resolveInBundle(bundle, relative);
      expect(result).toEqual({ ok: false, issue: expect.objectContaining({ code: 'ARTIFACT_PATH_TRAVERSAL' }) });
    },
  );

  it.each([
    ['a file symlink', 'escape.sql'],
    ['a dangling symlink', 'dangling.sql'],
    ['a symlinked directory (existing file)', 'shared/secret.sql'],
    ['a symlinked directory (file not there yet)', 'shared/new.sql'],
    ['a symlinked directory itself', 'shared'],
    ['a link to a link that escapes', 'indirect.sql'],
    ['a link whose target climbs with ..', 'dotdot-link/secret.sql'],
  ])('refuses %s escaping the bundle', async (_name, relative) => {
    const result = await resolveInBundle(bundle, relative);
    expect(result).toEqual({
      ok: false,
      issue: expect.objectContaining({ code: 'ARTIFACT_PATH_SYMLINK_ESCAPE', found: JSON.stringify(relative) }),
    });
  });

  it('refuses a symlink loop instead of spinning', async () => {
    const result = await resolveInBundle(bundle, 'loop-a');
    expect(result).toEqual({
      ok: false,
      issue: expect.objectContaining({
        code: 'ARTIFACT_PATH_SYMLINK_ESCAPE',
        message: 'the artifact path is a symlink loop',
      }),
    });
  });

  it('works when the bundle directory itself is reached through a symlink', async () => {
    const alias = path.join(sandbox, 'bundle-alias');
    await fs.symlink(bundle, alias);
    expect(await resolveInBundle(alias, 'forward.sql')).toEqual({
      ok: true,
      path: path.join(bundle, 'sql', 'v2', 'forward.sql'),
      exists: true,
    });
    expect(await resolveInBundle(alias, 'escape.sql')).toEqual({
      ok: false,
      issue: expect.objectContaining({ code: 'ARTIFACT_PATH_SYMLINK_ESCAPE' }),
    });
  });
});
