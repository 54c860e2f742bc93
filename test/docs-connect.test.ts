// docs/connect.md's examples marked `checked`, run as written against a started server: the
// curl calls (Digest and Bearer), the wire endpoint lookup, plain fetch, and mongosh's `sp`
// helper. Only the address, the workspace port and the database user's password are put in
// place of the ones the page shows.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ACCEPT, callDigest } from '../src/testing/harness.js';
import { startServerProcess, stopServerProcess, type ServerProcess } from '../src/testing/server-process.js';

const root = resolve(__dirname, '..');
const doc = readFileSync(join(root, 'docs/connect.md'), 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'ase-docs-connect-'));
const MONGOSH_BIN = dirname(createRequire(import.meta.url).resolve('mongosh/bin/mongosh.js'));

const identity = {
  MONGODB_ATLAS_PUBLIC_KEY: 'docsconn', MONGODB_ATLAS_PRIVATE_KEY: '11111111-2222-4333-8444-555555555555',
  MONGODB_ATLAS_CLIENT_ID: 'mdb_sa_id_0123456789abcdef01234567', MONGODB_ATLAS_CLIENT_SECRET: 'mdb_sa_sk_choose-a-long-secret',
  MONGODB_ATLAS_DB_USERNAME: 'emulator-admin', MONGODB_ATLAS_DB_PASSWORD: 'docs-connect-password',
};

/** The key the server adopts from the environment (the banner does not print its private key). */
const key = { publicKey: identity.MONGODB_ATLAS_PUBLIC_KEY, privateKey: identity.MONGODB_ATLAS_PRIVATE_KEY };
let server: ServerProcess;
let wireAddress: string;

/** The checked blocks of a language, in page order, with this server's address and secrets in place. */
function checkedBlocks(language: 'sh' | 'js'): string[] {
  return [...doc.matchAll(new RegExp(`\`\`\`${language} checked\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => inPlace(m[1]!));
}

function inPlace(text: string): string {
  return text.replaceAll('http://127.0.0.1:8080', server.url).replaceAll('127.0.0.1:27017', wireAddress)
    .replaceAll('<printed password>', identity.MONGODB_ATLAS_DB_PASSWORD);
}

function run(command: string, args: string[]): Promise<{ code: number; out: string }> {
  const env = {
    ...process.env, ...identity, HOME: scratch, PATH: `${MONGOSH_BIN}:${join(root, 'node_modules/.bin')}:${process.env['PATH']}`,
    URL: server.url, PROJECT_ID: server.projectId, ORG_ID: server.orgId, PUBLIC_KEY: key.publicKey, PRIVATE_KEY: key.privateKey,
  };
  return new Promise((resolveRun) => {
    execFile(command, args, { env, cwd: scratch, timeout: 120_000 }, (error, stdout, stderr) => {
      resolveRun({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

const bash = (script: string) => run('bash', ['-euo', 'pipefail', '-c', script]);

beforeAll(async () => {
  server = await startServerProcess(['--port', '0', '--in-memory', '--wire-port-base', '0', '--log-level', 'warn'], identity);
  // The page's examples use the workspace the README's "Running a processor" creates.
  const created = await callDigest(`${server.url}/api/atlas/v2/groups/${server.projectId}/streams:withSampleConnections`, key, {
    method: 'POST', accept: ACCEPT.latest, body: { name: 'solar', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } },
  });
  expect(created.status, created.text).toBe(200);
  const endpoint = await callDigest(`${server.url}/emulator/v1/groups/${server.projectId}/streams/solar`, key);
  wireAddress = `${endpoint.json.host}:${endpoint.json.port}`;
}, 120_000);

afterAll(async () => {
  if (server) await stopServerProcess(server.child);
  rmSync(scratch, { recursive: true, force: true });
});

it('marks the examples it runs', () => {
  expect(checkedBlocks('sh')).toHaveLength(3);
  expect(checkedBlocks('js')).toHaveLength(2);
});

it('curl: where a workspace listens', async () => {
  const { code, out } = await bash(checkedBlocks('sh')[0]!);
  expect(code, out).toBe(0);
  expect(out, out).toContain(`"connectionString":"mongodb://${wireAddress}/"`);
});

it('curl with Digest: list, create and delete a workspace', async () => {
  const { code, out } = await bash(checkedBlocks('sh')[1]!);
  expect(code, out).toBe(0);
  expect(out).toContain('"name":"demo"');
  const left = await callDigest(`${server.url}/api/atlas/v2/groups/${server.projectId}/streams/demo`, key, { accept: ACCEPT.streams });
  expect(left.status).toBe(404);
});

it('curl with a service account: token, call, revoke', async () => {
  const script = checkedBlocks('sh')[2]!;
  const { code, out } = await bash(`BASE=${server.url}\n${script}\ncurl -s -o /dev/null -w '%{http_code}' --header "Authorization: Bearer $TOKEN" --header "Accept: application/vnd.atlas.2025-03-12+json" "$BASE/api/atlas/v2/groups/$PROJECT_ID/streams"`);
  expect(code, out).toBe(0);
  expect(out).toContain('"name":"solar"');
  // The page says the token is refused once revoked.
  expect(out, out).toContain('"totalCount":1}401');
});

it('plain fetch with a service account', async () => {
  const file = join(scratch, 'fetch-example.mjs');
  writeFileSync(file, checkedBlocks('js')[1]!);
  const { code, out } = await run(process.execPath, [file]);
  expect(code, out).toBe(0);
  expect(out).toMatch(/^200 /);
  expect(out).toContain("name: 'solar'");
});

it("mongosh: the page's command line and sp session", async () => {
  const line = inPlace(/^mongosh "mongodb:\/\/127\.0\.0\.1:27017\/".*$/m.exec(doc)![0]);
  const session = checkedBlocks('js')[0]!;
  writeFileSync(join(scratch, 'session.js'), session);
  const { code, out } = await bash(`${line} --quiet --eval "$(cat session.js)"`);
  expect(code, out).toBe(0);
  expect(out).toMatch(/twice: 4/);
  const processors = await callDigest(`${server.url}/api/atlas/v2/groups/${server.projectId}/streams/solar/processors`, key, { accept: ACCEPT.processors });
  expect(processors.json.results).toEqual([]);
}, 120_000);
