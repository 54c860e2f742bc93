// A spec-driven fuzz: FUZZ_REQUESTS (default 50,000) mutations of valid requests for the
// operations of the generated table, sent over keep-alive connections in parallel to a
// server in its own process (the second core), its database on a memory file system. Every answer must be below 500, and a batch of requests that all were
// refused must leave the store exactly as it was. Request i is drawn from seed + i alone,
// so a failure is replayed with FUZZ_SEED and its index, whatever the concurrency.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMS_KIND } from '../../src/domain/streams/common.js';
import { operations } from '../../src/protocol/generated/operations.js';
import { ACCEPT, callDigest, fetchToken, type ApiKeyCredentials } from '../../src/testing/harness.js';
import { startServerProcess, stopServerProcess, type ServerProcess } from '../../src/testing/server-process.js';
import { openFileState, type FileState } from './support/file-state.js';
import { fuzzRequest, type FuzzRequest } from './support/fuzz-requests.js';
import { seeded } from './support/prng.js';
import { sampleBody } from './support/sample-bodies.js';
import { populateOrganization, victimParam, type Victim } from './support/victim.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261201);
const REQUESTS = Number(process.env['FUZZ_REQUESTS'] ?? 50_000);
const CONCURRENCY = 16;
/** Requests sent between two looks at the store. */
const BATCH = Number(process.env['FUZZ_BATCH'] ?? 16);
/** A bound on the run, not a performance claim: past it the test fails with how far it got. */
const MAX_SECONDS = 200;

let server: ServerProcess;
let state: FileState;
let victim: Victim;
let token: string;
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const dataDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ase-fuzz-'));
const owner: ApiKeyCredentials = { publicKey: 'fuzzowner', privateKey: '0f0f0f0f-0000-4000-8000-0000000f0220' };

beforeAll(async () => {
  // Refusals are logged at warn; a 5xx is seen in its status, so only errors are worth writing.
  server = await startServerProcess(['--port', '0', '--data-dir', dataDir, '--log-level', 'error'],
    { MONGODB_ATLAS_PUBLIC_KEY: owner.publicKey, MONGODB_ATLAS_PRIVATE_KEY: owner.privateKey });
  victim = await populateOrganization(server, server.orgId, owner);
  const account = await callDigest(`${server.url}/api/atlas/v2/orgs/${victim.orgId}/serviceAccounts`, owner, {
    method: 'POST', accept: ACCEPT.serviceAccounts, body: { name: 'fuzzer', description: 'fuzz', roles: ['ORG_OWNER'], secretExpiresAfterHours: 24 },
  });
  expect(account.status, account.text).toBe(201);
  token = await fetchToken(server.url, account.json.clientId, account.json.secrets[0].secret);
  // Processors a mutated request started write checkpoints by themselves, and a workspace a
  // request created gets its wire endpoint's listener record once the port is open, which may
  // land during a later batch.
  state = openFileState(join(dataDir, 'atlas-streams.db'), [STREAMS_KIND.checkpoint, STREAMS_KIND.wireEndpoint]);
}, 60_000);
afterAll(async () => {
  agent.destroy();
  state?.close();
  if (server) await stopServerProcess(server.child);
  rmSync(dataDir, { recursive: true, force: true });
});

interface Answer { status: number; errorCode?: string; error?: string }

function send(req: FuzzRequest): Promise<Answer> {
  return new Promise((resolve) => {
    let r;
    try {
      // Node's client frames a DELETE or GET body only with an explicit length; without one the
      // body would reach the server as the start of the next request.
      // Nor can it read the answer to a HEAD that carried a body: HEAD goes without.
      const body = req.method === 'HEAD' ? undefined : req.body;
      const headers = body === undefined ? req.headers : { ...req.headers, 'Content-Length': String(Buffer.byteLength(body)) };
      r = request(`${server.url}${req.path}`, { method: req.method, headers, agent }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => { if (text.length < 300) text += c.toString('utf8'); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, errorCode: /"errorCode":"(\w+)"/.exec(text)?.[1] }));
        res.on('error', (e) => resolve({ status: res.statusCode ?? 0, error: e.message }));
      });
    } catch (e) {
      // Node's client refuses some mutations itself (a path with a space): nothing was sent.
      return resolve({ status: -1, error: (e as Error).message });
    }
    r.on('error', (e) => resolve({ status: 0, error: e.message }));
    r.end(req.method === 'HEAD' ? undefined : req.body);
  });
}

