// Credentials an attacker has or makes: a captured Digest answer replayed (as sent, on
// another path, query or method, after a restart), a nonce that is stale or was not issued here, and OAuth
// tokens expired, revoked, signed by another server's key, unsigned (`alg: none`) or
// tampered with. Every one gets the Digest challenge and changes nothing. (Replay of a GET,
// an answer for another path and the nonce arithmetic are in src/http; these are the rest.)
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeNonce, NONCE_LIFETIME_MS } from '../../src/http/auth/digest-nonce.js';
import { signToken } from '../../src/http/auth/tokens.js';
import { signingKeyFrom } from '../../src/crypto/key-file.js';
import { ACCEPT, callAnonymous, callBearer, digestAuthorization, digestClient, fetchToken, startTestServer, type TestServer } from '../../src/testing/harness.js';
import { basic, createServiceAccount, oauth } from '../identity-helpers.js';
import { storeState } from './support/store-state.js';

let server: TestServer;
let signingKey: Buffer;
let account: { clientId: string; secret: string; secretId: string };

beforeAll(async () => {
  // A master key the test knows, so that it can sign tokens the way the server does.
  const master = randomBytes(32);
  process.env['ATLAS_STREAMS_SECRET_KEY'] = master.toString('base64');
  server = await startTestServer({ logLevel: 'warn' });
  delete process.env['ATLAS_STREAMS_SECRET_KEY'];
  signingKey = signingKeyFrom(master);
  account = await createServiceAccount(digestClient(server, server.owner), server.orgId, ['ORG_OWNER'], 'attacked');
});
afterAll(async () => { await server.close(); });

const projects = () => `${server.url}/api/atlas/v2/groups`;
const newProject = () => JSON.stringify({ name: `p-${randomBytes(4).toString('hex')}`, orgId: server.orgId });

async function freshNonce(url: string): Promise<string> {
  const challenge = await callAnonymous(url, { method: 'POST' });
  return /nonce="([^"]+)"/.exec(challenge.headers.get('www-authenticate') ?? '')![1]!;
}

function post(url: string, authorization: string, body = newProject()): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { Accept: ACCEPT.identity, 'Content-Type': 'application/json', Authorization: authorization }, body });
}

function expectChallenge(res: Response, stale = false): void {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(new RegExp(`^Digest realm="MMS Public API", .*stale=${stale}$`));
}

/** Runs attack and checks it left the store as it was. */
async function unchanged(attack: () => Promise<void>): Promise<void> {
  const before = await storeState(server.app.store);
  await attack();
  expect(await storeState(server.app.store)).toEqual(before);
}

describe('Digest', () => {
  it('a replayed answer to a write is refused: the write happens once', async () => {
    const url = projects();
    const authorization = digestAuthorization(url, 'POST', server.owner, await freshNonce(url));
    const body = newProject();
    expect((await post(url, authorization, body)).status).toBe(200);
    await unchanged(async () => {
      expectChallenge(await post(url, authorization, body));
      expectChallenge(await post(url, authorization, newProject()));
    });
  });

  it('an answer is good for its own method, path and query only', async () => {
    const base = `${server.url}/api/atlas/v2/orgs/${server.orgId}/apiKeys`;
    await unchanged(async () => {
      // Captured for a GET, sent as a POST to the same path.
      const forGet = digestAuthorization(base, 'GET', server.owner, await freshNonce(base));
      expectChallenge(await fetch(base, { method: 'POST', headers: { Accept: ACCEPT.identity, 'Content-Type': 'application/json', Authorization: forGet }, body: '{"desc":"x","roles":["ORG_OWNER"]}' }));
      // Computed for one query string, sent with another.
      const forPretty = digestAuthorization(`${base}?pretty=true`, 'GET', server.owner, await freshNonce(base));
      expectChallenge(await fetch(`${base}?itemsPerPage=500`, { headers: { Accept: ACCEPT.identity, Authorization: forPretty } }));
      // Its uri rewritten to name the request (the response hash no longer matches).
      const rewritten = digestAuthorization(`${base}?pretty=true`, 'GET', server.owner, await freshNonce(base)).replace('?pretty=true', '?itemsPerPage=500');
      expectChallenge(await fetch(`${base}?itemsPerPage=500`, { headers: { Accept: ACCEPT.identity, Authorization: rewritten } }));
      // An absolute uri naming another server path.
      const absolute = digestAuthorization(`${server.url}/api/atlas/v2/orgs/${server.orgId}`, 'GET', server.owner, await freshNonce(base)).replace(/uri="[^"]+"/, `uri="http://elsewhere/api/atlas/v2/orgs/${server.orgId}"`);
      expectChallenge(await fetch(base, { headers: { Accept: ACCEPT.identity, Authorization: absolute } }));
    });
  });

  it('a stale nonce gets a new challenge with stale=true, and the new nonce works', async () => {
    const url = projects();
    const old = makeNonce(signingKey, Date.now() - NONCE_LIFETIME_MS - 60_000);
    let renewed = '';
    await unchanged(async () => {
      const res = await post(url, digestAuthorization(url, 'POST', server.owner, old));
      expectChallenge(res, true);
      renewed = /nonce="([^"]+)"/.exec(res.headers.get('www-authenticate') ?? '')![1]!;
    });
    expect((await post(url, digestAuthorization(url, 'POST', server.owner, renewed))).status).toBe(200);
  });

  // On SQLite the marks are kept in memory, so a nonce from before the restart goes stale; on
  // PostgreSQL they are in the database, so the same answer is refused as a replay.
  const marksInMemory = process.env['ATLAS_STREAMS_TEST_STORE'] !== 'postgres';
  it('an answer used before a restart is refused after it (its nonce stale where marks are kept in memory), and a new nonce works', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ase-replay-'));
    let first = await startTestServer({ inMemory: false, dataDir, logLevel: 'warn' });
    const { owner } = first;
    try {
      const url = `${first.url}/api/atlas/v2/groups`;
      const challenge = await callAnonymous(url, { method: 'POST' });
      const nonce = /nonce="([^"]+)"/.exec(challenge.headers.get('www-authenticate') ?? '')![1]!;
      const used = digestAuthorization(url, 'POST', owner, nonce);
      const body = JSON.stringify({ name: 'before-restart', orgId: first.orgId });
      expect((await post(url, used, body)).status).toBe(200);
      await first.close();
      first = await startTestServer({ inMemory: false, dataDir, logLevel: 'warn' });
      const again = `${first.url}/api/atlas/v2/groups`;
      const before = await storeState(first.app.store);
      // The same answer, and one with a count never used: either could have been used before the restart.
      const replayed = await post(again, digestAuthorization(again, 'POST', owner, nonce), body);
      expectChallenge(replayed, marksInMemory);
      if (marksInMemory) expectChallenge(await post(again, digestAuthorization(again, 'POST', owner, nonce, 'MD5', '00000002'), body), true);
      expect(await storeState(first.app.store)).toEqual(before);
      const renewed = /nonce="([^"]+)"/.exec(replayed.headers.get('www-authenticate') ?? '')![1]!;
      expect((await post(again, digestAuthorization(again, 'POST', owner, renewed), JSON.stringify({ name: 'after-restart', orgId: first.orgId }))).status).toBe(200);
    } finally {
      await first.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a nonce this server did not issue (another key, from the future, altered) is refused without stale', async () => {
    const url = projects();
    const foreign = makeNonce(randomBytes(32), Date.now());
    const future = makeNonce(signingKey, Date.now() + 10 * 60_000);
    const altered = Buffer.from(await freshNonce(url), 'base64');
    altered[3] = altered[3]! ^ 0xff;
    await unchanged(async () => {
      for (const nonce of [foreign, future, altered.toString('base64')]) expectChallenge(await post(url, digestAuthorization(url, 'POST', server.owner, nonce)), false);
    });
  });
});

