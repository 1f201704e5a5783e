import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contextEntries, contextHash, createIgnoreMatcher } from '../../src/images/context-hash.js';
import { mirrorFromAptSources, nginxBaseRecipe, pythonBaseRecipe, recipeHash, recipeTag } from '../../src/images/base.js';
import { appDir, listApps } from '../../src/images/build.js';
import { InputError } from '../../src/errors.js';

const tempDirs: string[] = [];
afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function makeContext(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kubelab-ctx-'));
  tempDirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
    await chmod(join(dir, path), 0o644);
  }
  return dir;
}

const app = {
  Dockerfile: 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY app.py .\n',
  'app.py': 'print("hi")\n',
  'requirements.txt': 'Flask==2.1.0\n',
};

describe('contextHash', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeContext(app);
  });

  it('is a sha256 hex digest, stable across runs', async () => {
    const first = await contextHash(dir);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(await contextHash(dir)).toBe(first);
  });

  it('does not depend on where the context lives or the order files were written', async () => {
    const reversed = Object.fromEntries(Object.entries(app).reverse());
    const other = await makeContext(reversed);
    expect(await contextHash(other)).toBe(await contextHash(dir));
  });

  it('changes when a file changes, is added, or changes mode', async () => {
    const before = await contextHash(dir);
    await writeFile(join(dir, 'app.py'), 'print("hello")\n');
    const edited = await contextHash(dir);
    expect(edited).not.toBe(before);

    await writeFile(join(dir, 'extra.txt'), 'x');
    const added = await contextHash(dir);
    expect(added).not.toBe(edited);

    await chmod(join(dir, 'extra.txt'), 0o755);
    expect(await contextHash(dir)).not.toBe(added);
  });

  it('includes the build args and extra inputs', async () => {
    const plain = await contextHash(dir);
    const a = await contextHash(dir, { buildArgs: { BASE_IMAGE: 'a:1' } });
    const b = await contextHash(dir, { buildArgs: { BASE_IMAGE: 'b:1' } });
    expect(new Set([plain, a, b]).size).toBe(3);
    expect(await contextHash(dir, { buildArgs: { X: '1', Y: '2' } })).toBe(await contextHash(dir, { buildArgs: { Y: '2', X: '1' } }));
    expect(await contextHash(dir, { extra: { baseImageId: 'sha256:1' } })).not.toBe(await contextHash(dir, { extra: { baseImageId: 'sha256:2' } }));
  });

  it('ignores __pycache__ and *.pyc, even without a .dockerignore', async () => {
    const before = await contextHash(dir);
    await mkdir(join(dir, '__pycache__'));
    await writeFile(join(dir, '__pycache__', 'app.cpython-311.pyc'), 'bytecode');
    await mkdir(join(dir, 'pkg', '__pycache__'), { recursive: true });
    await writeFile(join(dir, 'pkg', '__pycache__', 'm.pyc'), 'bytecode');
    await writeFile(join(dir, 'stray.pyc'), 'bytecode');
    await rm(join(dir, 'pkg'), { recursive: true });
    expect(await contextHash(dir)).toBe(before);
    expect((await contextEntries(dir)).map((e) => e.path)).toEqual(['Dockerfile', 'app.py', 'requirements.txt']);
  });

  it('follows the context .dockerignore, which is itself part of the context', async () => {
    const before = await contextHash(dir);
    await writeFile(join(dir, '.dockerignore'), '# junk\nnotes/\n*.log\n!keep.log\n');
    const withIgnore = await contextHash(dir);
    expect(withIgnore).not.toBe(before);

    await mkdir(join(dir, 'notes'));
    await writeFile(join(dir, 'notes', 'todo.md'), 'x');
    await writeFile(join(dir, 'debug.log'), 'x');
    expect(await contextHash(dir)).toBe(withIgnore);

    await writeFile(join(dir, 'keep.log'), 'x');
    expect(await contextHash(dir)).not.toBe(withIgnore);
  });

  it('hashes the shipped apps deterministically', async () => {
    for (const name of ['hello', 'file-server']) {
      expect(await contextHash(appDir(name))).toBe(await contextHash(appDir(name)));
    }
  });
});

