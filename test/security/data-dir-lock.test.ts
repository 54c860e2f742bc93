// Item 6 of issue 8: the data-directory lock is an OS lock that dies with its process. A pid
// file naming a live but unrelated process (or a zombie, or a reused pid) blocks nothing; a
// second server on the same directory is still refused; a killed server's directory is free at once.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { ACCEPT, callDigest, startTestServer } from '../../src/testing/harness.js';
import { startServerProcess, stopServerProcess, type ServerProcess } from '../../src/testing/server-process.js';

const children: ChildProcess[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'ase-lock-'));
afterAll(async () => {
  await Promise.all(children.map((child) => stopServerProcess(child, 'SIGKILL')));
  rmSync(dataDir, { recursive: true, force: true });
});

async function serve(): Promise<ServerProcess> {
  const server = await startServerProcess(['--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
  children.push(server.child);
  return server;
}

async function answers(server: ServerProcess, credentials: { publicKey: string; privateKey: string }): Promise<number> {
  return (await callDigest(`${server.url}/api/atlas/v2/orgs/${server.orgId}`, credentials, { accept: ACCEPT.identity })).status;
}

describe('one server per data directory', () => {
  it('ignores a lock file naming a live process that is not a server, refuses a second server, frees the directory when killed', async () => {
    // A live, unrelated pid: this test's own process.
    writeFileSync(join(dataDir, 'server.lock'), String(process.pid));
    const first = await serve();
    const owner = { publicKey: first.publicKey, privateKey: first.privateKey };
    expect(await answers(first, owner)).toBe(200);

    await expect(serve()).rejects.toThrow(`another server (process ${first.child.pid}) is using the data directory ${dataDir}`);
    expect(await answers(first, owner)).toBe(200);

    await stopServerProcess(first.child, 'SIGKILL');
    const second = await serve();
    expect(second.projectId).toBe(first.projectId);
    expect(await answers(second, owner)).toBe(200);
    await stopServerProcess(second.child);
  });

  it('is left free by a start that fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ase-lock-fail-'));
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      await expect(startTestServer({ inMemory: false, dataDir: dir, port })).rejects.toThrow(/is in use/);
      // The failed start made the bootstrap key (and showed it to nobody); the point here is the lock.
      const server = await startTestServer({ inMemory: false, dataDir: dir });
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      await server.close();
    } finally {
      taken.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
