// The CLI's state commands (seed, export, reset, serve --seed), --version, and a clean stop
// when a supervisor signals the npm process it started.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ACCEPT, callDigest } from '../src/testing/harness.js';
import { CLI, startServerProcess, stopServerProcess, type ServerProcess } from '../src/testing/server-process.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'ase-cli-state-'));
const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const server of servers) await stopServerProcess(server.child, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const SEED = `
projects:
  - name: demo
    workspaces:
      - name: dev
        sampleConnections: true
        processors:
          - name: solar
            state: STARTED
            pipeline:
              - $source: { connectionName: sample_stream_solar }
              - $emit: { connectionName: __testLog }
`;

async function serve(args: string[]): Promise<ServerProcess> {
  const server = await startServerProcess(['--port', '0', '--in-memory', '--log-level', 'warn', ...args]);
  servers.push(server);
  return server;
}

function cli(server: ServerProcess, args: string[]) {
  return run(process.execPath, [CLI, ...args, '--url', server.url], {
    env: { ...process.env, MONGODB_ATLAS_PUBLIC_KEY: server.publicKey, MONGODB_ATLAS_PRIVATE_KEY: server.privateKey },
  });
}

async function processorStates(server: ServerProcess, groupId: string, workspace: string): Promise<Record<string, string>> {
  const res = await callDigest(`${server.url}/api/atlas/v2/groups/${groupId}/streams/${workspace}/processors`, server, { accept: ACCEPT.processors });
  return Object.fromEntries((res.json?.results ?? []).map((p: { name: string; state: string }) => [p.name, p.state]));
}

describe('state commands', () => {
  it('--version prints the package version', async () => {
    const { stdout } = await run(process.execPath, [CLI, '--version']);
    const pkg = JSON.parse(readFileSync(resolve(__dirname, '../package.json'), 'utf8')) as { version: string };
    expect(stdout.trim()).toBe(pkg.version);
  });

  it('serve --seed creates the file\'s state before printing the banner', async () => {
    const file = join(dir, 'seed.yaml');
    writeFileSync(file, SEED);
    const server = await serve(['--seed', file]);
    const seeded = /"demo": "([a-f0-9]{24})"/.exec(server.text)?.[1];
    expect(seeded, server.text).toBeDefined();
    expect(await processorStates(server, seeded!, 'dev')).toEqual({ solar: 'STARTED' });
  });

  it('serve --seed refuses a bad file with its place and does not start', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'projects:\n  - nme: typo\n');
    await expect(serve(['--seed', file])).rejects.toThrow(/projects\[0\]: unknown field "nme"/);
  });

  it('seed, export and reset drive a running server', async () => {
    const server = await serve([]);
    const file = join(dir, 'seed2.yaml');
    writeFileSync(file, SEED);
    const seeded = JSON.parse((await cli(server, ['seed', file])).stdout) as { projects: Record<string, string> };
    expect(await processorStates(server, seeded.projects['demo']!, 'dev')).toEqual({ solar: 'STARTED' });

    const exported = parseYaml((await cli(server, ['export'])).stdout) as { projects: Array<{ name: string; workspaces: Array<{ name: string; processors: unknown[] }> }> };
    const demo = exported.projects.find((p) => p.name === 'demo')!;
    expect(demo.workspaces[0]!.name).toBe('dev');
    expect(demo.workspaces[0]!.processors).toEqual([expect.objectContaining({ name: 'solar', state: 'STARTED' })]);

    const { stdout } = await cli(server, ['reset']);
    expect(stdout).toMatch(/^reset: \d+ entities deleted/);
    const projects = await callDigest(`${server.url}/api/atlas/v2/groups`, server, { accept: ACCEPT.identity });
    expect(projects.json.results.map((p: { name: string }) => p.name)).toEqual(['Local-Project']);
  });

  it('serve --deterministic-seed gives the same ids and keys on every run with that seed', async () => {
    const file = join(dir, 'seed-deterministic.yaml');
    writeFileSync(file, SEED);
    const start = (seed: string) => serve(['--wire-port-base', '0', '--seed', file, '--deterministic-seed', seed]);
    const [first, second, other] = await Promise.all([start('run-1'), start('run-1'), start('run-2')]);
    const identity = (server: ServerProcess) => ({
      orgId: server.orgId, projectId: server.projectId, publicKey: server.publicKey, privateKey: server.privateKey,
      seeded: /"demo": "([a-f0-9]{24})"/.exec(server.text)?.[1],
    });
    expect(identity(first).seeded).toMatch(/^[a-f0-9]{24}$/);
    expect(identity(second)).toEqual(identity(first));
    for (const [field, value] of Object.entries(identity(other))) expect(value, field).not.toBe(identity(first)[field as keyof ReturnType<typeof identity>]);
    expect(await processorStates(second, identity(second).seeded!, 'dev')).toEqual({ solar: 'STARTED' });
  }, 90_000);

  it('lifecycles add, list and clear drive the rules of a running server', async () => {
    const server = await serve([]);
    const added = JSON.parse((await cli(server, ['lifecycles', 'add', '--resource', 'connection', '--transition', 'delete', '--after-reads', '2'])).stdout);
    expect(added).toEqual({ id: expect.any(String), resource: 'connection', transition: 'delete', afterReads: 2 });
    expect((await cli(server, ['lifecycles', 'list'])).stdout.trim().split('\n').map((line) => JSON.parse(line))).toEqual([added]);
    await expect(cli(server, ['lifecycles', 'add', '--resource', 'processor', '--transition', 'delete', '--after-reads', '1'])).rejects.toThrow(/lifecycle rule refused: HTTP 400/);
    expect((await cli(server, ['lifecycles', 'clear'])).stdout).toBe('lifecycles cleared\n');
    expect((await callDigest(`${server.url}/emulator/v1/admin/lifecycles`, server)).json.results).toEqual([]);
  }, 90_000);

  it('faults add, sink-gone, fail-processor, list and clear drive fault injection of a running server', async () => {
    const file = join(dir, 'seed-faults.yaml');
    writeFileSync(file, SEED);
    const server = await serve(['--wire-port-base', '0', '--seed', file]);
    const projectId = /"demo": "([a-f0-9]{24})"/.exec(server.text)![1]!;
    const workspaces = () => callDigest(`${server.url}/api/atlas/v2/groups/${projectId}/streams`, server, { accept: ACCEPT.streams });

    const rule = JSON.parse((await cli(server, ['faults', 'add', '--path', '/streams$', '--error-code', 'RATE_LIMITED', '--retry-after', '3', '--count', '1'])).stdout);
    expect(rule).toMatchObject({ id: expect.any(String), error: { errorCode: 'RATE_LIMITED', retryAfterSeconds: 3 }, count: 1 });
    const limited = await workspaces();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect((await workspaces()).status).toBe(200);

    // The processor is failed on purpose first: once its sink is gone it would fail by itself
    // after its write retries (about 4 s), which a loaded machine can spend on the CLI calls.
    await expect(cli(server, ['faults', 'fail-processor', '--project', projectId, '--workspace', 'dev', '--processor', 'nope', '--message', 'x']))
      .rejects.toThrow(/fail-processor refused: HTTP 404/);
    expect(JSON.parse((await cli(server, ['faults', 'fail-processor', '--project', projectId, '--workspace', 'dev', '--processor', 'solar', '--message', 'disk on fire'])).stdout))
      .toEqual({ processorName: 'solar', state: 'FAILED', errorMsg: 'disk on fire' });
    expect(await processorStates(server, projectId, 'dev')).toEqual({ solar: 'FAILED' });

    const gone = JSON.parse((await cli(server, ['faults', 'sink-gone', '--project', projectId, '--workspace', 'dev', '--processor', 'solar', '--message', 'connection refused'])).stdout);
    expect(gone).toMatchObject({ processorName: 'solar', message: 'connection refused' });
    const listed = (await cli(server, ['faults', 'list'])).stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(listed).toEqual([expect.objectContaining({ id: rule.id, fired: 1 }), expect.objectContaining({ processorId: gone.processorId, message: 'connection refused' })]);
    expect((await cli(server, ['faults', 'clear'])).stdout).toBe('faults cleared\n');
    expect((await callDigest(`${server.url}/emulator/v1/admin/faults`, server)).json.results).toEqual([]);
    expect((await callDigest(`${server.url}/emulator/v1/admin/faults/sink`, server)).json.results).toEqual([]);
  }, 90_000);

  it('logs one readable line per request with --log-format pretty, JSON lines otherwise', async () => {
    const output = (server: ServerProcess) => {
      let text = '';
      server.child.stdout!.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      return () => text;
    };
    const pretty = await serve(['--log-level', 'info', '--log-format', 'pretty']);
    const prettyText = output(pretty);
    await fetch(`${pretty.url}/api/atlas/v2/groups`);
    await expect.poll(prettyText, { timeout: 5000 }).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: GET \/api\/atlas\/v2\/groups 401 [\d.]+ ms/m);
    const json = await serve(['--log-level', 'info']);
    const jsonText = output(json);
    await fetch(`${json.url}/api/atlas/v2/groups`);
    await expect.poll(jsonText, { timeout: 5000 }).toMatch(/^\{"level":30,.*"msg":"request"\}$/m);
  });

  it('stops the server when a supervisor sends SIGTERM to the npm process it started', async () => {
    const npm = spawn('npm', ['start', '--', '--port', '0', '--in-memory', '--log-level', 'warn'], {
      cwd: resolve(__dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    const url = await new Promise<string>((resolveUrl, reject) => {
      npm.stdout!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const m = /listening on (\S+)/.exec(text);
        if (m) resolveUrl(m[1]!);
      });
      npm.once('exit', () => reject(new Error(text)));
    });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const exited = new Promise((resolveExit) => npm.once('exit', resolveExit));
    npm.kill('SIGTERM');
    await exited;
    await expect.poll(() => fetch(`${url}/readyz`).then(() => 'serving', () => 'stopped'), { timeout: 10_000 }).toBe('stopped');
  });
});
