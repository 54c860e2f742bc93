// What an idle server holds: a SQLite server that nobody has asked for PostgreSQL, pretty logs,
// a seed file or a wire filter has not loaded the packages those need (their code is most of
// the memory a fresh server would otherwise hold beyond bare Node; see bench/api.mjs).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { CLI, startServerProcess, stopServerProcess } from '../src/testing/server-process.js';

const dir = mkdtempSync(join(tmpdir(), 'idle-footprint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Preloaded into the server: writes the URL of every module it loads to LOADED_MODULES. */
const HOOK = `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.LOADED_MODULES, url + '\\\\n');
  return next(url, context);
}\`));
`;

it('a fresh SQLite server loads neither the PostgreSQL driver, pino-pretty, yaml nor mingo (beyond its small util module)', async () => {
  const hook = join(dir, 'hook.mjs');
  const loaded = join(dir, 'loaded.txt');
  writeFileSync(hook, HOOK);
  writeFileSync(loaded, '');
  const server = await startServerProcess(['--port', '0', '--data-dir', join(dir, 'data'), '--log-level', 'info', '--log-format', 'json'],
    { LOADED_MODULES: loaded }, [process.execPath, '--import', hook, CLI]);
  try {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
  } finally {
    await stopServerProcess(server.child);
  }
  const urls = readFileSync(loaded, 'utf8').split('\n').filter((url) => !/node_modules\/mingo\/(cjs|esm)\/util\//.test(url));
  const packages = new Set(urls.flatMap((url) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? []));
  expect(packages.has('better-sqlite3')).toBe(true);
  expect([...packages].filter((name) => ['pg', 'pino-pretty', 'yaml', 'mingo'].includes(name))).toEqual([]);
});
