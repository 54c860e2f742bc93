// The command a user runs: `atlas-streams-emulator serve`, its banner, its options and
// environment, and state that survives a restart.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ACCEPT, callDigest } from '../src/testing/harness.js';
import { CLI, startServerProcess, stopServerProcess, type ServerProcess } from '../src/testing/server-process.js';

const run = promisify(execFile);
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterAll(() => {
  for (const child of children) void stopServerProcess(child, 'SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

type Banner = ServerProcess;

async function serve(args: string[], env: Record<string, string> = {}, command?: string[]): Promise<Banner> {
  const server = await startServerProcess(args, env, command);
  children.push(server.child);
  return server;
}

const stop = (child: ChildProcess) => stopServerProcess(child);

async function curlDigest(url: string, user: string): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-s', '--digest', '--user', user, '--header', 'Accept: application/vnd.atlas.2023-01-01+json',
    '-w', '\n%{http_code}', url]);
  const lines = stdout.split('\n');
  return { status: Number(lines.pop()), body: lines.join('\n') };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ase-cli-'));
  dirs.push(dir);
  return dir;
}

describe('atlas-streams-emulator serve', () => {
  it('explains every option in --help', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'serve', '--help']);
    for (const option of ['--port', '--host', '--data-dir', '--in-memory', '--tls-cert', '--tls-key', '--log-level', '--sample-rate', 'ATLAS_STREAMS_PORT', '--kafka-source-parallelism', 'ATLAS_STREAMS_KAFKA_SOURCE_PARALLELISM']) {
      expect(stdout).toContain(option);
    }
  });

  it('starts with npx in a checkout', async () => {
    const banner = await serve(['--port', '0', '--in-memory', '--log-level', 'warn'], {}, ['npx', 'atlas-streams-emulator']);
    const res = await curlDigest(`${banner.url}/api/atlas/v2/orgs/${banner.orgId}`, `${banner.publicKey}:${banner.privateKey}`);
    expect(res.status).toBe(200);
    await stop(banner.child);
  });

  it('prints how to connect, and the printed curl line works', async () => {
    const banner = await serve(['--in-memory', '--port', '0', '--log-level', 'warn']);
    expect(banner.text).toContain('curl --digest --user');
    expect(banner.text).toContain(`MONGODB_ATLAS_OPS_MANAGER_URL=${banner.url}/`);
    expect(banner.text).toContain(`web console:     ${banner.url}/`);
    const page = await fetch(`${banner.url}/`);
    expect(await page.text()).toContain('<script type="module" src="/console/app.js">');
    const res = await curlDigest(`${banner.url}/api/atlas/v2/orgs/${banner.orgId}`, `${banner.publicKey}:${banner.privateKey}`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ id: banner.orgId });
    await stop(banner.child);
  });

  it('keeps state across a restart and shows the private key only on first start', async () => {
    const dataDir = tempDir();
    const first = await serve(['--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
    await stop(first.child);
    const second = await serve(['--port', '0', '--log-level', 'warn'], { ATLAS_STREAMS_DATA_DIR: dataDir });
    expect(second.orgId).toBe(first.orgId);
    expect(second.projectId).toBe(first.projectId);
    expect(second.publicKey).toBe(first.publicKey);
    expect(second.text).not.toContain(first.privateKey);
    const res = await curlDigest(`${second.url}/api/atlas/v2/orgs/${second.orgId}`, `${first.publicKey}:${first.privateKey}`);
    expect(res.status).toBe(200);
    await stop(second.child);
  });

  it('refuses a second server on the same data directory, and takes over after a crash', async () => {
    const dataDir = tempDir();
    const first = await serve(['--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
    await expect(serve(['--port', '0', '--data-dir', dataDir, '--log-level', 'warn']))
      .rejects.toThrow(`another server (process ${first.child.pid}) is using the data directory ${dataDir}`);
    await stopServerProcess(first.child, 'SIGKILL');
    const after = await serve(['--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
    expect(after.projectId).toBe(first.projectId);
    await stop(after.child);
  });

  it("adopts the client's own MONGODB_ATLAS_* environment", async () => {
    const env = {
      MONGODB_ATLAS_PUBLIC_KEY: 'abcdefgh',
      MONGODB_ATLAS_PRIVATE_KEY: '11111111-2222-3333-4444-555555555555',
      MONGODB_ATLAS_ORG_ID: 'aaaaaaaaaaaaaaaaaaaaaaaa',
      MONGODB_ATLAS_PROJECT_ID: 'bbbbbbbbbbbbbbbbbbbbbbbb',
      ATLAS_STREAMS_IN_MEMORY: '1',
      ATLAS_STREAMS_PORT: '0',
    };
    const banner = await serve(['--log-level', 'warn'], env);
    expect(banner.orgId).toBe(env.MONGODB_ATLAS_ORG_ID);
    expect(banner.projectId).toBe(env.MONGODB_ATLAS_PROJECT_ID);
    expect(banner.publicKey).toBe('abcdefgh');
    const res = await curlDigest(`${banner.url}/api/atlas/v2/orgs/${env.MONGODB_ATLAS_ORG_ID}`, 'abcdefgh:11111111-2222-3333-4444-555555555555');
    expect(res.status).toBe(200);
    await stop(banner.child);
  });

  it('refuses an invalid port, sample rate or Kafka source parallelism with a clear message', async () => {
    await expect(run(process.execPath, [CLI, 'serve', '--port', 'http'])).rejects.toMatchObject({ stderr: expect.stringContaining('invalid --port') });
    await expect(run(process.execPath, [CLI, 'serve', '--sample-rate', '-1'])).rejects.toMatchObject({ stderr: expect.stringContaining('invalid --sample-rate') });
    await expect(run(process.execPath, [CLI, 'serve', '--kafka-source-parallelism', '0'])).rejects.toMatchObject({ stderr: expect.stringContaining('invalid --kafka-source-parallelism') });
  });

  it('refuses --role api or runner without --database-url, and a database URL that is not PostgreSQL', async () => {
    await expect(run(process.execPath, [CLI, 'serve', '--role', 'runner', '--in-memory'])).rejects.toMatchObject({ stderr: expect.stringContaining('--role runner needs --database-url') });
    await expect(run(process.execPath, [CLI, 'serve', '--role', 'boss'])).rejects.toMatchObject({ stderr: expect.stringContaining('--role') });
    await expect(run(process.execPath, [CLI, 'serve', '--database-url', 'mysql://x'])).rejects.toMatchObject({ stderr: expect.stringContaining('must be a postgres:// URL') });
  });

  it('runs the sample source unthrottled with --sample-rate 0', async () => {
    const banner = await serve(['--in-memory', '--port', '0', '--log-level', 'warn', '--sample-rate', '0']);
    const credentials = { publicKey: banner.publicKey, privateKey: banner.privateKey };
    const streams = `${banner.url}/api/atlas/v2/groups/${banner.projectId}/streams`;
    await callDigest(`${streams}:withSampleConnections`, credentials, {
      method: 'POST', body: { name: 'fast', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } },
    });
    const pipeline = [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }];
    await callDigest(`${streams}/fast/processor`, credentials, { method: 'POST', body: { name: 'p', pipeline }, accept: ACCEPT.processors });
    expect((await callDigest(`${streams}/fast/processor/p:start`, credentials, { method: 'POST', accept: ACCEPT.processors })).status).toBe(200);
    // At the default 10 per second this would take minutes and hit the test's timeout.
    for (;;) {
      const got = await callDigest(`${streams}/fast/processor/p`, credentials, { accept: ACCEPT.processors });
      if (got.json.stats.inputMessageCount > 5000) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await stop(banner.child);
  });
});

describe('atlas-streams-emulator watch', () => {
  it("prints a running processor's output, one JSON document per line", async () => {
    const banner = await serve(['--in-memory', '--port', '0', '--log-level', 'warn']);
    const credentials = { publicKey: banner.publicKey, privateKey: banner.privateKey };
    const streams = `${banner.url}/api/atlas/v2/groups/${banner.projectId}/streams`;
    const created = await callDigest(`${streams}:withSampleConnections`, credentials, {
      method: 'POST', body: { name: 'solar', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } },
    });
    expect(created.status).toBe(200);
    const pipeline = [{ $source: { connectionName: 'sample_stream_solar' } }, { $project: { device_id: 1, watts: '$obs.watts' } },
      { $emit: { connectionName: '__testLog' } }];
    expect((await callDigest(`${streams}/solar/processor`, credentials, { method: 'POST', body: { name: 'panels', pipeline }, accept: ACCEPT.processors })).status).toBe(200);
    expect((await callDigest(`${streams}/solar/processor/panels:start`, credentials, { method: 'POST', accept: ACCEPT.processors })).status).toBe(200);

    const watch = spawn(process.execPath, [CLI, 'watch', '--url', banner.url, '--workspace', 'solar', '--processor', 'panels'], {
      env: { ...process.env, MONGODB_ATLAS_PROJECT_ID: banner.projectId, MONGODB_ATLAS_PUBLIC_KEY: banner.publicKey, MONGODB_ATLAS_PRIVATE_KEY: banner.privateKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(watch);
    const lines = await new Promise<string[]>((resolveLines, reject) => {
      let text = '';
      watch.stdout!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const complete = text.split('\n').slice(0, -1);
        if (complete.length >= 3) resolveLines(complete);
      });
      watch.stderr!.on('data', (chunk: Buffer) => reject(new Error(chunk.toString())));
    });
    for (const line of lines) {
      const doc = JSON.parse(line);
      expect(doc.device_id).toMatch(/^device_\d+$/);
      expect(typeof doc.watts).toBe('number');
    }
    watch.kill('SIGINT');
    await stop(banner.child);
  });

  it('says clearly when the processor does not exist', async () => {
    const banner = await serve(['--in-memory', '--port', '0', '--log-level', 'warn']);
    const result = run(process.execPath, [CLI, 'watch', '--url', banner.url, '--instance', 'none', '--processor', 'none',
      '--project', banner.projectId, '--public-key', banner.publicKey, '--private-key', banner.privateKey]);
    await expect(result).rejects.toMatchObject({ stderr: expect.stringContaining('HTTP 404') });
    await stop(banner.child);
  });
});