describe('OAuth bearer tokens', () => {
  const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = () => ({ iss: 'atlas-streams-emulator', sub: account.clientId, sid: account.secretId });

  async function refused(token: string): Promise<void> {
    await unchanged(async () => {
      expectChallenge(await post(projects(), `Bearer ${token}`));
      const read = await callBearer(`${server.url}/api/atlas/v2/orgs/${server.orgId}`, token, { accept: ACCEPT.identity });
      expect(read.status).toBe(401);
    });
  }

  it('a good token works (the attacks below are refused for what they change, not by accident)', async () => {
    const token = await fetchToken(server.url, account.clientId, account.secret);
    expect((await callBearer(`${server.url}/api/atlas/v2/orgs/${server.orgId}`, token, { accept: ACCEPT.identity })).status).toBe(200);
    expect((await callBearer(`${server.url}/api/atlas/v2/orgs/${server.orgId}`, signToken(signingKey, claims(), Math.floor(Date.now() / 1000)).token, { accept: ACCEPT.identity })).status).toBe(200);
  });

  it('expired', async () => {
    await refused(signToken(signingKey, claims(), Math.floor(Date.now() / 1000) - 2 * 3600).token);
  });

  it('revoked, for writes too', async () => {
    const token = await fetchToken(server.url, account.clientId, account.secret);
    expect((await oauth(server, 'revoke', basic(account.clientId, account.secret), `token=${token}`)).status).toBe(200);
    await refused(token);
  });

  it("signed by another server's key", async () => {
    await refused(signToken(randomBytes(32), claims(), Math.floor(Date.now() / 1000)).token);
  });

  it('alg none, with and without a signature', async () => {
    const payload = b64url({ ...claims(), jti: 'x', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600 });
    for (const header of [{ alg: 'none', typ: 'JWT' }, { alg: 'None' }, { alg: 'HS256', typ: 'JWT', crit: ['none'] }]) {
      await refused(`${b64url(header)}.${payload}.`);
    }
    const good = signToken(signingKey, claims(), Math.floor(Date.now() / 1000)).token.split('.');
    await refused(`${b64url({ alg: 'none', typ: 'JWT' })}.${good[1]}.${good[2]}`);
  });

  it('tampered: claims changed under the original signature', async () => {
    const [header, payload, signature] = signToken(signingKey, claims(), Math.floor(Date.now() / 1000)).token.split('.');
    const original = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
    for (const change of [{ exp: original.exp + 365 * 24 * 3600 }, { sub: `mdb_sa_id_${'d'.repeat(24)}` }, { sid: 'other' }, { jti: 'other' }]) {
      await refused(`${header}.${b64url({ ...original, ...change })}.${signature}`);
    }
    await refused(`${header}.${payload}.${signature!.slice(0, -2)}AA`);
    await refused(`${header}.${payload}`);
  });
});