const fuzzed = operations;

function requestAt(index: number): FuzzRequest {
  const r = seeded(SEED + index);
  const op = r.pick(fuzzed);
  return fuzzRequest(r, {
    op, param: (name) => victimParam(victim, name, op), body: op.requestBody ? sampleBody(op.operationId) : undefined,
    authorization: () => `Bearer ${token}`,
  });
}

const writes = (method: string) => method !== 'GET' && method !== 'HEAD';

describe('spec-driven fuzz', () => {
  it(`${REQUESTS} mutated requests: never a 5xx, and refused requests change nothing`, async () => {
    console.log(`fuzz: FUZZ_SEED=${SEED} FUZZ_REQUESTS=${REQUESTS} over ${fuzzed.length} operations`);
    const started = Date.now();
    const statuses = new Map<number, number>();
    const serverErrors: string[] = [];
    const stateChanges: string[] = [];
    const transportErrors = new Map<string, number>();
    let refusedChecked = 0;
    let refusedUnchecked = 0;
    let sent = 0;
    let known: ReturnType<FileState['read']> | undefined;
    for (let first = 0; first < REQUESTS; first += BATCH) {
      if ((Date.now() - started) / 1000 > MAX_SECONDS) break;
      const batch = Array.from({ length: Math.min(BATCH, REQUESTS - first) }, (_, i) => ({ index: first + i, req: requestAt(first + i) }));
      // The state after a batch that wrote nothing is the state before the next one.
      const before = known ?? state.read();
      known = undefined;
      const answers = await Promise.all(batch.map(({ req }) => send(req)));
      sent += batch.length;
      let wrote = false;
      answers.forEach((a, i) => {
        const { index, req } = batch[i]!;
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        if (a.error) transportErrors.set(a.error, (transportErrors.get(a.error) ?? 0) + 1);
        if (a.error && process.env['FUZZ_VERBOSE']) console.log(`#${index} ${a.error} ${req.method} ${req.path.slice(0, 80)} [${req.mutations.join('; ')}] ${JSON.stringify(req.headers).slice(0, 200)}`);
        if (a.status >= 500) serverErrors.push(`#${index} ${a.status} ${req.method} ${req.path.slice(0, 120)} [${req.mutations.join('; ')}]`);
        // A write whose answer was lost may have succeeded: the batch cannot be checked.
        if (a.status < 400 && writes(req.method)) wrote = true;
      });
      const refused = answers.filter((a) => a.status >= 400).length;
      if (wrote) {
        refusedUnchecked += refused;
        continue;
      }
      refusedChecked += refused;
      const after = state.read();
      known = after;
      const changed = Object.keys(after).filter((kind) => JSON.stringify(after[kind]) !== JSON.stringify(before[kind]));
      if (changed.length > 0) {
        const detail = changed.map((kind) => `${kind}: ${JSON.stringify(before[kind]).length} -> ${JSON.stringify(after[kind]).length} chars, ` +
          `now ${JSON.stringify(after[kind]!.find((x) => !before[kind]!.some((y) => JSON.stringify(y) === JSON.stringify(x))))?.slice(0, 300)}`).join(' | ');
        stateChanges.push(`requests #${first}..#${first + batch.length - 1} were all refused, yet the store changed (${detail}): ` +
          batch.map(({ index, req }, i) => `#${index} ${answers[i]!.status} ${answers[i]!.errorCode} ${req.method} ${req.path.slice(0, 80)}`).join(', ').slice(0, 600));
      }
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(`fuzz: ${sent} requests in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s); statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
    console.log(`fuzz: refused requests checked for state changes ${refusedChecked}, in batches with a successful write (not checked) ${refusedUnchecked}`);
    if (transportErrors.size) console.log(`fuzz: transport errors ${JSON.stringify(Object.fromEntries(transportErrors))}`);
    expect(serverErrors.slice(0, 20), `FUZZ_SEED=${SEED}: ${serverErrors.length} answers of 500 or more`).toEqual([]);
    expect(stateChanges.slice(0, 5), `FUZZ_SEED=${SEED}`).toEqual([]);
    expect(sent, `only ${sent} requests within ${MAX_SECONDS} s`).toBe(REQUESTS);
    expect(refusedChecked, 'most refused requests were checked for state changes').toBeGreaterThan(refusedUnchecked);
  }, (MAX_SECONDS + 60) * 1000);
});
