// Cross-project and cross-organization access, for every operation of the spec whose path
// names a groupId or an orgId (read off the generated operation table): a caller from
// organization A gets the same answer (status and errorCode) for organization B's resources
// as for ones that do not exist, and nothing of B changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operations } from '../../src/protocol/generated/operations.js';
import type { OperationSpec } from '../../src/protocol/operation-spec.js';
import { callDigest, startTestServer, type ApiKeyCredentials, type TestServer } from '../../src/testing/harness.js';
import { createProjectKey } from '../identity-helpers.js';
import { digestClient } from '../../src/testing/harness.js';
import { sampleBody } from './support/sample-bodies.js';
import { storeState } from './support/store-state.js';
import { createVictim, fillPath, victimParam, type Victim } from './support/victim.js';

let server: TestServer;
let victim: Victim;
let projectKeyOfA: ApiKeyCredentials;

beforeAll(async () => {
  server = await startTestServer({ logLevel: 'warn' });
  victim = await createVictim(server);
  projectKeyOfA = await createProjectKey(digestClient(server, server.owner), server.projectId, ['GROUP_OWNER'], 'project A owner');
}, 60_000);
afterAll(async () => { await server.close(); });

const MISSING: Record<string, string> = {
  groupId: '0123456789abcdef01234567',
  orgId: 'aaaaaaaaaaaaaaaaaaaaaaaa',
  tenantName: 'no-such-instance',
  connectionName: 'no-such-connection',
  processorName: 'no-such-processor',
  connectionId: 'bbbbbbbbbbbbbbbbbbbbbbbb',
  id: 'bbbbbbbbbbbbbbbbbbbbbbbb',
  apiUserId: 'bbbbbbbbbbbbbbbbbbbbbbbb',
  clientId: `mdb_sa_id_${'c'.repeat(24)}`,
  secretId: 'bbbbbbbbbbbbbbbbbbbbbbbb',
  failoverConnectionId: 'bbbbbbbbbbbbbbbbbbbbbbbb',
  ipAddress: '198.51.100.99',
  databaseName: 'admin',
  username: 'no-such-user',
  groupName: 'no-such-project',
};

const SCOPES = ['groupId', 'orgId'];
const scoped = operations.filter((op) => SCOPES.some((s) => op.path.includes(`{${s}}`)));

const victimValue = (name: string, op: OperationSpec) => victimParam(victim, name, op);
const pathWith = fillPath;

async function answer(op: OperationSpec, path: string, caller: ApiKeyCredentials): Promise<{ status: number; errorCode?: string }> {
  const res = await callDigest(`${server.url}${path}`, caller, {
    method: op.method, accept: `application/vnd.atlas.${op.versions.at(-1)}+${op.format}`,
    ...(op.requestBody ? { body: sampleBody(op.operationId) } : {}),
  });
  expect(res.status, `${op.operationId} ${path}: ${res.text.slice(0, 200)}`).toBeLessThan(500);
  return { status: res.status, errorCode: res.json?.errorCode };
}

describe('organization A reaching for organization B', () => {
  it(`covers every operation with a groupId or orgId (${scoped.length} of them)`, () => {
    expect(scoped.length).toBeGreaterThanOrEqual(80);
  });

  it("B's project and organization answer as if they did not exist, to a project key and to an org owner of A", async () => {
    const before = await storeState(server.app.store);
    const mismatches: unknown[] = [];
    for (const [label, caller] of [['project key of A', projectKeyOfA], ['org owner of A', server.owner]] as const) {
      for (const op of scoped) {
        const real = await answer(op, pathWith(op, (n) => victimValue(n, op)), caller);
        const missing = await answer(op, pathWith(op, (n) => MISSING[n]!), caller);
        expect(real.status, `${label} ${op.operationId} must be refused`).toBeGreaterThanOrEqual(400);
        if (real.status !== missing.status || real.errorCode !== missing.errorCode) mismatches.push({ caller: label, op: op.operationId, real, missing });
      }
    }
    expect(mismatches).toEqual([]);
    expect(await storeState(server.app.store), 'nothing changed').toEqual(before);
  }, 120_000);

  it("B's resources named under A's own project or organization answer as missing ones do", async () => {
    const before = await storeState(server.app.store);
    const mismatches: unknown[] = [];
    const own = (name: string) => (name === 'groupId' ? server.projectId : server.orgId);
    for (const op of scoped) {
      const children = op.parameters.filter((p) => p.in === 'path' && !SCOPES.includes(p.name));
      if (children.length === 0) continue;
      const real = await answer(op, pathWith(op, (n) => (SCOPES.includes(n) ? own(n) : victimValue(n, op))), server.owner);
      const missing = await answer(op, pathWith(op, (n) => (SCOPES.includes(n) ? own(n) : MISSING[n]!)), server.owner);
      expect(real.status, `${op.operationId} must be refused`).toBeGreaterThanOrEqual(400);
      if (real.status !== missing.status || real.errorCode !== missing.errorCode) mismatches.push({ op: op.operationId, real, missing });
    }
    expect(mismatches).toEqual([]);
    expect(await storeState(server.app.store), 'nothing changed').toEqual(before);
  }, 120_000);
});
