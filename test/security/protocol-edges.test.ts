// Item 11 of issue 8: a client that goes away mid-body is no server error; a Digest answer
// must name the realm the challenge named; an answer to HEAD has no body, even when Node's
// parser refused the request.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestAuthorizationHeader } from '../../src/http/auth/digest.js';
import { ACCEPT, callAnonymous, digestAuthorization, startTestServer, type TestServer } from '../../src/testing/harness.js';

let server: TestServer;
beforeAll(async () => { server = await startTestServer(); });
afterAll(async () => { await server.close(); });

/** Writes raw bytes, optionally hangs up early, and returns everything the server sent. */
function raw(bytes: string, hangUpAfterWrite = false): Promise<string> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(bytes);
      if (hangUpAfterWrite) socket.destroy();
    });
    socket.on('data', (chunk) => { received += chunk.toString('latin1'); });
    socket.on('close', () => resolve(received));
    socket.on('error', (error) => (hangUpAfterWrite ? resolve(received) : reject(error)));
  });
}

const levels = () => server.logs.map((line) => JSON.parse(line) as { level: number; status?: number; msg: string });

describe('a client that hangs up mid-body', () => {
  it('is logged as gone, not as a failure: no error line, no 500', async () => {
    const before = server.logs.length;
    for (const path of ['/api/oauth/token', `/api/atlas/v2/groups/${server.projectId}/streams`]) {
      await raw(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":`, true);
    }
    // The streams call is refused before its body is read (no credentials); the token call reads first.
    await expect.poll(() => levels().slice(before).filter((l) => l.msg === 'the client went away before its request was read').length,
      { timeout: 10_000 }).toBe(1);
    const after = levels().slice(before);
    expect(after.filter((l) => l.level >= 50)).toEqual([]);
    expect(after.filter((l) => l.status === 500)).toEqual([]);
    expect((await callAnonymous(`${server.url}/readyz`)).status).toBe(200);
  });
});

describe('Digest answers', () => {
  it('are refused when they name another realm, even with the right key', async () => {
    const url = `${server.url}/api/atlas/v2/orgs/${server.orgId}`;
    const challenge = await callAnonymous(url, { accept: ACCEPT.identity });
    const nonce = /nonce="([^"]+)"/.exec(challenge.headers.get('www-authenticate')!)![1]!;
    const header = digestAuthorization(url, 'GET', server.owner, nonce).replace('realm="MMS Public API"', 'realm="Some Other Realm"');
    expect(header).toContain('realm="Some Other Realm"');
    const res = await fetch(url, { headers: { Accept: ACCEPT.identity, Authorization: header } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Digest realm="MMS Public API"/);
    // The same answer with the right realm is accepted (a fresh nonce count: nonces are single-use per nc).
    const ok = await fetch(url, { headers: { Accept: ACCEPT.identity, Authorization: digestAuthorizationHeader({
      method: 'GET', uri: new URL(url).pathname, username: server.owner.publicKey, password: server.owner.privateKey, nonce, nc: '00000002' }) } });
    expect(ok.status).toBe(200);
  });
});

describe('HEAD', () => {
  const bodyOf = (response: string) => response.slice(response.indexOf('\r\n\r\n') + 4);

  it('is answered with headers only, handled or refused by the parser', async () => {
    const answers = [
      await raw('HEAD /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      await raw(`HEAD /api/atlas/v2/groups/${server.projectId} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
      await raw(`HEAD /api/atlas/v2 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`),
    ];
    expect(answers.map((a) => a.slice(0, 12))).toEqual(['HTTP/1.1 200', 'HTTP/1.1 401', 'HTTP/1.1 431']);
    for (const answer of answers) expect(bodyOf(answer)).toBe('');
  });
});
