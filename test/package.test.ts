// What `npm pack` ships: the built library and CLI with type declarations, the contract, the
// docs and the licence; no tests; nothing that reaches outside the package. And the packed
// tarball installed into an empty folder runs: `npx atlas-streams-emulator --version`,
// `serve`, and the library from a plain Node script.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { callDigest } from '../src/testing/harness.js';
import { startServerProcess, stopServerProcess } from '../src/testing/server-process.js';

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

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'ase-package-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it('installs from the packed tarball into an empty folder and runs the CLI and the library', async () => {
  // The tarball of the built tree (npm test builds first), installed as a user would, from npm's
  // cache where it can and the registry otherwise (`npm ci` caches the tarballs it fetched, but
  // not every package's metadata). Its direct dependencies are held at the checkout's versions,
  // so the install resolves what the tests ran against.
  const { stdout: packed } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  const tarball = join(scratch, (JSON.parse(packed) as Array<{ filename: string }>)[0]!.filename);
  const app = join(scratch, 'app');
  mkdirSync(app);
  const dependencies = Object.keys((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
  const overrides = Object.fromEntries(dependencies.map((name) =>
    [name, (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version]));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'probe', private: true, type: 'module', overrides }));
  await run('npm', ['install', tarball, '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: app, timeout: 240_000 });
  // better-sqlite3's install script would compile its binding from source (minutes); the
  // checkout's binding is the same version for the same Node, so it stands in for that build.
  const binding = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
  mkdirSync(dirname(join(app, binding)), { recursive: true });
  copyFileSync(join(root, binding), join(app, binding));
  const installed = JSON.parse(readFileSync(join(app, 'node_modules/atlas-streams-emulator/package.json'), 'utf8')) as { version: string };
  expect(existsSync(join(app, 'node_modules/atlas-streams-emulator/LICENSE'))).toBe(true);

  const { stdout: version } = await run('npx', ['--offline', 'atlas-streams-emulator', '--version'], { cwd: app });
  expect(version.trim()).toBe(installed.version);

  const server = await startServerProcess(['--port', '0', '--in-memory', '--wire-port-base', '0', '--log-level', 'warn'], {}, ['npx', '--offline', 'atlas-streams-emulator'], app);
  try {
    const org = await callDigest(`${server.url}/api/atlas/v2/orgs/${server.orgId}`, server, { accept: 'application/vnd.atlas.2023-01-01+json' });
    expect(org.status).toBe(200);
  } finally {
    await stopServerProcess(server.child);
  }

  writeFileSync(join(app, 'probe.js'), [
    "import { startEmulator } from 'atlas-streams-emulator';",
    'const emulator = await startEmulator();',
    'const ready = await fetch(`${emulator.baseUrl}/readyz`);',
    'console.log(ready.status, emulator.credentials.projectId);',
    'await emulator.close();',
  ].join('\n'));
  const { stdout: probe } = await run(process.execPath, ['probe.js'], { cwd: app, timeout: 60_000 });
  expect(probe.trim()).toMatch(/^200 [a-f0-9]{24}$/);
}, 360_000);
