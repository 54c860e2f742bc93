// What `npm pack` ships: the built library and CLI with type declarations, the contract, the
// docs and the licence; no tests; nothing that reaches outside the package. (A real install
// of the packed tarball into an empty folder compiles better-sqlite3 from source, minutes on
// the CI machine; it was run by hand: see docs/testing.md.)
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = resolve(__dirname, '..');

it('npm pack ships the library, the CLI, types, the contract and the licence, and no tests', async () => {
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  const files = new Set((JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path));
  for (const required of ['LICENSE', 'README.md', 'package.json', 'dist/library.js', 'dist/library.d.ts', 'dist/cli/main.js', 'dist/console-assets/app.js',
    'spec/atlas-admin-v2-2026-08.yaml', 'docs/testing.md']) {
    expect(files.has(required), required).toBe(true);
  }
  const stray = [...files].filter((f) => f.startsWith('src/') || f.startsWith('test/') || /\.test\.(js|d\.ts)$/.test(f) || f.includes('/testing/'));
  expect(stray).toEqual([]);

  // Every relative import in the shipped code resolves to a shipped file.
  const outside: string[] = [];
  for (const file of [...files].filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const [, target] of text.matchAll(/(?:from|import\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const resolved = join(dirname(file), target!);
      if (!files.has(resolved) || !existsSync(join(root, resolved))) outside.push(`${file} -> ${target}`);
    }
    if (text.includes('../shared')) outside.push(`${file} names ../shared`);
  }
  expect(outside).toEqual([]);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; license: string };
  expect(pkg.exports['.']).toEqual({ types: './dist/library.d.ts', import: './dist/library.js' });
});