describe('createIgnoreMatcher', () => {
  it('has .dockerignore semantics', () => {
    const ignored = createIgnoreMatcher(['**/__pycache__', '/build', 'docs/*.md', '!docs/README.md', 'a?c', '[xy].txt']);
    expect(ignored('__pycache__')).toBe(true);
    expect(ignored('deep/er/__pycache__/x.pyc')).toBe(true);
    expect(ignored('build/out.bin')).toBe(true);
    expect(ignored('src/build')).toBe(false);
    expect(ignored('docs/guide.md')).toBe(true);
    expect(ignored('docs/README.md')).toBe(false);
    expect(ignored('docs/sub/guide.md')).toBe(false);
    expect(ignored('abc')).toBe(true);
    expect(ignored('a/c')).toBe(false);
    expect(ignored('x.txt')).toBe(true);
    expect(ignored('z.txt')).toBe(false);
  });
});

describe('apps', () => {
  it('lists the course apps and rejects unknown ones with an InputError naming them', () => {
    expect(listApps()).toEqual(expect.arrayContaining(['hello', 'file-server']));
    expect(() => appDir('nope')).toThrow(InputError);
    expect(() => appDir('nope')).toThrow(/nope/);
    expect(() => appDir('../src')).toThrow(InputError);
  });
});

describe('base image recipes', () => {
  it('tags by a short, stable hash of the recipe', () => {
    expect(recipeTag(pythonBaseRecipe)).toMatch(/^kubelab\/python-flask:[0-9a-f]{12}$/);
    expect(recipeTag(nginxBaseRecipe)).toMatch(/^kubelab\/nginx:[0-9a-f]{12}$/);
    expect(recipeHash(pythonBaseRecipe)).toBe(recipeHash({ ...pythonBaseRecipe, packages: [...pythonBaseRecipe.packages].reverse() }));
    expect(recipeHash(pythonBaseRecipe)).not.toBe(recipeHash({ ...pythonBaseRecipe, packages: [...pythonBaseRecipe.packages, 'curl'] }));
  });
});

describe('mirrorFromAptSources', () => {
  it('reads deb822 .sources files, skipping security and disabled entries', () => {
    const text = [
      'Types: deb',
      '# http://snapshot.debian.org/archive/debian/20250520T000000Z',
      'URIs: http://deb.debian.org/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      '',
      'Types: deb',
      'URIs: http://deb.debian.org/debian-security',
      'Suites: bookworm-security',
      'Components: main',
    ].join('\n');
    const disabled = 'Types: deb\nURIs: http://other.example/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n';
    expect(mirrorFromAptSources([{ name: 'a.sources', text: disabled }, { name: 'debian.sources', text }], 'bookworm')).toBe(
      'http://deb.debian.org/debian',
    );
  });

  it('reads one-line .list files with options', () => {
    const text = '# comment\ndeb-src http://src.example/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://ftp.fr.debian.org/debian/ bookworm main contrib\n';
    expect(mirrorFromAptSources([{ name: 'sources.list', text }], 'bookworm')).toBe('http://ftp.fr.debian.org/debian');
  });

  it('falls back to any Debian mirror, then to nothing', () => {
    const trixie = [{ name: 'sources.list', text: 'deb http://mirror.example/debian trixie main\n' }];
    expect(mirrorFromAptSources(trixie, 'bookworm')).toBe('http://mirror.example/debian');
    const ubuntu = [{ name: 'sources.list', text: 'deb http://archive.ubuntu.com/ubuntu noble main\n' }];
    expect(mirrorFromAptSources(ubuntu, 'bookworm')).toBeUndefined();
  });
});
