// Planted secrets (connection passwords, Kafka SASL and its config, Https headers, a
// Cluster connection string, API private keys, service account secrets) are searched for
// in every response, every log line, the audit-log download and every file of the data
// directory, after processors that use them have run and failed.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operations } from '../../src/protocol/generated/operations.js';
import { ACCEPT, callDigest, startTestServer, type CallOptions, type TestServer } from '../../src/testing/harness.js';
import { dataFiles } from './support/data-files.js';
import { createVictim, fillPath, PLANTED, victimParam, type Victim } from './support/victim.js';

let server: TestServer;
let victim: Victim;
const dataDir = mkdtempSync(join(tmpdir(), 'ase-secrets-'));
/** Every response body (and its headers) the test saw, creation responses included. */
const responses: string[] = [];
let auditLog = '';

async function call(path: string, options: CallOptions = {}): Promise<{ status: number; text: string }> {
  const res = await callDigest(`${server.url}${path}`, victim.owner, { accept: ACCEPT.latest, ...options });
  responses.push(`${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${res.text}`);
  return res;
}

beforeAll(async () => {
  server = await startTestServer({ inMemory: false, dataDir, logLevel: 'debug' });
  victim = await createVictim(server, responses);
  const streams = `/api/atlas/v2/groups/${victim.groupId}/streams/${victim.tenantName}`;
  // Processors that hand the secrets to the engine and fail with them: Kafka that is not
  // there, an Https endpoint that refuses, a Cluster that does not answer.
  const pipelines: Record<string, unknown[]> = {
    'uses-kafka': [{ $source: { connectionName: 'victim-kafka', topic: 't' } }, { $emit: { connectionName: '__testLog' } }],
    'uses-https': [{ $source: { connectionName: 'sample_stream_solar' } }, { $https: { connectionName: 'victim-https', onError: 'fail' } }, { $emit: { connectionName: '__testLog' } }],
  };
  for (const [name, pipeline] of Object.entries(pipelines)) {
    await call(`${streams}/processor`, { method: 'POST', accept: ACCEPT.processors, body: { name, pipeline } });
    await call(`${streams}/processor/${name}:start`, { method: 'POST', accept: ACCEPT.processors });
  }
  await new Promise((r) => setTimeout(r, 3_000));
  for (const name of Object.keys(pipelines)) {
    await call(`${streams}/processor/${name}`, { accept: ACCEPT.processors });
    await call(`${streams}/processor/${name}:stop`, { method: 'POST', accept: ACCEPT.processors });
  }
  // Every read the spec offers on B, with B's own owner key (the most any caller can see).
  for (const op of operations.filter((o) => o.method === 'GET' && /\{(groupId|orgId)\}/.test(o.path))) {
    const path = fillPath(op, (n) => victimParam(victim, n, op));
    await call(`${path}${op.path.endsWith('/streams') ? '?includeConnections=true' : ''}`, { accept: `application/vnd.atlas.${op.versions.at(-1)}+${op.format}` });
    if (op.operationId === 'getStreamWorkspace') await call(`${path}?includeConnections=true`, { accept: `application/vnd.atlas.${op.versions.at(-1)}+json` });
  }
  const audit = await fetch(`${server.url}${streams}/auditLogs?startDate=0`, {
    headers: { Accept: 'application/vnd.atlas.2023-02-01+gzip', Authorization: await digestFor(`${streams}/auditLogs?startDate=0`) },
  });
  expect(audit.status).toBe(200);
  auditLog = gunzipSync(Buffer.from(await audit.arrayBuffer())).toString('utf8');
  await server.close();
}, 120_000);
afterAll(() => { rmSync(dataDir, { recursive: true, force: true }); });

async function digestFor(path: string): Promise<string> {
  const { callAnonymous, digestAuthorization } = await import('../../src/testing/harness.js');
  const first = await callAnonymous(`${server.url}${path}`);
  const nonce = /nonce="([^"]+)"/.exec(first.headers.get('www-authenticate') ?? '')![1]!;
  return digestAuthorization(`${server.url}${path}`, 'GET', victim.owner, nonce);
}

/** Secrets the caller chose: no response, log, audit line or file may ever hold them. */
const planted = (): Record<string, string> => ({
  ...PLANTED,
  // The password inside the Cluster connection string, on its own.
  clusterPassword: /:([^:@]+)@/.exec(PLANTED.clusterConnectionString)![1]!,
  ownerPrivateKey: victim.owner.privateKey,
});

function where(secret: string): string[] {
  const found: string[] = [];
  responses.forEach((text, i) => { if (text.includes(secret)) found.push(`response #${i}`); });
  server.logs.forEach((line, i) => { if (line.includes(secret)) found.push(`log line #${i}: ${line.slice(0, 160)}`); });
  if (auditLog.includes(secret)) found.push('audit log');
  for (const file of dataFiles(dataDir)) {
    if (file.bytes.includes(Buffer.from(secret, 'utf8'))) found.push(`file ${file.name}`);
  }
  return found;
}

describe('planted secrets', () => {
  it('saw enough to mean something: responses, logs of failing processors, an audit trail, a database', () => {
    expect(responses.length).toBeGreaterThan(40);
    expect(server.logs.length).toBeGreaterThan(40);
    expect(auditLog.split('\n').length).toBeGreaterThan(5);
    expect(readdirSync(dataDir)).toContain('atlas-streams.db');
  });

  for (const name of [...Object.keys(PLANTED), 'clusterPassword', 'ownerPrivateKey']) {
    it(`${name} appears in no response, log line, audit line or data file`, () => {
      expect(where(planted()[name]!)).toEqual([]);
    });
  }

  it('generated API private keys and service account secrets appear once, in their creation response, and nowhere else', () => {
    for (const secret of victim.generated.slice(1)) {
      expect(responses.filter((text) => text.includes(secret))).toHaveLength(1);
      expect(where(secret).filter((w) => !w.startsWith('response'))).toEqual([]);
    }
  });
});
