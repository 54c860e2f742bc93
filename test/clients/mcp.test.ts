// MongoDB's own MCP server (mongodb-mcp-server), run headless over stdio exactly as an
// AI client would run it, pointed at this server over HTTPS with a service account.
// Every Atlas call it makes is its own code: OAuth client credentials via oauth4webapi,
// then Bearer calls with Accept: application/vnd.atlas.2025-03-12+json.
//
// The environment that works (see docs/connect.md):
//   MDB_MCP_API_BASE_URL=https://127.0.0.1:<port>/
//   MDB_MCP_API_CLIENT_ID=mdb_sa_id_<24 hex>   MDB_MCP_API_CLIENT_SECRET=mdb_sa_sk_...
//   SSL_CERT_FILE=<CA PEM>   (its HTTP stack builds its own CA list from the system store,
//                             which honours SSL_CERT_FILE; NODE_EXTRA_CA_CERTS is ignored)
//   MDB_MCP_TELEMETRY=disabled  DO_NOT_TRACK=1
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, startTestServer, type TestServer } from '../../src/testing/harness.js';
import { makeTestCertificate, type TestCertificate } from '../../src/testing/tls.js';
import { callDigestTls } from './support/tls-call.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const MCP_BIN = join(ROOT, 'node_modules/.bin/mongodb-mcp-server');

const CLIENT_ID = `mdb_sa_id_${randomBytes(12).toString('hex')}`;
const CLIENT_SECRET = `mdb_sa_sk_${randomBytes(24).toString('hex')}`;
const WORKSPACE = 'mcp-workspace';
const BARE_WORKSPACE = 'mcp-bare';
const KAFKA = 'mcp-kafka';
const SAMPLE = 'sample_stream_solar';
const PROCESSOR = 'mcp-processor';
const RUNNING = 'mcp-running';
const POSTING = 'mcp-posting';
const HOOK = 'mcp-hook';
const KAFKA_PASSWORD = `kafka-pw-${randomBytes(6).toString('hex')}`;

interface Seen { method: string; path: string; auth: string; accept: string; contentType: string; status?: number; error?: string }

let cert: TestCertificate;
let server: TestServer;
let client: Client;
let transport: StdioClientTransport;
let home: string;
let mcpStderr = '';
const seen: Seen[] = [];

type ToolResult = { content?: Array<{ type: string; text?: string }>; structuredContent?: any; isError?: boolean };

async function tool(name: string, args: Record<string, unknown>): Promise<ToolResult> {
  return (await client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })) as ToolResult;
}

function text(result: ToolResult): string {
  return (result.content ?? []).map((c) => c.text ?? '').join('\n');
}

/** What the MCP server sent, for failure messages: the request line and what we answered. */
function traffic(): string {
  return seen.map((s) => `${s.method} ${s.path} [${s.auth}; accept=${s.accept}; content-type=${s.contentType}] -> ${s.status ?? '?'}${s.error ? ` ${s.error}` : ''}`).join('\n');
}

/** Fails with the tool's own text and the HTTP exchange when a tool call did not succeed. */
function expectOk(result: ToolResult): void {
  expect(result.isError, `tool failed: ${text(result)}\n--- requests the MCP server made ---\n${traffic()}`).toBeFalsy();
}

const api = (path: string) => `${server.url}/api/atlas/v2/groups/${server.projectId}${path}`;
/** Our own view of the server's state (Digest as the bootstrap owner key); left out of `seen`. */
const get = (path: string, accept: string = ACCEPT.streams) =>
  callDigestTls(api(path), cert.ca, server.owner, { accept, headers: { 'X-Test-Probe': '1' } });

