// The real mongosh against a workspace endpoint, the way mongosh's own end-to-end streams
// suite drives Atlas: the sp helper's whole life cycle, sp.process printing its results,
// connections, names taken and unknown, a wrong password, a read-only user, TLS, and a
// restart that brings the endpoint back.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT } from '../../src/testing/harness.js';
import { startServerProcess, stopServerProcess, type ServerProcess } from '../../src/testing/server-process.js';
import { makeTestCertificate, type TestCertificate } from '../../src/testing/tls.js';

const MONGOSH = createRequire(import.meta.url).resolve('mongosh/bin/mongosh.js');
const USER = 'shell-admin';
const PASSWORD = 'shell-admin-pa55word';
const SHELL_TIMEOUT_MS = 150_000;

const home = mkdtempSync(join(tmpdir(), 'ase-mongosh-home-'));
const servers: ServerProcess[] = [];
const dirs: string[] = [home];
let certificate: TestCertificate | undefined;

afterAll(async () => {
  for (const s of servers) await stopServerProcess(s.child);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  certificate?.remove();
});

async function serve(args: string[]): Promise<ServerProcess> {
  const server = await startServerProcess(['--port', '0', '--wire-port-base', '0', '--log-level', 'warn', ...args],
    { MONGODB_ATLAS_DB_USERNAME: USER, MONGODB_ATLAS_DB_PASSWORD: PASSWORD, ATLAS_STREAMS_SAMPLE_RATE: '50' });
  servers.push(server);
  return server;
}

/** The Admin API with curl --digest (--cacert for a TLS server), as the README shows it. */
function api(server: ServerProcess, path: string, options: { method?: string; accept?: string; body?: unknown } = {}): Promise<{ status: number; text: string; json: any }> {
  const args = ['-s', '--digest', '--user', `${server.publicKey}:${server.privateKey}`, '-H', `Accept: ${options.accept ?? ACCEPT.latest}`,
    '-w', '\n%{http_code}', '-X', options.method ?? 'GET'];
  if (options.body !== undefined) args.push('-H', 'Content-Type: application/json', '-d', JSON.stringify(options.body));
  if (certificate && server.url.startsWith('https')) args.push('--cacert', certificate.certFile);
  return new Promise((resolve, reject) => {
    execFile('curl', [...args, `${server.url}${path}`], (error, stdout) => {
      if (error) return reject(error);
      const lines = stdout.split('\n');
      const status = Number(lines.pop());
      const text = lines.join('\n');
      let json: unknown;
      try { json = JSON.parse(text); } catch { json = undefined; }
      resolve({ status, text, json });
    });
  });
}

/** Creates a workspace with the sample connection; returns its connection string from the emulator route. */
async function workspace(server: ServerProcess, name: string): Promise<string> {
  const created = await api(server, `/api/atlas/v2/groups/${server.projectId}/streams`, {
    method: 'POST', accept: ACCEPT.latest,
    body: { name, dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' }, sampleConnections: { solar: true } },
  });
  expect(created.status, created.text).toBe(200);
  return endpointOf(server, name);
}

async function endpointOf(server: ServerProcess, name: string): Promise<string> {
  const res = await api(server, `/emulator/v1/groups/${server.projectId}/streams/${name}`);
  expect(res.status, res.text).toBe(200);
  expect(res.json.mongosh).toContain(`mongosh "${res.json.connectionString}"`);
  return res.json.connectionString as string;
}

/** Runs mongosh as a user would; resolves with everything it printed and its exit code. */
function mongosh(uri: string, script: string, options: { user?: string; password?: string; extra?: string[] } = {}): Promise<{ out: string; code: number }> {
  const args = [MONGOSH, uri, '--quiet', '--authenticationDatabase', 'admin', '--username', options.user ?? USER,
    '--password', options.password ?? PASSWORD, ...(options.extra ?? []), '--eval', script];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env: { ...process.env, HOME: home }, timeout: SHELL_TIMEOUT_MS }, (error, stdout, stderr) => {
      resolve({ out: `${stdout}${stderr}`, code: error ? Number((error as { code?: number }).code ?? 1) : 0 });
    });
  });
}

let server: ServerProcess;
let uri: string;

beforeAll(async () => {
  server = await serve(['--in-memory']);
  uri = await workspace(server, 'wsshell');
}, 120_000);

