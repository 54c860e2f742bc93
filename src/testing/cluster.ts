// Several `serve` processes on one PostgreSQL schema, as an operator runs them: the same
// owner key, service account and secret key in every node's environment.
import { randomBytes } from 'node:crypto';
import type { ApiKeyCredentials } from './harness.js';
import { startServerProcess, stopServerProcess, type ServerProcess } from './server-process.js';

export interface ClusterEnvironment {
  env: Record<string, string>;
  owner: ApiKeyCredentials;
  clientId: string;
  clientSecret: string;
}

export function clusterEnvironment(databaseUrl: string): ClusterEnvironment {
  const owner = { publicKey: 'clusterk', privateKey: '11111111-2222-3333-4444-555555555555' };
  const clientId = `mdb_sa_id_${randomBytes(12).toString('hex')}`;
  const clientSecret = `mdb_sa_sk_${randomBytes(20).toString('hex')}`;
  return {
    owner, clientId, clientSecret,
    env: {
      ATLAS_STREAMS_DATABASE_URL: databaseUrl,
      ATLAS_STREAMS_SECRET_KEY: randomBytes(32).toString('base64'),
      MONGODB_ATLAS_PUBLIC_KEY: owner.publicKey,
      MONGODB_ATLAS_PRIVATE_KEY: owner.privateKey,
      MONGODB_ATLAS_CLIENT_ID: clientId,
      MONGODB_ATLAS_CLIENT_SECRET: clientSecret,
    },
  };
}

/** Starts the nodes together (they race to migrate and bootstrap the empty schema). */
export function startNodes(cluster: ClusterEnvironment, argsPerNode: string[][]): Promise<ServerProcess[]> {
  return Promise.all(argsPerNode.map((args) => startServerProcess(['--port', '0', '--log-level', 'warn', ...args], cluster.env)));
}

export async function stopNodes(nodes: Array<ServerProcess | undefined>): Promise<void> {
  await Promise.all(nodes.map((n) => (n ? stopServerProcess(n.child) : undefined)));
}

/** Polls until condition holds; past timeoutMs fails naming what it waited for. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
