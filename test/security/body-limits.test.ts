// Issue 8 items 10 and 11: a body is refused as early as it can be (Content-Length over the
// limit, past the limit while streaming, nested too deep while streaming) and not read any
// further; a client that goes away mid-body is not an error; slow or too many connections
// cannot hold the server. No timings are asserted: each wait below is a bound on how long a
// refused client is kept waiting for an answer that must come at all.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, MAX_OTHER_BODY_BYTES } from '../../src/http/body.js';
import { INCREMENTAL_JSON_BYTES, MAX_JSON_DEPTH } from '../../src/http/json-body.js';
import { LINGER_BYTES } from '../../src/http/lingering-close.js';
import { ACCEPT, callAnonymous, callDigest, digestAuthorization, startTestServer, type TestServer } from '../../src/testing/harness.js';
import { firstResponse, openRaw } from './support/raw-socket.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ limits: { maxConnections: 8, headersTimeoutMs: 1_000, requestTimeoutMs: 3_000 } });
});
afterAll(async () => { await server.close(); });

const instancesPath = () => `/api/atlas/v2/groups/${server.projectId}/streams`;

/** The head of an authenticated POST to the instances path (Digest answered ahead of time). */
async function authenticatedHead(path: string, extra: string, accept: string = ACCEPT.streams): Promise<string> {
  const url = `${server.url}${path}`;
  const challenge = await callAnonymous(url, { method: 'POST' });
  const nonce = /nonce="([^"]+)"/.exec(challenge.headers.get('www-authenticate') ?? '')![1]!;
  const authorization = digestAuthorization(url, 'POST', server.owner, nonce);
  return `POST ${path} HTTP/1.1\r\nHost: localhost\r\nAccept: ${accept}\r\nContent-Type: application/json\r\n` +
    `Authorization: ${authorization}\r\n${extra}\r\n`;
}

function expectAtlasError(response: ReturnType<typeof firstResponse>, status: number, errorCode: string): void {
  expect({ status: response.status, errorCode: response.json?.errorCode }).toEqual({ status, errorCode });
  expect(response.headers).toMatch(new RegExp(`x-error-code: ${errorCode}`, 'i'));
}

async function errorLines(): Promise<string[]> {
  await new Promise((r) => setTimeout(r, 50));
  return server.logs.filter((line) => /"level":(50|60)/.test(line));
}

describe('oversized bodies', () => {
  it('answers 413 BODY_TOO_LARGE on the Content-Length alone, before the body is sent, and closes', async () => {
    const raw = await openRaw(server.url);
    raw.socket.write(await authenticatedHead(`${instancesPath()}/none/processor`, `Content-Length: ${MAX_BODY_BYTES + 1}\r\n`, ACCEPT.processors));
    const { closed, text } = await raw.closed(10_000);
    expectAtlasError(firstResponse(text), 413, 'BODY_TOO_LARGE');
    expect(firstResponse(text).headers).toMatch(/connection: close/i);
    expect(closed, 'the server hangs up instead of reading the body').toBe(true);
  });

  it('stops reading a chunked body once it passes the limit: 413, then the connection closes', async () => {
    const raw = await openRaw(server.url);
    raw.socket.write(await authenticatedHead(instancesPath(), 'Transfer-Encoding: chunked\r\n'));
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    // Keep sending (bounded: twice the limit) until the server answers.
    while (sent < 2 * MAX_BODY_BYTES && !raw.received().includes('HTTP/1.1') && !raw.socket.destroyed) {
      raw.socket.write(`${chunk.length.toString(16)}\r\n`);
      raw.socket.write(chunk);
      if (!raw.socket.write('\r\n')) await new Promise((r) => setTimeout(r, 5));
      sent += chunk.length;
    }
    const { closed, text } = await raw.closed(10_000);
    expectAtlasError(firstResponse(text), 413, 'BODY_TOO_LARGE');
    expect(closed).toBe(true);
    expect(await errorLines()).toEqual([]);
  });
});

