// Item 5 of issue 8: the database holds no key and nothing that works as a credential by
// itself beyond the documented Digest HA1 values; the data directory and every file in it are
// private to the server's user; a token claiming a longer life than this server issues is refused.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signingKeyFrom } from '../../src/crypto/key-file.js';
import { ACCEPT, callBearer, digestClient, fetchToken, startTestServer, type Client, type TestServer } from '../../src/testing/harness.js';
import { createOrgKey, createServiceAccount, V2, type CreatedAccount, type CreatedKey } from '../identity-helpers.js';

let dataDir: string;
let server: TestServer;
let owner: Client;
let account: CreatedAccount;
let key: CreatedKey;

beforeAll(async () => {
  // A parent that is not ours to tighten, and a data directory below it that the server creates.
  dataDir = join(mkdtempSync(join(tmpdir(), 'ase-keys-')), 'data');
  server = await startTestServer({ inMemory: false, dataDir });
  owner = digestClient(server, server.owner);
  account = await createServiceAccount(owner, server.orgId, ['ORG_READ_ONLY'], 'reader');
  key = await createOrgKey(owner, server.orgId, ['ORG_MEMBER'], 'a key to look for');
  // A stream connection secret, so that sealed values are in the files too.
  const streams = `${V2}/groups/${server.projectId}/streams`;
  expect((await owner.call(streams, { method: 'POST', accept: ACCEPT.streams,
    body: { name: 'keys', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } } })).status).toBe(200);
  expect((await owner.call(`${streams}/keys/connections`, { method: 'POST', accept: ACCEPT.streams,
    body: { name: 'k', type: 'Kafka', bootstrapServers: 'localhost:9092', authentication: { mechanism: 'PLAIN', username: 'u', password: 'kafka-password-at-rest' } } })).status).toBe(200);
});
afterAll(async () => {
  await server.close();
  rmSync(join(dataDir, '..'), { recursive: true, force: true });
});

/** Every byte the server keeps outside the key file: the database with its WAL and shared memory. */
function storedBytes(): Buffer {
  return Buffer.concat(readdirSync(dataDir).filter((f) => f !== 'secret.key').map((f) => readFileSync(join(dataDir, f))));
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** A token as this server would sign it, with any issue and expiry times. */
function forgeToken(signingKey: Buffer, iat: number, exp: number): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const claims = { iss: 'atlas-streams-emulator', sub: account.clientId, sid: account.secretId, jti: randomBytes(16).toString('hex'), iat, exp };
  const payload = `${header}.${b64url(JSON.stringify(claims))}`;
  return `${payload}.${createHmac('sha256', signingKey).update(payload).digest('base64url')}`;
}

describe('the data directory', () => {
  it('is 0700 and every file in it 0600, the database\'s -wal and -shm included', () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dataDir);
    expect(files).toEqual(expect.arrayContaining(['atlas-streams.db', 'atlas-streams.db-wal', 'atlas-streams.db-shm', 'secret.key']));
    for (const file of files) expect({ file, mode: statSync(join(dataDir, file)).mode & 0o777 }).toEqual({ file, mode: 0o600 });
  });

  it('keeps no key, no private key, no secret and no part of one outside the key file', async () => {
    const token = await fetchToken(server.url, account.clientId, account.secret);
    expect((await callBearer(`${server.url}${V2}/orgs/${server.orgId}`, token, { accept: ACCEPT.identity })).status).toBe(200);
    const master = Buffer.from(readFileSync(join(dataDir, 'secret.key'), 'utf8'), 'base64');
    const stored = storedBytes();
    for (const secret of [master.toString('base64'), master.toString('hex'), signingKeyFrom(master).toString('base64'),
      signingKeyFrom(master).toString('hex'), key.privateKey.slice(-12), server.owner.privateKey.slice(-12), account.secret, token,
      'kafka-password-at-rest']) {
      expect(stored.includes(secret), `the store holds ${secret.slice(0, 6)}…`).toBe(false);
    }
    // Later reads mask the whole private key.
    const read = await owner.call(`${V2}/orgs/${server.orgId}/apiKeys/${key.id}`, { accept: ACCEPT.identity });
    expect(read.json.privateKey).toBe('********-****-****-************');
  });
});

describe('access tokens', () => {
  it('are signed with a key from the key file, and refused when they claim a life longer than an hour', async () => {
    const signingKey = signingKeyFrom(Buffer.from(readFileSync(join(dataDir, 'secret.key'), 'utf8'), 'base64'));
    const now = Math.floor(Date.now() / 1000);
    const path = `${server.url}${V2}/orgs/${server.orgId}`;
    expect((await callBearer(path, forgeToken(signingKey, now - 10, now - 10 + 3600), { accept: ACCEPT.identity })).status).toBe(200);
    for (const [iat, exp] of [[now - 10, now + 10 * 24 * 3600], [now - 3600, now + 3600], [now + 3600, now + 3600 + 60]]) {
      const res = await callBearer(path, forgeToken(signingKey, iat!, exp!), { accept: ACCEPT.identity });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Digest realm="MMS Public API"/);
    }
  });
});
