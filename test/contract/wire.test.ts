// Wire details byte for byte where BEHAVIOUR.md gives them: the Digest challenge, error bodies,
// 202 `{}`, 204 without body, pretty (Jackson), envelope, pagination links, rate-limit headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, callAnonymous, digestClient, type Client } from '../../src/testing/harness.js';
import { CHALLENGE_BODY_TEXT, CHALLENGE_HEADER, makeWorld, setupClient, V2, type World } from './framework.js';

let w: World;
let raw: Client;
let groupId: string;

beforeAll(async () => {
  w = await makeWorld();
  raw = digestClient(w.server, w.server.owner);
  // A project of its own, so list counts are exact.
  const res = await setupClient(w).call(`${V2}/groups`, { method: 'POST', body: { name: 'wire-project', orgId: w.orgId } });
  groupId = res.json.id;
  for (const name of ['a1', 'a2', 'a3']) {
    const made = await setupClient(w).call(`${V2}/groups/${groupId}/streams`, { method: 'POST', body: { name, dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } } });
    expect(made.status, made.text).toBe(200);
  }
});
afterAll(async () => { await w?.server.close(); });

const streams = (rest = '') => `${V2}/groups/${groupId}/streams${rest}`;

describe('Digest challenge', () => {
  it('[getSystemStatus] 401 challenge header and body byte for byte', async () => {
    const res = await callAnonymous(`${w.server.url}${V2}`, { accept: ACCEPT.identity });
    expect(res.status).toBe(401);
    const header = res.headers.get('www-authenticate')!;
    expect(header).toMatch(CHALLENGE_HEADER);
    // The Go client splits on ", " and rejects unknown keys: exactly these six, in this order.
    expect(header.slice('Digest '.length).split(', ').map((p) => p.split('=')[0])).toEqual(['realm', 'domain', 'nonce', 'algorithm', 'qop', 'stale']);
    expect(res.text).toBe(CHALLENGE_BODY_TEXT);
  });

  it('[getSystemStatus] success with SHA-256 as well as MD5', async () => {
    const { callDigest } = await import('../../src/testing/harness.js');
    const sha = await callDigest(`${w.server.url}${V2}`, w.server.owner, { accept: ACCEPT.identity }, 'SHA-256');
    expect(sha.status).toBe(200);
  });
});

describe('error bodies', () => {
  it('[getStreamWorkspace] 404 STREAM_TENANT_NOT_FOUND_FOR_NAME is compact, sorted, with parameters, reason and X-Error-Code', async () => {
    const res = await raw.call(streams('/nope'));
    expect(res.text).toBe(`{"detail":"Stream instance for project ${groupId} and name nope not found.","error":404,"errorCode":"STREAM_TENANT_NOT_FOUND_FOR_NAME","parameters":["${groupId}","nope"],"reason":"Not Found"}`);
    expect(res.headers.get('x-error-code')).toBe('STREAM_TENANT_NOT_FOUND_FOR_NAME');
    expect(res.headers.get('content-type')).toBe('application/json');
  });

  it('[getGroup] 404 GROUP_NOT_FOUND byte for byte', async () => {
    const res = await raw.call(`${V2}/groups/111111111111111111111111`, { accept: ACCEPT.identity });
    expect(res.text).toBe('{"detail":"No group with ID 111111111111111111111111 exists.","error":404,"errorCode":"GROUP_NOT_FOUND","parameters":["111111111111111111111111"],"reason":"Not Found"}');
  });

  it('[createStreamWorkspace] 400 MALFORMED_JSON byte for byte, with an empty parameters list', async () => {
    const res = await raw.call(streams(), { method: 'POST', body: '{"name":' });
    expect(res.text).toBe('{"detail":"Received JSON is malformed.","error":400,"errorCode":"MALFORMED_JSON","parameters":[],"reason":"Bad Request"}');
  });

  it('[createStreamWorkspace] 401 USER_UNAUTHORIZED byte for byte', async () => {
    const res = await digestClient(w.server, w.personas.projectReadOnly).call(`${V2}/groups/${w.groupId}/streams`, { method: 'POST', body: { name: 'x', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } } });
    expect(res.text).toBe('{"detail":"Current user is not authorized to perform this action.","error":401,"errorCode":"USER_UNAUTHORIZED","parameters":[],"reason":"Unauthorized"}');
  });
});