describe('a refused client that goes on sending', () => {
  it(`gets its refusal, and is disconnected once it sent about ${LINGER_BYTES / 1048576} MiB more, not only after 2 seconds`, async () => {
    const head = await authenticatedHead(`${instancesPath()}/none/processor`, `Content-Length: ${100 * LINGER_BYTES}\r\n`, ACCEPT.processors);
    // A client that ignores the server's FIN and keeps its own side open (half-open), sending on.
    const { hostname, port } = new URL(server.url);
    const socket = connect({ host: hostname, port: Number(port), allowHalfOpen: true });
    let text = '';
    socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(head);
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    // Bounded: four times the bound, sent as fast as the connection takes it, until the server hangs up
    // (its reset fails a write here; a client that stopped writing would not notice it).
    while (sent < 4 * LINGER_BYTES && !socket.destroyed) {
      if (!socket.write(chunk)) await new Promise((resolve) => { socket.once('drain', resolve); socket.once('close', resolve); });
      sent += chunk.length;
    }
    const disconnected = socket.destroyed;
    socket.destroy();
    expectAtlasError(firstResponse(text), 413, 'BODY_TOO_LARGE');
    expect(disconnected, 'the server still reads after four times the bound').toBe(true);
    // What the kernels of both sides buffer (a few MiB each way) comes on top of the bound.
    expect(sent).toBeLessThan(LINGER_BYTES + 32 * 1024 * 1024);
  });
});

describe('a refused body on a connection that goes on', () => {
  it('answers the refusal alone: a request sent after the refused body on the same connection is neither run nor answered', async () => {
    const raw = await openRaw(server.url);
    const body = `{"name":${'['.repeat(MAX_JSON_DEPTH + 10)}${']'.repeat(MAX_JSON_DEPTH + 10)}}`;
    const create = JSON.stringify({ name: 'pipelined', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } });
    const next = await authenticatedHead(instancesPath(), `Content-Length: ${create.length}\r\n`) + create;
    raw.socket.write(await authenticatedHead(instancesPath(), `Content-Length: ${body.length}\r\n`) + body + next);
    const { closed, text } = await raw.closed(10_000);
    expectAtlasError(firstResponse(text), 400, 'INVALID_JSON');
    expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(closed).toBe(true);
    const read = await callDigest(`${server.url}${instancesPath()}/pipelined`, server.owner, { accept: ACCEPT.streams });
    expect(read.status).toBe(404);
  });
});

describe('body limits per operation', () => {
  it('only the operations that carry a pipeline take more than 1 MiB', async () => {
    const padding = 'x'.repeat(MAX_OTHER_BODY_BYTES + 1024);
    const instance = await callDigest(`${server.url}${instancesPath()}`, server.owner, {
      method: 'POST', accept: ACCEPT.streams, body: { name: 'big', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' }, padding },
    });
    expect({ status: instance.status, errorCode: instance.json?.errorCode, limit: instance.json?.parameters }).toEqual({ status: 413, errorCode: 'BODY_TOO_LARGE', limit: [MAX_OTHER_BODY_BYTES] });
    const processor = await callDigest(`${server.url}${instancesPath()}/no-such-instance/processor`, server.owner, {
      method: 'POST', accept: ACCEPT.processors, body: { name: 'big', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $match: { padding } }] },
    });
    expect({ status: processor.status, errorCode: processor.json?.errorCode }).toEqual({ status: 404, errorCode: 'STREAM_TENANT_NOT_FOUND_FOR_NAME' });
  });
});

describe('deep JSON while it streams', () => {
  it(`answers 400 INVALID_JSON as soon as the nesting passes ${MAX_JSON_DEPTH}, without waiting for the rest`, async () => {
    const raw = await openRaw(server.url);
    // A body that declares most of a megabyte but stops after its opening brackets: the answer cannot wait for the rest.
    raw.socket.write(await authenticatedHead(instancesPath(), `Content-Length: ${MAX_OTHER_BODY_BYTES - 1}\r\n`));
    raw.socket.write('{"name":' + '['.repeat(MAX_JSON_DEPTH + 10));
    const { closed, text } = await raw.closed(10_000);
    expectAtlasError(firstResponse(text), 400, 'INVALID_JSON');
    expect(closed).toBe(true);
  });
});

