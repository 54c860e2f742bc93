// Issue 8, residual of item 10: no request may make the API thread load unbounded data (one
// huge allocation could abort the V8 process every worker shares). Every list of a workspace's
// processors or connections (and every processor start, which reads all connections) loads
// all of that kind at once, so what one workspace may store is bounded: 64 MiB of processors
// (3 of the largest pipelines), 16 MiB of connections; a write past the bound is refused with
// a 400 and leaves nothing behind. A log download holds at most 16 MiB of lines, the oldest of
// its window; the rest is had by asking again from the last line's time.
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditScope } from '../../src/domain/streams/audit-logs.js';
import { MAX_LOG_DOWNLOAD_BYTES } from '../../src/domain/streams/log-window.js';
import { MAX_BODY_BYTES, MAX_OTHER_BODY_BYTES } from '../../src/http/body.js';
import { WORKSPACE_STORAGE_BYTES } from '../../src/domain/streams/common.js';
import { ACCEPT, callAnonymous, callDigest, digestAuthorization, startTestServer, type TestServer } from '../../src/testing/harness.js';

let server: TestServer;
const workspace = () => `/api/atlas/v2/groups/${server.projectId}/streams/bounded`;

beforeAll(async () => {
  server = await startTestServer();
  const created = await callDigest(`${server.url}/api/atlas/v2/groups/${server.projectId}/streams:withSampleConnections`, server.owner, {
    method: 'POST', accept: 'application/vnd.atlas.2024-08-05+json', body: { name: 'bounded', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } },
  });
  expect(created.status, created.text).toBe(200);
});
afterAll(async () => { await server.close(); });

/** A processor body just under the request limit: a valid pipeline with an $in list of long strings (quick to parse). */
function largestProcessorBody(name: string): string {
  const items = Array.from({ length: Math.floor(MAX_BODY_BYTES / 65536) - 1 }, (_, i) => `${i}`.padEnd(65530, '.'));
  return JSON.stringify({ name, pipeline: [
    { $source: { connectionName: 'sample_stream_solar' } }, { $match: { k: { $in: items } } }, { $emit: { connectionName: '__testLog' } },
  ] });
}

async function names(what: 'processors' | 'connections'): Promise<string[]> {
  const res = await callDigest(`${server.url}${workspace()}/${what}?itemsPerPage=500`, server.owner, { accept: what === 'processors' ? ACCEPT.processors : ACCEPT.latest });
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  return res.json.results.map((item: { name: string }) => item.name);
}

function expectRefused(res: { status: number; json: any; text: string }, what: string, limit: number): void {
  expect({ status: res.status, errorCode: res.json?.errorCode, parameters: res.json?.parameters }, res.text.slice(0, 300))
    .toEqual({ status: 400, errorCode: 'STREAM_WORKSPACE_STORAGE_EXCEEDED', parameters: [what, 'bounded', limit] });
}