describe('empty bodies', () => {
  it('[deleteStreamWorkspace] 202 is exactly {} with the versioned type', async () => {
    await setupClient(w).call(streams(), { method: 'POST', body: { name: 'gone', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } } });
    const res = await raw.call(streams('/gone'), { method: 'DELETE' });
    expect(res.status).toBe(202);
    expect(res.text).toBe('{}');
    expect(res.headers.get('content-type')).toBe('application/vnd.atlas.2023-02-01+json;charset=utf-8');
  });

  it('[deleteStreamProcessor] 204 has no body at all', async () => {
    await setupClient(w).call(streams(), { method: 'POST', body: { name: 'p204', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' }, sampleConnections: { solar: true } } });
    await setupClient(w).call(streams('/p204/processor'), { method: 'POST', body: { name: 'p', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }] } });
    const res = await raw.call(streams('/p204/processor/p'), { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(res.headers.get('content-length') ?? '0').toBe('0');
    await setupClient(w).call(streams('/p204'), { method: 'DELETE' });
  });
});

describe('pagination', () => {
  it('[listStreamWorkspaces] absolute self, next and previous links on a middle page', async () => {
    const res = await raw.call(streams('?itemsPerPage=1&pageNum=2'));
    const base = `${w.server.url}${streams()}`;
    expect(res.json.links).toEqual([
      { href: `${base}?itemsPerPage=1&pageNum=2`, rel: 'self' },
      { href: `${base}?itemsPerPage=1&pageNum=3`, rel: 'next' },
      { href: `${base}?itemsPerPage=1&pageNum=1`, rel: 'previous' },
    ]);
    expect(res.json.totalCount).toBe(3);
    expect(res.json.results.map((r: { name: string }) => r.name)).toEqual(['a2']);
  });

  it('[listStreamWorkspaces] self only on a single page; first and last pages lack previous and next', async () => {
    const base = `${w.server.url}${streams()}`;
    const all = await raw.call(streams());
    expect(all.json.links).toEqual([{ href: `${base}?pageNum=1&itemsPerPage=100`, rel: 'self' }]);
    const first = await raw.call(streams('?itemsPerPage=2'));
    expect(first.json.links.map((l: { rel: string }) => l.rel)).toEqual(['self', 'next']);
    const last = await raw.call(streams('?itemsPerPage=2&pageNum=2'));
    expect(last.json.links.map((l: { rel: string }) => l.rel)).toEqual(['self', 'previous']);
    const beyond = await raw.call(streams('?itemsPerPage=2&pageNum=9'));
    expect(beyond.json).toMatchObject({ results: [], totalCount: 3 });
  });

  it('[listStreamConnections] an empty list is results [] and totalCount 0', async () => {
    const res = await raw.call(streams('/a1/connections'));
    expect(res.json.results).toEqual([]);
    expect(res.json.totalCount).toBe(0);
  });
});

describe('pretty and envelope', () => {
  it('[getStreamWorkspace] pretty=true is Jackson: two spaces, "key" : value, arrays inline', async () => {
    const res = await raw.call(streams('/a1?pretty=true'));
    const j = (await raw.call(streams('/a1'))).json;
    expect(res.text).toBe([
      '{',
      `  "_id" : "${j._id}",`,
      '  "dataProcessRegion" : {',
      '    "cloudProvider" : "AWS",',
      '    "region" : "VIRGINIA_USA"',
      '  },',
      `  "groupId" : "${groupId}",`,
      `  "hostnames" : [ "${j.hostnames[0]}" ],`,
      '  "name" : "a1",',
      '  "streamConfig" : {',
      '    "tier" : "SP30"',
      '  }',
      '}',
    ].join('\n'));
  });

  it('[listStreamConnections] pretty=true writes [ ] for an empty array and nests objects in arrays as Jackson does', async () => {
    const res = await raw.call(streams('/a1/connections?pretty=true'));
    const href = `${w.server.url}${streams('/a1/connections')}?pretty=true&pageNum=1&itemsPerPage=100`;
    expect(res.text).toBe(`{\n  "links" : [ {\n    "href" : "${href}",\n    "rel" : "self"\n  } ],\n  "results" : [ ],\n  "totalCount" : 0\n}`);
  });

  it('[deleteStreamConnection] pretty=true on a 202 is { }', async () => {
    await setupClient(w).call(streams('/a1/connections'), { method: 'POST', body: { name: 'h', type: 'Https', url: 'https://example.com' } });
    const res = await raw.call(streams('/a1/connections/h?pretty=true'), { method: 'DELETE' });
    expect(res.text).toBe('{ }');
  });

  it('[getStreamWorkspace] envelope=true wraps one entity as {content, status}', async () => {
    const plain = await raw.call(streams('/a1'));
    const res = await raw.call(streams('/a1?envelope=true'));
    expect(res.status).toBe(200);
    expect(res.text).toBe(`{"content":${plain.text},"status":200}`);
  });

  it('[listStreamWorkspaces] envelope=true adds status beside links, results, totalCount', async () => {
    const res = await raw.call(streams('?envelope=true&itemsPerPage=1'));
    expect(Object.keys(res.json)).toEqual(['links', 'results', 'status', 'totalCount']);
    expect(res.json.status).toBe(200);
  });

  it('[getStreamWorkspace] envelope=true on an error keeps the status and wraps the body (a documented choice)', async () => {
    const res = await raw.call(streams('/nope?envelope=true'));
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ content: { errorCode: 'STREAM_TENANT_NOT_FOUND_FOR_NAME' }, status: 404 });
  });
});

describe('headers', () => {
  it('[listStreamWorkspaces] success carries Ratelimit-Limit 1200 and Ratelimit-Remaining', async () => {
    const res = await raw.call(streams());
    expect(res.headers.get('ratelimit-limit')).toBe('1200');
    expect(Number(res.headers.get('ratelimit-remaining'))).toBeGreaterThanOrEqual(0);
  });

  it('[listStreamWorkspaces] success serves the latest version on or before the date asked for', async () => {
    for (const accept of ['application/vnd.atlas.2023-02-01+json', 'application/vnd.atlas.2024-01-01+json', ACCEPT.latest]) {
      const res = await raw.call(streams(), { accept });
      expect(res.headers.get('content-type')).toBe('application/vnd.atlas.2023-02-01+json;charset=utf-8');
    }
  });

  it('[createStreamConnection] success accepts a body sent as the exact vnd type (Go SDK)', async () => {
    const res = await raw.call(streams('/a2/connections'), { method: 'POST', body: { name: 'vnd', type: 'Https', url: 'https://example.com' }, contentType: 'application/vnd.atlas.2023-02-01+json' });
    expect(res.status).toBe(200);
  });
});