describe('large JSON bodies, parsed as they stream (issue 8 item 10)', () => {
  const processorsPath = () => `${instancesPath()}/sample/processor`;
  /** A pipeline whose text is about `bytes` long, with multi-byte characters to be split across chunks. */
  const bigPipeline = (bytes: number) => [
    { $source: { connectionName: 'sample_stream_solar' } },
    { $match: { k: { $in: Array.from({ length: Math.ceil(bytes / 24) }, (_, i) => `é€😀-${i}`) }, ['__proto__']: { polluted: true } } },
    { $emit: { connectionName: '__testLog' } },
  ];

  beforeAll(async () => {
    const created = await callDigest(`${server.url}${instancesPath()}:withSampleConnections`, server.owner, {
      method: 'POST', accept: 'application/vnd.atlas.2024-08-05+json', body: { name: 'sample', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } },
    });
    expect(created.status).toBe(200);
  });

  it('refuses a large body with 400 MALFORMED_JSON as soon as the error arrives, while most of it is still unsent, and closes', async () => {
    const raw = await openRaw(server.url);
    raw.socket.write(await authenticatedHead(processorsPath(), `Content-Length: ${MAX_BODY_BYTES - 1}\r\n`, ACCEPT.processors));
    // Well-formed for more than the incremental threshold, then a syntax error; 16 MiB more are announced and never sent.
    const prefix = `{"name":"broken","pipeline":[{"$match":{"k":"${'x'.repeat(INCREMENTAL_JSON_BYTES)}"}}`;
    raw.socket.write(`${prefix} oops`);
    const { closed, text } = await raw.closed(10_000);
    expectAtlasError(firstResponse(text), 400, 'MALFORMED_JSON');
    expect(firstResponse(text).headers).toMatch(/connection: close/i);
    expect(closed).toBe(true);
  });

  it('a large valid pipeline reads back exactly as JSON.parse reads it (split characters, "__proto__" kept as a key)', async () => {
    const pipeline = bigPipeline(2 * INCREMENTAL_JSON_BYTES);
    const text = JSON.stringify({ name: 'large', pipeline });
    expect(Buffer.byteLength(text)).toBeGreaterThan(INCREMENTAL_JSON_BYTES);
    const created = await callDigest(`${server.url}${processorsPath()}`, server.owner, { method: 'POST', accept: ACCEPT.processors, body: text });
    expect(created.status, created.text.slice(0, 300)).toBe(200);
    const read = await callDigest(`${server.url}${processorsPath()}/large`, server.owner, { accept: ACCEPT.processors });
    expect(read.status).toBe(200);
    expect(JSON.stringify(JSON.parse(read.text).pipeline)).toBe(JSON.stringify(JSON.parse(text).pipeline));
    expect(Object.hasOwn(read.json.pipeline[1].$match, '__proto__')).toBe(true);
  });

  it('large bodies JSON.parse refuses are refused alike: a byte order mark, trailing text, a truncated end; a blank one is no body', async () => {
    const body = JSON.stringify({ name: 'refused', pipeline: bigPipeline(2 * INCREMENTAL_JSON_BYTES) });
    for (const [text, errorCode] of [
      [`\uFEFF${body}`, 'MALFORMED_JSON'], [`${body} {}`, 'MALFORMED_JSON'], [body.slice(0, -1), 'MALFORMED_JSON'], [' '.repeat(2 * INCREMENTAL_JSON_BYTES), 'MISSING_ATTRIBUTE'],
    ] as const) {
      const res = await callDigest(`${server.url}${processorsPath()}`, server.owner, { method: 'POST', accept: ACCEPT.processors, body: text });
      expect({ status: res.status, errorCode: res.json?.errorCode }).toEqual({ status: 400, errorCode });
    }
    const list = await callDigest(`${server.url}${instancesPath()}/sample/processors`, server.owner, { accept: ACCEPT.processors });
    expect(list.json.results.map((p: { name: string }) => p.name)).not.toContain('refused');
  });
});