beforeAll(async () => {
  cert = makeTestCertificate();
  server = await startTestServer({
    tlsCert: cert.certFile, tlsKey: cert.keyFile,
    env: { MONGODB_ATLAS_CLIENT_ID: CLIENT_ID, MONGODB_ATLAS_CLIENT_SECRET: CLIENT_SECRET },
  });
  server.app.server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers['x-test-probe']) return;
    const entry: Seen = {
      method: req.method ?? '', path: req.url ?? '',
      auth: (req.headers.authorization ?? 'none').split(' ')[0]!,
      accept: req.headers.accept ?? '', contentType: req.headers['content-type'] ?? '',
    };
    seen.push(entry);
    // Keep the body of error answers, for the failure messages.
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      if (res.statusCode >= 400 && (typeof args[0] === 'string' || Buffer.isBuffer(args[0]))) entry.error = String(args[0]);
      return end(...args);
    }) as ServerResponse['end'];
    res.on('finish', () => { entry.status = res.statusCode; });
  });

  home = mkdtempSync(join(tmpdir(), 'atlas-streams-mcp-home-'));
  transport = new StdioClientTransport({
    command: MCP_BIN,
    args: [],
    cwd: home,
    stderr: 'pipe',
    env: {
      HOME: home,
      MDB_MCP_API_BASE_URL: `${server.url}/`,
      MDB_MCP_API_CLIENT_ID: CLIENT_ID,
      MDB_MCP_API_CLIENT_SECRET: CLIENT_SECRET,
      MDB_MCP_TELEMETRY: 'disabled',
      DO_NOT_TRACK: '1',
      MDB_MCP_LOGGERS: 'stderr',
      MDB_MCP_LOG_PATH: join(home, 'logs'),
      MDB_MCP_EXPORTS_PATH: join(home, 'exports'),
      SSL_CERT_FILE: cert.certFile,
      NODE_EXTRA_CA_CERTS: cert.certFile,
    },
  });
  transport.stderr?.on('data', (chunk: Buffer) => { mcpStderr += chunk.toString('utf8'); });
  // No elicitation capability: the server then runs its confirmation-required tools
  // (atlas-streams-manage, atlas-streams-teardown) without asking.
  client = new Client({ name: 'atlas-streams-emulator-tests', version: '1.0.0' });
  await client.connect(transport);
}, 90_000);

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await server?.close();
  cert?.remove();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('mongodb-mcp-server over HTTPS with a service account', () => {
  it('offers the Atlas streams tools', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining([
      'atlas-list-orgs', 'atlas-list-projects',
      'atlas-streams-discover', 'atlas-streams-build', 'atlas-streams-manage', 'atlas-streams-teardown',
    ]));
  });

  it('gets a token with client credentials and reads the organization', async () => {
    const result = await tool('atlas-list-orgs', {});
    expectOk(result);
    expect(result.structuredContent.organizations).toEqual([{ id: server.orgId, name: 'Local-Organization' }]);
    const token = seen.find((s) => s.path === '/api/oauth/token');
    expect(token).toMatchObject({ method: 'POST', auth: 'Basic', contentType: expect.stringMatching(/^application\/x-www-form-urlencoded/), status: 200 });
    expect(seen.find((s) => s.path.startsWith('/api/atlas/v2/orgs'))).toMatchObject({
      auth: 'Bearer', accept: 'application/vnd.atlas.2025-03-12+json', status: 200,
    });
    expect(mcpStderr).not.toContain('Failed to request access token');
  });

  it('lists the project', async () => {
    const result = await tool('atlas-list-projects', {});
    expectOk(result);
    expect(text(result)).toContain(server.projectId);
  });

  it('finds no workspace at first', async () => {
    const result = await tool('atlas-streams-discover', { projectId: server.projectId, action: 'list-workspaces' });
    expectOk(result);
    expect(result.structuredContent).toEqual({ workspaces: [] });
  });

  it('creates a workspace with the sample connection (POST streams:withSampleConnections)', async () => {
    const result = await tool('atlas-streams-build', {
      projectId: server.projectId, resource: 'workspace', workspaceName: WORKSPACE,
      cloudProvider: 'AWS', region: 'VIRGINIA_USA', tier: 'SP10',
    });
    expectOk(result);
    expect(result.structuredContent).toEqual({ resource: 'workspace' });

    const instance = await get(`/streams/${WORKSPACE}`);
    expect(instance.status).toBe(200);
    expect(instance.json).toMatchObject({
      name: WORKSPACE, groupId: server.projectId,
      dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' },
      streamConfig: { tier: 'SP10' },
    });
    const connections = await get(`/streams/${WORKSPACE}/connections`);
    expect(connections.status).toBe(200);
    expect(connections.json.results.map((c: { name: string; type: string }) => [c.name, c.type])).toEqual([[SAMPLE, 'Sample']]);
  });

  it('creates a bare workspace and adds a Sample connection to it', async () => {
    const created = await tool('atlas-streams-build', {
      projectId: server.projectId, resource: 'workspace', workspaceName: BARE_WORKSPACE,
      cloudProvider: 'AWS', region: 'DUBLIN_IRL', includeSampleData: false,
    });
    expectOk(created);
    const empty = await get(`/streams/${BARE_WORKSPACE}/connections`);
    expect(empty.status).toBe(200);
    expect(empty.json.totalCount).toBe(0);

    const added = await tool('atlas-streams-build', {
      projectId: server.projectId, resource: 'connection', workspaceName: BARE_WORKSPACE,
      connectionName: SAMPLE, connectionType: 'Sample',
    });
    expectOk(added);
    const connection = await get(`/streams/${BARE_WORKSPACE}/connections/${SAMPLE}`);
    expect(connection.status).toBe(200);
    expect(connection.json).toMatchObject({ name: SAMPLE, type: 'Sample' });
  });

  it('creates a Kafka connection, and the password never comes back', async () => {
    const result = await tool('atlas-streams-build', {
      projectId: server.projectId, resource: 'connection', workspaceName: WORKSPACE,
      connectionName: KAFKA, connectionType: 'Kafka',
      connectionConfig: {
        bootstrapServers: ['localhost:9092', 'localhost:9093'],
        authentication: { mechanism: 'PLAIN', username: 'streams-user', password: KAFKA_PASSWORD },
        security: { protocol: 'SASL_SSL' },
      },
    });
    expectOk(result);
    expect(result.structuredContent).toEqual({ resource: 'connection' });

    const connection = await get(`/streams/${WORKSPACE}/connections/${KAFKA}`);
    expect(connection.status).toBe(200);
    expect(connection.json).toMatchObject({
      name: KAFKA, type: 'Kafka', bootstrapServers: 'localhost:9092,localhost:9093',
      authentication: { mechanism: 'PLAIN', username: 'streams-user' },
      security: { protocol: 'SASL_SSL' },
    });
    expect(connection.text).not.toContain(KAFKA_PASSWORD);

    const inspected = await tool('atlas-streams-discover', {
      projectId: server.projectId, action: 'inspect-connection', workspaceName: WORKSPACE, resourceName: KAFKA,
    });
    expectOk(inspected);
    expect(inspected.structuredContent.connection).toMatchObject({ type: 'Kafka', bootstrapServers: 'localhost:9092,localhost:9093' });
    expect(text(inspected)).not.toContain(KAFKA_PASSWORD);
  });

  it('creates a processor from the sample source to Kafka', async () => {
    const pipeline = [
      { $source: { connectionName: SAMPLE } },
      { $match: { obs: { $exists: true } } },
      { $emit: { connectionName: KAFKA, topic: 'solar' } },
    ];
    const result = await tool('atlas-streams-build', {
      projectId: server.projectId, resource: 'processor', workspaceName: WORKSPACE, processorName: PROCESSOR, pipeline,
    });
    expectOk(result);
    expect(text(result)).toContain('Processor created in CREATED state.');

    const processor = await get(`/streams/${WORKSPACE}/processor/${PROCESSOR}`, ACCEPT.processors);
    expect(processor.status).toBe(200);
    expect(processor.json).toMatchObject({ name: PROCESSOR, state: 'CREATED', pipeline });
  });

  it('inspects the workspace, its connections and its processor', async () => {
    const workspaces = await tool('atlas-streams-discover', { projectId: server.projectId, action: 'list-workspaces' });
    expectOk(workspaces);
    expect(workspaces.structuredContent.workspaces).toEqual(expect.arrayContaining([
      { name: WORKSPACE, region: 'AWS/VIRGINIA_USA', tier: 'SP10', maxTier: expect.any(String) },
      expect.objectContaining({ name: BARE_WORKSPACE, region: 'AWS/DUBLIN_IRL' }),
    ]));

    const workspace = await tool('atlas-streams-discover', {
      projectId: server.projectId, action: 'inspect-workspace', workspaceName: WORKSPACE,
    });
    expectOk(workspace);
    expect(workspace.structuredContent.workspace).toMatchObject({ name: WORKSPACE, region: 'AWS/VIRGINIA_USA', connectionCount: 2 });

    const connections = await tool('atlas-streams-discover', {
      projectId: server.projectId, action: 'list-connections', workspaceName: WORKSPACE,
    });
    expectOk(connections);
    expect(connections.structuredContent.connections).toEqual(expect.arrayContaining([
      expect.objectContaining({ name: SAMPLE, type: 'Sample' }),
      expect.objectContaining({ name: KAFKA, type: 'Kafka' }),
    ]));

    const processors = await tool('atlas-streams-discover', {
      projectId: server.projectId, action: 'list-processors', workspaceName: WORKSPACE,
    });
    expectOk(processors);
    expect(processors.structuredContent.processors).toEqual([expect.objectContaining({ name: PROCESSOR, state: 'CREATED' })]);

    const processor = await tool('atlas-streams-discover', {
      projectId: server.projectId, action: 'inspect-processor', workspaceName: WORKSPACE, resourceName: PROCESSOR,
    });
    expectOk(processor);
    expect(processor.structuredContent).toMatchObject({ processorState: 'CREATED' });
    expect(processor.structuredContent.pipeline[0]).toEqual({ $source: { connectionName: SAMPLE } });

    const diagnosis = await tool('atlas-streams-discover', {
      projectId: server.projectId, action: 'diagnose-processor', workspaceName: WORKSPACE, resourceName: PROCESSOR,
    });
    expectOk(diagnosis);
    expect(diagnosis.structuredContent.processorState).toBe('CREATED');
    expect(diagnosis.structuredContent.connectionHealth).toEqual(expect.arrayContaining([
      expect.objectContaining({ name: KAFKA, type: 'Kafka' }),
    ]));
  });

  it('modifies the stopped processor (PATCH) and reports a missing one as not found', async () => {
    const pipeline = [
      { $source: { connectionName: SAMPLE } },
      { $match: { 'obs.watts': { $gt: 100 } } },
      { $emit: { connectionName: KAFKA, topic: 'solar-high' } },
    ];
    const modified = await tool('atlas-streams-manage', {
      projectId: server.projectId, workspaceName: WORKSPACE, action: 'modify-processor', resourceName: PROCESSOR, pipeline,
    });
    expectOk(modified);
    const processor = await get(`/streams/${WORKSPACE}/processor/${PROCESSOR}`, ACCEPT.processors);
    expect(processor.json.pipeline).toEqual(pipeline);

    const missing = await tool('atlas-streams-discover', {
      projectId: server.projectId, action: 'inspect-processor', workspaceName: WORKSPACE, resourceName: 'no-such-processor',
    });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toMatch(/^Resource not found: \[404 Not Found\]/);
  });

  it('moves a workspace to another region with atlas-streams-manage (PATCH)', async () => {
    const region = await tool('atlas-streams-manage', {
      projectId: server.projectId, workspaceName: BARE_WORKSPACE, action: 'update-workspace', newRegion: 'FRANKFURT_DEU',
    });
    expectOk(region);
    expect(region.structuredContent).toEqual({ region: 'AWS/FRANKFURT_DEU' });
    expect((await get(`/streams/${BARE_WORKSPACE}`)).json.dataProcessRegion).toEqual({ cloudProvider: 'AWS', region: 'FRANKFURT_DEU' });
  });

  it('changes a workspace tier with atlas-streams-manage (PATCH with streamConfig)', async () => {
    const tier = await tool('atlas-streams-manage', {
      projectId: server.projectId, workspaceName: BARE_WORKSPACE, action: 'update-workspace', newTier: 'SP30',
    });
    expectOk(tier);
    expect((await get(`/streams/${BARE_WORKSPACE}`)).json.streamConfig).toMatchObject({ tier: 'SP30' });
  });

  it('starts, watches, stops and starts again a processor with atlas-streams-manage (POST :start, :stop)', async () => {
    // Made through our API: the MCP tool only accepts pipelines that end in a sink it can
    // see among the connections, and the built-in __testLog sink is not one.
    const created = await callDigestTls(api(`/streams/${BARE_WORKSPACE}/processor`), cert.ca, server.owner, {
      method: 'POST', accept: ACCEPT.processors, headers: { 'X-Test-Probe': '1' },
      body: { name: RUNNING, pipeline: [{ $source: { connectionName: SAMPLE } }, { $emit: { connectionName: '__testLog' } }] },
    });
    expect(created.status, created.text).toBe(200);

    const started = await tool('atlas-streams-manage', {
      projectId: server.projectId, workspaceName: BARE_WORKSPACE, action: 'start-processor', resourceName: RUNNING,
    });
    expectOk(started);
    expect(started.structuredContent).toEqual({ processorState: 'STARTED' });
    expect((await get(`/streams/${BARE_WORKSPACE}/processor/${RUNNING}`, ACCEPT.processors)).json.state).toBe('STARTED');

    // The sample source produces continuously; wait (bounded) until the stats show it.
    let diagnosis: ToolResult | undefined;
    for (let i = 0; i < 100; i++) {
      diagnosis = await tool('atlas-streams-discover', {
        projectId: server.projectId, action: 'diagnose-processor', workspaceName: BARE_WORKSPACE, resourceName: RUNNING,
      });
      if ((diagnosis.structuredContent?.stats?.inputMessageCount ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expectOk(diagnosis!);
    expect(diagnosis!.structuredContent.processorState).toBe('STARTED');
    expect(diagnosis!.structuredContent.stats.inputMessageCount).toBeGreaterThan(0);

    const stopped = await tool('atlas-streams-manage', {
      projectId: server.projectId, workspaceName: BARE_WORKSPACE, action: 'stop-processor', resourceName: RUNNING,
    });
    expectOk(stopped);
    expect(stopped.structuredContent).toEqual({ processorState: 'STOPPED' });
    expect((await get(`/streams/${BARE_WORKSPACE}/processor/${RUNNING}`, ACCEPT.processors)).json.state).toBe('STOPPED');

    const again = await tool('atlas-streams-manage', {
      projectId: server.projectId, workspaceName: BARE_WORKSPACE, action: 'start-processor', resourceName: RUNNING,
    });
    expectOk(again);
    expect((await get(`/streams/${BARE_WORKSPACE}/processor/${RUNNING}`, ACCEPT.processors)).json.state).toBe('STARTED');
    const stoppedAgain = await tool('atlas-streams-manage', {
      projectId: server.projectId, workspaceName: BARE_WORKSPACE, action: 'stop-processor', resourceName: RUNNING,
    });
    expectOk(stoppedAgain);
  });

  it('restarts a stopped processor from the beginning with atlas-streams-manage (POST :startWith {resumeFromCheckpoint})', async () => {
    const restarted = await tool('atlas-streams-manage', {
      projectId: server.projectId, workspaceName: BARE_WORKSPACE, action: 'start-processor', resourceName: RUNNING, resumeFromCheckpoint: false,
    });
    expectOk(restarted);
    expect(seen.some((s) => s.method === 'POST' && s.path.endsWith(`/processor/${RUNNING}:startWith`) && s.status === 200), traffic()).toBe(true);
    expect((await get(`/streams/${BARE_WORKSPACE}/processor/${RUNNING}`, ACCEPT.processors)).json.state).toBe('STARTED');
  });

  it('deploys a processor through its tools with only what the emulator provides: sample source, $https to a local endpoint', async () => {
    const posted: unknown[] = [];
    const endpoint = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (chunk: Buffer) => { body += chunk.toString('utf8'); });
      req.on('end', () => { posted.push(JSON.parse(body)); res.writeHead(200, { 'content-type': 'application/json' }); res.end('{}'); });
    });
    await new Promise<void>((done) => endpoint.listen(0, '127.0.0.1', done));
    try {
      const url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/in`;
      const connection = await tool('atlas-streams-build', {
        projectId: server.projectId, resource: 'connection', workspaceName: BARE_WORKSPACE, connectionName: HOOK, connectionType: 'Https',
        connectionConfig: { url },
      });
      expectOk(connection);
      const pipeline = [{ $source: { connectionName: SAMPLE } }, { $https: { connectionName: HOOK, onError: 'ignore' } }];
      const built = await tool('atlas-streams-build', {
        projectId: server.projectId, resource: 'processor', workspaceName: BARE_WORKSPACE, processorName: POSTING, pipeline,
      });
      expectOk(built);
      const started = await tool('atlas-streams-manage', {
        projectId: server.projectId, workspaceName: BARE_WORKSPACE, action: 'start-processor', resourceName: POSTING,
      });
      expectOk(started);
      expect(started.structuredContent).toEqual({ processorState: 'STARTED' });
      // The sample source produces continuously; wait (bounded) for the endpoint to hear from it.
      for (let i = 0; i < 100 && posted.length === 0; i++) await new Promise((r) => setTimeout(r, 200));
      expect(posted.length, traffic()).toBeGreaterThan(0);
      expect(posted[0]).toMatchObject({ device_id: expect.any(String), obs: expect.any(Object) });
      const stopped = await tool('atlas-streams-manage', {
        projectId: server.projectId, workspaceName: BARE_WORKSPACE, action: 'stop-processor', resourceName: POSTING,
      });
      expectOk(stopped);
    } finally {
      await new Promise<void>((done) => endpoint.close(() => done()));
    }
  });

  it('tears down a processor, a connection, and the workspaces with their stopped processors', async () => {
    const processor = await tool('atlas-streams-teardown', {
      projectId: server.projectId, resource: 'processor', workspaceName: WORKSPACE, resourceName: PROCESSOR,
    });
    expectOk(processor);
    expect((await get(`/streams/${WORKSPACE}/processor/${PROCESSOR}`, ACCEPT.processors)).status).toBe(404);

    // The running processor is stopped, not deleted: a workspace whose processors are all
    // inactive goes with them (below), as the tool tells its users.
    const stopped = await tool('atlas-streams-manage', {
      projectId: server.projectId, workspaceName: BARE_WORKSPACE, action: 'stop-processor', resourceName: RUNNING,
    });
    expectOk(stopped);
    expect((await get(`/streams/${BARE_WORKSPACE}/processor/${RUNNING}`, ACCEPT.processors)).json.state).toBe('STOPPED');

    // With no processor left using it, the Kafka connection can change (PATCH replaces it).
    const updated = await tool('atlas-streams-manage', {
      projectId: server.projectId, workspaceName: WORKSPACE, action: 'update-connection', resourceName: KAFKA,
      connectionConfig: {
        bootstrapServers: 'broker-a:9092',
        authentication: { mechanism: 'SCRAM-256', username: 'streams-user', password: KAFKA_PASSWORD },
        security: { protocol: 'SASL_SSL' },
      },
    });
    expectOk(updated);
    expect(updated.structuredContent).toEqual({ connectionState: 'READY' });
    const stored = await get(`/streams/${WORKSPACE}/connections/${KAFKA}`);
    expect(stored.json).toMatchObject({ name: KAFKA, type: 'Kafka', bootstrapServers: 'broker-a:9092', authentication: { mechanism: 'SCRAM-256' } });
    expect(stored.text).not.toContain(KAFKA_PASSWORD);

    const connection = await tool('atlas-streams-teardown', {
      projectId: server.projectId, resource: 'connection', workspaceName: WORKSPACE, resourceName: KAFKA,
    });
    expectOk(connection);
    const gone = await get(`/streams/${WORKSPACE}/connections/${KAFKA}`);
    expect(gone.status).toBe(404);
    expect(gone.json.errorCode).toBe('STREAM_CONNECTION_NOT_FOUND_FOR_NAME');

    for (const name of [WORKSPACE, BARE_WORKSPACE]) {
      const workspace = await tool('atlas-streams-teardown', { projectId: server.projectId, resource: 'workspace', workspaceName: name });
      expectOk(workspace);
      // The bare workspace still held its stopped processor and its sample connection.
      if (name === BARE_WORKSPACE) expect(workspace.structuredContent).toMatchObject({ resource: 'workspace', processorsRemoved: 2, connectionsRemoved: 2 });
      const after = await get(`/streams/${name}`);
      expect(after.status).toBe(404);
      expect(after.json.errorCode).toBe('STREAM_TENANT_NOT_FOUND_FOR_NAME');
    }
    const list = await get('/streams');
    expect(list.status).toBe(200);
    expect(list.json.totalCount).toBe(0);
  });

  it('revokes its token when it shuts down, and every call it made was Bearer or Basic', async () => {
    await client.close();
    // The MCP server revokes its token while closing; give the child a moment to finish.
    for (let i = 0; i < 50 && !seen.some((s) => s.path === '/api/oauth/revoke' && s.status !== undefined); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen.find((s) => s.path === '/api/oauth/revoke'), traffic()).toMatchObject({ method: 'POST', auth: 'Basic', status: 200 });
    const apiCalls = seen.filter((s) => s.path.startsWith('/api/atlas/'));
    expect(apiCalls.length).toBeGreaterThan(0);
    expect(apiCalls.every((s) => s.auth === 'Bearer')).toBe(true);
    expect(seen.filter((s) => s.status === 401), traffic()).toEqual([]);
  });
});