describe('what one workspace may store', () => {
  it(`processors: past ${WORKSPACE_STORAGE_BYTES.processors} bytes together, a create or an update is refused and nothing is kept`, async () => {
    const processors = `${server.url}${workspace()}/processor`;
    const small = await callDigest(processors, server.owner, { method: 'POST', accept: ACCEPT.processors, body: {
      name: 'small', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }],
    } });
    expect(small.status, small.text).toBe(200);
    const fit = Math.floor(WORKSPACE_STORAGE_BYTES.processors / MAX_BODY_BYTES);
    for (let i = 0; i < fit; i++) {
      const res = await callDigest(processors, server.owner, { method: 'POST', accept: ACCEPT.processors, body: largestProcessorBody(`large-${i}`) });
      expect(res.status, res.text.slice(0, 300)).toBe(200);
    }
    expectRefused(await callDigest(processors, server.owner, { method: 'POST', accept: ACCEPT.processors, body: largestProcessorBody('one-too-many') }),
      'processors', WORKSPACE_STORAGE_BYTES.processors);
    expectRefused(await callDigest(`${processors}/small`, server.owner, { method: 'PATCH', accept: ACCEPT.processors, body: largestProcessorBody('small') }),
      'processors', WORKSPACE_STORAGE_BYTES.processors);
    expect(await names('processors')).toEqual(['small', ...Array.from({ length: fit }, (_, i) => `large-${i}`)]);
    const kept = await callDigest(`${processors}/small`, server.owner, { accept: ACCEPT.processors });
    expect(kept.json.pipeline).toHaveLength(2);
  }, 300_000);

  it(`connections: past ${WORKSPACE_STORAGE_BYTES.connections} bytes together, a create is refused and nothing is kept`, async () => {
    const padding = 'x'.repeat(MAX_OTHER_BODY_BYTES - 4096);
    const fit = Math.floor(WORKSPACE_STORAGE_BYTES.connections / MAX_OTHER_BODY_BYTES);
    for (let i = 0; i < fit; i++) {
      const res = await callDigest(`${server.url}${workspace()}/connections`, server.owner, { method: 'POST', body: {
        name: `kafka-${i}`, type: 'Kafka', bootstrapServers: 'localhost:9092', config: { 'client.id': padding },
      } });
      expect(res.status, res.text.slice(0, 300)).toBe(200);
    }
    expectRefused(await callDigest(`${server.url}${workspace()}/connections`, server.owner, { method: 'POST', body: {
      name: 'one-too-many', type: 'Kafka', bootstrapServers: 'localhost:9092', config: { 'client.id': padding },
    } }), 'connections', WORKSPACE_STORAGE_BYTES.connections);
    expect(await names('connections')).not.toContain('one-too-many');
    expect((await names('connections')).filter((n) => n.startsWith('kafka-'))).toHaveLength(fit);
    // A page is at most the spec's 500 items.
    const tooLong = await callDigest(`${server.url}${workspace()}/connections?itemsPerPage=501`, server.owner, {});
    expect(tooLong.status).toBe(400);
  }, 300_000);
});

describe('log downloads', () => {
  it(`hold at most ${MAX_LOG_DOWNLOAD_BYTES} bytes of lines: the oldest of the window, the rest from the last line's time on`, async () => {
    // 32 MiB of trail, one line a second from now on; each line carries a 16 KiB path, as long as a request line may be.
    const startSeconds = Math.ceil(Date.now() / 1000) + 1;
    const lines = 2 * MAX_LOG_DOWNLOAD_BYTES / (16 * 1024);
    for (let i = 0; i < lines; i++) {
      server.app.store.journal(auditScope(server.projectId, 'bounded'), {
        at: new Date((startSeconds + i) * 1000).toISOString(), principal: 'planted', operationId: 'getStreamProcessor', method: 'GET',
        path: `${workspace()}/processor/${String(i).padEnd(16 * 1024, '.')}`, status: 404,
      });
    }
    const download = async (from: number): Promise<Array<{ at: string; path: string }>> => {
      const path = `${workspace()}/auditLogs?startDate=${from}&endDate=${startSeconds + lines}`;
      const challenge = await callAnonymous(`${server.url}${path}`);
      const nonce = /nonce="([^"]+)"/.exec(challenge.headers.get('www-authenticate') ?? '')![1]!;
      const res = await fetch(`${server.url}${path}`, {
        headers: { Accept: 'application/vnd.atlas.2023-02-01+gzip', Authorization: digestAuthorization(`${server.url}${path}`, 'GET', server.owner, nonce) },
      });
      expect(res.status).toBe(200);
      const text = gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8');
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_LOG_DOWNLOAD_BYTES);
      return text.trimEnd().split('\n').map((line) => JSON.parse(line));
    };
    const first = await download(startSeconds);
    expect(first.length).toBeGreaterThan(lines / 3);
    expect(first.length).toBeLessThan(lines);
    expect(first.map((e) => e.at)).toEqual(Array.from({ length: first.length }, (_, i) => new Date((startSeconds + i) * 1000).toISOString()));
    const next = await download(startSeconds + first.length);
    expect(next[0]!.path).toBe(`${workspace()}/processor/${String(first.length).padEnd(16 * 1024, '.')}`);
  }, 120_000);
});