describe('mongosh against a stream workspace', () => {
  it('runs the sp life cycle: create, list, stats when CREATED, start, stats counting output, stop, modify, drop', async () => {
    const { out, code } = await mongosh(uri, `
      const pipeline = [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }];
      sp.createStreamProcessor('lifecycle', pipeline);
      print(sp.listStreamProcessors());
      print(sp.lifecycle.stats());
      print('START', sp.lifecycle.start());
      let stats;
      for (let i = 0; i < 150; i++) { stats = sp.lifecycle.stats(); if (String(stats.stats.outputMessageCount) !== '0') break; sleep(200); }
      print('COUNTED', String(stats.stats.outputMessageCount) !== '0', stats.state);
      print('STOP', sp.lifecycle.stop());
      print('STOPPED', sp.lifecycle.stats().state);
      print('MODIFY', sp.lifecycle.modify([pipeline[0], { $addFields: { tagged: true } }, pipeline[1]]));
      print('CONNECTIONS', sp.listConnections());
      try { sp.createStreamProcessor('lifecycle', pipeline); } catch (e) { print('DUPLICATE', e.codeName, e.message); }
      try { sp.ghost.start(); } catch (e) { print('UNKNOWN', e.codeName, e.message); }
      print('DROP', sp.lifecycle.drop());
      print('AFTER', sp.listStreamProcessors().length);
    `);
    expect(code, out).toBe(0);
    expect(out).toContain("name: 'lifecycle'");
    expect(out).toContain("state: 'CREATED'");
    expect(out).toContain('stats: {');
    expect(out).toContain('pipeline: [');
    expect(out).toContain("{ '$source': { connectionName: 'sample_stream_solar' } }");
    expect(out).toContain('START { ok: 1 }');
    expect(out).toContain('COUNTED true STARTED');
    expect(out).toContain('STOP { ok: 1 }');
    expect(out).toContain('STOPPED STOPPED');
    expect(out).toContain('MODIFY { ok: 1 }');
    expect(out).toContain("CONNECTIONS [ { name: 'sample_stream_solar', type: 'inmemory' } ]");
    expect(out).toContain('DUPLICATE CommandFailed A Stream processor with the name lifecycle already exists.');
    expect(out).toContain('UNKNOWN CommandFailed Stream processor with name ghost for stream workspace wsshell not found.');
    expect(out).toContain('DROP { ok: 1 }');
    expect(out).toContain('AFTER 0');
  }, SHELL_TIMEOUT_MS + 30_000);

  it('prints what sp.process outputs and returns when a documents source is used up', async () => {
    const { out, code } = await mongosh(uri,
      "sp.process([{ $source: { documents: [{ n: 1 }, { n: 2 }, { n: 3 }] } }, { $match: { n: { $gte: 2 } } }, { $addFields: { seen: 'by-process' } }])");
    expect(code, out).toBe(0);
    expect(out.match(/seen: 'by-process'/g)).toHaveLength(2);
    expect(out).toContain('n: 2');
    expect(out).toContain('n: 3');
    expect(out).not.toContain('n: 1,');
  }, SHELL_TIMEOUT_MS + 30_000);

  it('refuses a wrong password', async () => {
    const { out, code } = await mongosh(uri, 'print("IN")', { password: 'not-the-password' });
    expect(code).not.toBe(0);
    expect(out).toContain('Authentication failed.');
    expect(out).not.toContain('IN');
  }, SHELL_TIMEOUT_MS + 30_000);

  it('lets a readAnyDatabase user list but not create', async () => {
    const created = await api(server, `/api/atlas/v2/groups/${server.projectId}/databaseUsers`, {
      method: 'POST', accept: 'application/vnd.atlas.2023-01-01+json',
      body: { databaseName: 'admin', groupId: server.projectId, username: 'shell-reader', password: 'shell-reader-pa55word',
        roles: [{ roleName: 'readAnyDatabase', databaseName: 'admin' }] },
    });
    expect(created.status, created.text).toBe(201);
    const { out, code } = await mongosh(uri, `
      print('LISTED', sp.listStreamProcessors().length);
      try { sp.createStreamProcessor('readonly', [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }]); }
      catch (e) { print('REFUSED', e.codeName, e.code); }
    `, { user: 'shell-reader', password: 'shell-reader-pa55word' });
    expect(code, out).toBe(0);
    expect(out).toContain('LISTED 0');
    expect(out).toContain('REFUSED Unauthorized 13');
  }, SHELL_TIMEOUT_MS + 30_000);
});

describe('mongosh over TLS, and across a restart', () => {
  it('connects with --tls to a server started with --tls-cert/--tls-key, and finds its processor again after a restart', async () => {
    certificate = makeTestCertificate();
    const dataDir = mkdtempSync(join(tmpdir(), 'ase-mongosh-data-'));
    dirs.push(dataDir);
    const tlsArgs = ['--data-dir', dataDir, '--tls-cert', certificate.certFile, '--tls-key', certificate.keyFile];
    const first = await serve(tlsArgs);
    const tlsUri = await workspace(first, 'wstls');
    const shellTls = ['--tls', '--tlsCAFile', certificate.certFile];
    const made = await mongosh(tlsUri, "sp.createStreamProcessor('kept', [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }]); print('MADE')", { extra: shellTls });
    expect(made.code, made.out).toBe(0);
    expect(made.out).toContain('MADE');
    const plain = await mongosh(tlsUri, 'print("IN")');
    expect(plain.code).not.toBe(0);

    await stopServerProcess(first.child);
    // The private key is printed on the first start only.
    const second = { ...(await serve(tlsArgs)), privateKey: first.privateKey };
    const again = await endpointOf(second, 'wstls');
    const listed = await mongosh(again, "print('NAMES', sp.listStreamProcessors().map((p) => p.name).join(','))", { extra: shellTls });
    expect(listed.code, listed.out).toBe(0);
    expect(listed.out).toContain('NAMES kept');
  }, 4 * SHELL_TIMEOUT_MS);
});
