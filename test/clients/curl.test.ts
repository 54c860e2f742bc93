// curl, as the Atlas documentation uses it: `--digest --user public:private` for API keys,
// and the service-account flow done with curl alone (token, Bearer call, revoke). Run over
// plain HTTP and over HTTPS with --cacert.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, startTestServer, type TestServer } from '../../src/testing/harness.js';
import { makeTestCertificate, type TestCertificate } from '../../src/testing/tls.js';

interface CurlResult { exitCode: number; status: number; body: string; json: any; stderr: string }

function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '15', '-w', '\n%{http_code}', ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      const exitCode = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      const cut = stdout.lastIndexOf('\n');
      const body = cut >= 0 ? stdout.slice(0, cut) : '';
      const status = Number(cut >= 0 ? stdout.slice(cut + 1) : stdout) || 0;
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ exitCode, status, body, json, stderr });
    });
  });
}

interface Seen { method: string; path: string; authorization: string; contentLength: string; status?: number }

const CLIENT_ID = `mdb_sa_id_${randomBytes(12).toString('hex')}`;
const CLIENT_SECRET = `mdb_sa_sk_${randomBytes(24).toString('hex')}`;

describe.each(['http', 'https'] as const)('curl over %s', (scheme) => {
  let cert: TestCertificate | undefined;
  let server: TestServer;
  let tls: string[] = [];
  const seen: Seen[] = [];
  const digest = () => ['--digest', '--user', `${server.owner.publicKey}:${server.owner.privateKey}`];
  const v2 = (path: string) => `${server.url}/api/atlas/v2${path}`;

  beforeAll(async () => {
    if (scheme === 'https') {
      cert = makeTestCertificate();
      tls = ['--cacert', cert.certFile];
    }
    server = await startTestServer({
      ...(cert ? { tlsCert: cert.certFile, tlsKey: cert.keyFile } : {}),
      env: { MONGODB_ATLAS_CLIENT_ID: CLIENT_ID, MONGODB_ATLAS_CLIENT_SECRET: CLIENT_SECRET },
    });
    expect(server.url.startsWith(`${scheme}://`)).toBe(true);
    server.app.server.prependListener('request', (req: IncomingMessage, res) => {
      const entry: Seen = {
        method: req.method ?? '', path: req.url ?? '',
        authorization: req.headers.authorization ?? '', contentLength: req.headers['content-length'] ?? '',
      };
      seen.push(entry);
      res.on('finish', () => { entry.status = res.statusCode; });
    });
  });
  afterAll(async () => {
    await server?.close();
    cert?.remove();
  });

  if (scheme === 'https') {
    it('is refused by curl without the CA, and trusted with --cacert', async () => {
      const untrusted = await curl([...digest(), '-H', `Accept: ${ACCEPT.identity}`, v2(`/orgs/${server.orgId}`)]);
      expect(untrusted.exitCode).toBe(60); // CURLE_PEER_FAILED_VERIFICATION
      const trusted = await curl([...tls, ...digest(), '-H', `Accept: ${ACCEPT.identity}`, v2(`/orgs/${server.orgId}`)]);
      expect(trusted.exitCode).toBe(0);
      expect(trusted.status).toBe(200);
    });
  }

  it('GETs with Digest, a query string included', async () => {
    const org = await curl([...tls, ...digest(), '-H', `Accept: ${ACCEPT.identity}`, v2(`/orgs/${server.orgId}`)]);
    expect(org.stderr).toBe('');
    expect(org.status).toBe(200);
    expect(org.json).toEqual({ id: server.orgId, isDeleted: false, name: 'Local-Organization', skipDefaultAlertsSettings: false });

    const list = await curl([...tls, ...digest(), '-H', `Accept: ${ACCEPT.streams}`, v2(`/groups/${server.projectId}/streams?itemsPerPage=5&pageNum=1`)]);
    expect(list.status).toBe(200);
    expect(list.json).toMatchObject({ results: [], totalCount: 0 });
  });

  it('is refused with a wrong private key', async () => {
    const res = await curl([...tls, '--digest', '--user', `${server.owner.publicKey}:wrong`, '-H', `Accept: ${ACCEPT.identity}`, v2(`/orgs/${server.orgId}`)]);
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: 401, reason: 'Unauthorized' });
  });

  it('POSTs a JSON body with Digest: the empty first leg has no effect, exactly one instance is made', async () => {
    const from = seen.length;
    const name = `curl-${scheme}`;
    const created = await curl([...tls, ...digest(), '-H', `Accept: ${ACCEPT.streams}`, '-H', 'Content-Type: application/json',
      '-X', 'POST', '--data', JSON.stringify({ name, dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' }, streamConfig: { tier: 'SP30' } }),
      v2(`/groups/${server.projectId}/streams`)]);
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ name, groupId: server.projectId, dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } });

    const legs = seen.slice(from);
    expect(legs).toHaveLength(2);
    expect(legs[0]).toMatchObject({ method: 'POST', authorization: '', contentLength: '0', status: 401 });
    expect(legs[1]).toMatchObject({ method: 'POST', status: 200 });
    expect(legs[1]!.authorization).toMatch(/^Digest username=/);
    expect(Number(legs[1]!.contentLength)).toBeGreaterThan(0);

    const list = await curl([...tls, ...digest(), '-H', `Accept: ${ACCEPT.streams}`, v2(`/groups/${server.projectId}/streams`)]);
    expect(list.json.totalCount).toBe(1);
    expect(list.json.results.map((r: { name: string }) => r.name)).toEqual([name]);
  });

  it('DELETEs with Digest', async () => {
    const name = `curl-${scheme}`;
    const deleted = await curl([...tls, ...digest(), '-H', `Accept: ${ACCEPT.streams}`, '-X', 'DELETE', v2(`/groups/${server.projectId}/streams/${name}`)]);
    expect(deleted.status).toBe(202);
    expect(deleted.json).toEqual({});
    const missing = await curl([...tls, ...digest(), '-H', `Accept: ${ACCEPT.streams}`, v2(`/groups/${server.projectId}/streams/${name}`)]);
    expect(missing.status).toBe(404);
    expect(missing.json.errorCode).toBe('STREAM_TENANT_NOT_FOUND_FOR_NAME');
  });

  it('gets a service-account token, calls with Bearer, revokes it, and the token is refused at once', async () => {
    const token = await curl([...tls, '-u', `${CLIENT_ID}:${CLIENT_SECRET}`, '-d', 'grant_type=client_credentials', `${server.url}/api/oauth/token`]);
    expect(token.status).toBe(200);
    expect(token.json).toEqual({ access_token: expect.any(String), expires_in: 3600, token_type: 'Bearer' });
    const accessToken: string = token.json.access_token;
    const bearer = ['-H', `Authorization: Bearer ${accessToken}`];

    const streams = await curl([...tls, ...bearer, '-H', `Accept: ${ACCEPT.latest}`, v2(`/groups/${server.projectId}/streams`)]);
    expect(streams.status).toBe(200);
    expect(streams.json).toMatchObject({ totalCount: 0 });
    const created = await curl([...tls, ...bearer, '-H', `Accept: ${ACCEPT.latest}`, '-H', 'Content-Type: application/json',
      '--data', JSON.stringify({ name: 'bearer-made', dataProcessRegion: { cloudProvider: 'AWS', region: 'OREGON_USA' } }),
      v2(`/groups/${server.projectId}/streams`)]);
    expect(created.status).toBe(200);
    const deleted = await curl([...tls, ...bearer, '-H', `Accept: ${ACCEPT.latest}`, '-X', 'DELETE', v2(`/groups/${server.projectId}/streams/bearer-made`)]);
    expect(deleted.status).toBe(202);

    const revoked = await curl([...tls, '-u', `${CLIENT_ID}:${CLIENT_SECRET}`, '-d', `token=${accessToken}`, '-d', 'token_type_hint=access_token', `${server.url}/api/oauth/revoke`]);
    expect(revoked.status).toBe(200);

    const refused = await curl([...tls, ...bearer, '-H', `Accept: ${ACCEPT.latest}`, v2(`/groups/${server.projectId}/streams`)]);
    expect(refused.status).toBe(401);
  });

  it('refuses a token request with a wrong secret', async () => {
    const res = await curl([...tls, '-u', `${CLIENT_ID}:mdb_sa_sk_wrong`, '-d', 'grant_type=client_credentials', `${server.url}/api/oauth/token`]);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: 'invalid_request', error_description: 'The provided credentials are not valid.' });
  });
});