describe('a client that disconnects mid-body', () => {
  it('is not an error: nothing logged at error level, and the server serves the next caller', async () => {
    for (let i = 0; i < 5; i++) {
      const raw = await openRaw(server.url);
      raw.socket.write(await authenticatedHead(instancesPath(), 'Content-Length: 100000\r\n'));
      raw.socket.write('{"name":"half-a-bo');
      await new Promise((r) => setTimeout(r, 20));
      raw.socket.destroy();
    }
    const res = await callDigest(`${server.url}${instancesPath()}`, server.owner, { accept: ACCEPT.streams });
    expect(res.status).toBe(200);
    expect(await errorLines()).toEqual([]);
  });
});

describe('slow clients (slowloris)', () => {
  it('get 408 REQUEST_TIMEOUT, Atlas-shaped, when their headers do not arrive in time, and are disconnected', async () => {
    const raw = await openRaw(server.url);
    raw.socket.write(`GET ${instancesPath()} HTTP/1.1\r\nHost: localhost\r\nX-Slow: `);
    const drip = setInterval(() => { if (!raw.socket.destroyed) raw.socket.write('a'); }, 200);
    const { closed, text } = await raw.closed(15_000);
    clearInterval(drip);
    expect(closed).toBe(true);
    expectAtlasError(firstResponse(text), 408, 'REQUEST_TIMEOUT');
  });

  it('are disconnected when the body does not arrive in time', async () => {
    const raw = await openRaw(server.url);
    raw.socket.write(await authenticatedHead(instancesPath(), 'Content-Length: 1000\r\n'));
    raw.socket.write('{"name":');
    const { closed } = await raw.closed(20_000);
    expect(closed).toBe(true);
  });
});

describe('too many connections', () => {
  it('closes connections beyond the cap as they arrive, and serves again once some close', async () => {
    const held = await Promise.all(Array.from({ length: 8 }, () => openRaw(server.url)));
    // Let the server count them all.
    await new Promise((r) => setTimeout(r, 100));
    const extra = await openRaw(server.url);
    extra.socket.write(`GET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    const refused = await extra.closed(10_000);
    expect(refused.closed).toBe(true);
    expect(refused.text, 'no request was served on a refused connection').toBe('');
    held.forEach((h) => h.socket.destroy());
    await Promise.all(held.map((h) => h.closed(5_000)));
    // The server learns of the closes a moment after the client: a few attempts, bounded.
    let served: string | undefined;
    for (let attempt = 0; attempt < 50 && served === undefined; attempt++) {
      const again = await openRaw(server.url);
      again.socket.write(`GET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      served = await again.waitFor(/\r\n\r\n\{"status":"ok"\}/, 2_000);
      again.socket.destroy();
      if (served === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(served).toBeDefined();
  });
});

describe('an Expect header the server cannot meet', () => {
  it('gets 417 EXPECTATION_FAILED, Atlas-shaped, and the connection stays usable', async () => {
    const raw = await openRaw(server.url);
    raw.socket.write(`GET /api/atlas/v2 HTTP/1.1\r\nHost: localhost\r\nExpect: nonsense\r\nContent-Length: 2\r\n\r\n{}`);
    const text = await raw.waitFor(/"reason":"Expectation Failed"\}/, 10_000);
    expect(text).toBeDefined();
    expectAtlasError(firstResponse(text!), 417, 'EXPECTATION_FAILED');
    raw.socket.write(`GET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    expect(await raw.waitFor(/\{"status":"ok"\}/, 10_000)).toBeDefined();
    raw.socket.destroy();
  });
});
