// What a user sees when the server cannot start: the reason, what to do, and nothing left
// behind (the data directory can be used at once by the next start).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startApp, type AppConfig } from '../src/app.js';
import { Writable } from 'node:stream';

const dirs: string[] = [];
afterAll(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });

function config(dataDir: string, port = 0): AppConfig {
  return { port, host: '127.0.0.1', dataDir, inMemory: false, logLevel: 'silent', enforceRateLimits: false, env: {},
    logDestination: new Writable({ write: (_c, _e, cb) => cb() }) };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ase-start-'));
  dirs.push(dir);
  return dir;
}

it('names a damaged database file and says what to do, and leaves the directory usable', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'atlas-streams.db'), 'this is not a database, it only has a database name'.repeat(100));
  await expect(startApp(config(dir))).rejects.toThrow(
    new RegExp(`^cannot open the database ${join(dir, 'atlas-streams.db')}: .*move it away \\(the server then starts afresh\\) or restore a backup$`));
  rmSync(join(dir, 'atlas-streams.db'));
  const app = await startApp(config(dir));
  await app.close();
});

it('says the port is taken, and a second try on the same directory works', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  const dir = tempDir();
  await expect(startApp(config(dir, port))).rejects.toThrow(`port ${port} on 127.0.0.1 is in use: choose another with --port (0 picks a free one)`);
  await new Promise((resolve) => blocker.close(resolve));
  const app = await startApp(config(dir, port));
  expect(app.url).toBe(`http://127.0.0.1:${port}`);
  await app.close();
});
