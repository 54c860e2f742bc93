// Issue 8 item 8: inputs that used to answer 500. Deep JSON anywhere gets 400 INVALID_JSON
// before any recursive code sees it; dates past what a Date can hold are just far away.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { MAX_DEFINITION_DEPTH } from '../../src/engine/limits.js';
import { MAX_JSON_DEPTH } from '../../src/http/json-body.js';
import { operations } from '../../src/protocol/generated/operations.js';
import { ACCEPT, callDigest, startTestServer, type CallResult, type TestServer } from '../../src/testing/harness.js';
import { expectError, streamsPath } from '../streams-fixtures.js';

let server: TestServer;
const GZIP = 'application/vnd.atlas.2023-02-01+gzip';
beforeAll(async () => {
  server = await startTestServer({ logLevel: 'warn' });
  const res = await call(streamsPath(server.projectId, ':withSampleConnections'), {
    method: 'POST', accept: 'application/vnd.atlas.2024-08-05+json',
    body: { name: 'deep', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } },
  });
  expect(res.status, res.text).toBe(200);
});
afterAll(async () => { await server.close(); });

function call(path: string, options: Parameters<typeof callDigest>[2] = {}): Promise<CallResult> {
  return callDigest(`${server.url}${path}`, server.owner, options);
}

const nestedArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const nestedObject = (depth: number, inner = '1') => '{"a":'.repeat(depth) + inner + '}'.repeat(depth);

describe('downloadAuditLogs date bounds', () => {
  it('answers 200 with the trail for an endDate past the last representable date', async () => {
    for (const endDate of ['99999999999999', '9223372036854775807']) {
      const res = await call(`${streamsPath(server.projectId, '/deep/auditLogs')}?endDate=${endDate}`, { accept: GZIP });
      expect(res.status, res.text).toBe(200);
    }
  });

  it('still finds the calls made so far when the range reaches far past them', async () => {
    const res = await fetch(`${server.url}${streamsPath(server.projectId, '/deep/auditLogs')}?startDate=0&endDate=99999999999999`, {
      headers: { Accept: GZIP, Authorization: await digestHeader(`${streamsPath(server.projectId, '/deep/auditLogs')}?startDate=0&endDate=99999999999999`) },
    });
    expect(res.status).toBe(200);
    const lines = gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8').split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
  });
});

async function digestHeader(path: string): Promise<string> {
  const { digestAuthorization, callAnonymous } = await import('../../src/testing/harness.js');
  const first = await callAnonymous(`${server.url}${path}`);
  const nonce = /nonce="([^"]+)"/.exec(first.headers.get('www-authenticate') ?? '')![1]!;
  return digestAuthorization(`${server.url}${path}`, 'GET', server.owner, nonce);
}

describe('deeply nested values', () => {
  it('a deeply nested connection type: 400, never 500', async () => {
    for (const type of [nestedArray(5_000), nestedObject(5_000), '[[["Kafka"]]]', '{"Kafka":1}']) {
      const res = await call(streamsPath(server.projectId, '/deep/connections'), {
        method: 'POST', accept: ACCEPT.streams, body: `{"name":"c1","type":${type}}`,
      });
      expect(res.status, res.text.slice(0, 200)).toBe(400);
      expect(['INVALID_JSON', 'INVALID_JSON_ATTRIBUTE']).toContain(res.json?.errorCode);
    }
  });

  it('a pipeline nested thousands of levels deep: 400 INVALID_JSON', async () => {
    for (const inner of [nestedObject(5_000), nestedArray(5_000), `{"$and":${nestedArray(3_000)}}`]) {
      const pipeline = `[{"$source":{"connectionName":"sample_stream_solar"}},{"$match":${inner}},{"$emit":{"connectionName":"__testLog"}}]`;
      const res = await call(streamsPath(server.projectId, '/deep/processor'), {
        method: 'POST', accept: ACCEPT.processors, body: `{"name":"p1","pipeline":${pipeline}}`,
      });
      expectError(res, 400, 'INVALID_JSON');
    }
  });

  it(`accepts a $match as deep as the engine takes (${MAX_DEFINITION_DEPTH} levels); a deeper one within ${MAX_JSON_DEPTH} JSON levels gets the engine's refusal, not a JSON error`, async () => {
    const depthOf = (text: string) => { let d = 0, max = 0; for (const c of text) { if (c === '{' || c === '[') max = Math.max(max, ++d); else if (c === '}' || c === ']') d--; } return max; };
    const body = (name: string, levels: number) =>
      `{"name":"${name}","pipeline":[{"$source":{"connectionName":"sample_stream_solar"}},{"$match":${nestedObject(levels)}},{"$emit":{"connectionName":"__testLog"}}]}`;
    // The pipeline array and the stage are two levels before the $match document's own.
    const legit = await call(streamsPath(server.projectId, '/deep/processor'), { method: 'POST', accept: ACCEPT.processors, body: body('legit', MAX_DEFINITION_DEPTH - 2) });
    expect(legit.status, legit.text.slice(0, 300)).toBe(200);
    // The request body adds one more level: exactly the deepest JSON the HTTP layer reads.
    const deeper = body('deeper', MAX_JSON_DEPTH - 3);
    expect(depthOf(deeper)).toBe(MAX_JSON_DEPTH);
    const refused = await call(streamsPath(server.projectId, '/deep/processor'), { method: 'POST', accept: ACCEPT.processors, body: deeper });
    expectError(refused, 400, 'STREAM_PROCESSOR_GENERIC_ERROR');
  });

  it('deep JSON to every operation that takes a body: 400 INVALID_JSON, Atlas-shaped', async () => {
    const ids = (name: string) => (name === 'orgId' ? server.orgId : name === 'groupId' ? server.projectId : name === 'tenantName' ? 'deep' : 'missing');
    for (const op of operations.filter((o) => o.requestBody)) {
      const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => ids(name));
      for (const body of [nestedArray(10_000), nestedObject(10_000), `{"name":"x","type":${nestedArray(10_000)}}`]) {
        const res = await call(path, { method: op.method, accept: `application/vnd.atlas.${op.versions.at(-1)}+json`, body });
        // A malformed path id is refused before the body is read; otherwise the depth is what is wrong.
        const early = ['INVALID_API_KEY_ID', 'INVALID_PATH_PARAMETER'].includes(res.json?.errorCode);
        expect({ op: op.operationId, status: res.status, errorCode: early ? 'INVALID_JSON' : res.json?.errorCode })
          .toEqual({ op: op.operationId, status: 400, errorCode: 'INVALID_JSON' });
      }
    }
  });
});
