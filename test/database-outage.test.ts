// A node that loses its database: /readyz answers 503 while it is gone (so a load balancer
// sends clients elsewhere), requests fail cleanly instead of hanging, and once it is back the
// node is ready again and every write acknowledged before the outage is there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterEnvironment, startNodes, stopNodes } from '../src/testing/cluster.js';
import { ACCEPT, callAnonymous, callDigest } from '../src/testing/harness.js';
import { createTestSchema, SKIP_MESSAGE, testDatabaseUrl, type TestSchema } from '../src/testing/postgres.js';
import type { ServerProcess } from '../src/testing/server-process.js';
import { startTcpProxy, type TcpProxy } from '../src/testing/tcp-proxy.js';

const serverUrl = testDatabaseUrl();
if (!serverUrl) console.warn(SKIP_MESSAGE);

describe.skipIf(!serverUrl)('losing the database', () => {
  let schema: TestSchema;
  let proxy: TcpProxy;
  let node: ServerProcess | undefined;

  beforeAll(async () => {
    schema = await createTestSchema(serverUrl!);
    const direct = new URL(schema.url);
    proxy = await startTcpProxy(direct.hostname, Number(direct.port || 5432));
    direct.port = String(proxy.port);
    [node] = await startNodes(clusterEnvironment(direct.toString()), [[]]);
  }, 60_000);

  afterAll(async () => {
    await stopNodes([node]);
    await proxy?.close();
    await schema?.drop();
  });

  async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('fails readiness while the database is gone, recovers when it returns, and keeps acknowledged writes', async () => {
    const owner = { publicKey: 'clusterk', privateKey: '11111111-2222-3333-4444-555555555555' };
    const instances = `${node!.url}/api/atlas/v2/groups/${node!.projectId}/streams`;
    const readyz = async () => (await callAnonymous(`${node!.url}/readyz`)).status;
    expect(await readyz()).toBe(200);
    const created = await callDigest(instances, owner, { method: 'POST', accept: ACCEPT.streams,
      body: { name: 'before-outage', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } } });
    expect(created.status).toBe(200);

    await proxy.cut();
    await until(async () => (await readyz()) === 503, 'readiness to fail');
    // Liveness stays up: the process is fine, only its database is not.
    expect((await callAnonymous(`${node!.url}/healthz`)).status).toBe(200);
    const during = await callDigest(instances, owner, { accept: ACCEPT.streams });
    expect(during.status).toBeGreaterThanOrEqual(500);
    expect(during.json?.errorCode).toBeDefined();

    await proxy.restore();
    await until(async () => (await readyz()) === 200, 'readiness to return');
    const after = await callDigest(`${instances}/before-outage`, owner, { accept: ACCEPT.streams });
    expect(after.status).toBe(200);
    expect(after.json.name).toBe('before-outage');
  }, 90_000);
});
