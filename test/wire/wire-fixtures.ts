// Shared steps of the wire endpoint tests: a server with a known bootstrap database user, a
// workspace made through the Admin API, its endpoint as the emulator route tells it, and a
// driver client logged in as a given user.
import { MongoClient, type Db } from 'mongodb';
import { expect } from 'vitest';
import { digestClient, startTestServer, type TestServer } from '../../src/testing/harness.js';
import { createInstance, streamsClient, V2, type StreamsClient } from '../streams-fixtures.js';

export const DB_USER = 'wire-admin';
export const DB_PASSWORD = 'wire-admin-pa55word';

export interface WireServer {
  server: TestServer;
  api: StreamsClient;
  close(): Promise<void>;
}

export async function startWireServer(): Promise<WireServer> {
  const server = await startTestServer({
    wirePortBase: 0, sampleRatePerSecond: 50,
    env: { MONGODB_ATLAS_DB_USERNAME: DB_USER, MONGODB_ATLAS_DB_PASSWORD: DB_PASSWORD },
  });
  return { server, api: streamsClient(server), close: () => server.close() };
}

/** A workspace with the sample connection; its connection string as the emulator route gives it. */
export async function createWorkspace(w: WireServer, name: string): Promise<{ port: number; uri: string }> {
  await createInstance(w.api, w.server.projectId, name, { sampleConnections: { solar: true } });
  const res = await digestClient(w.server, w.server.owner).call(`/emulator/v1/groups/${w.server.projectId}/streams/${name}`);
  expect(res.status, res.text).toBe(200);
  expect(res.json.connectionString).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
  return { port: res.json.port, uri: res.json.connectionString };
}

export async function createDatabaseUser(w: WireServer, username: string, password: string, roleName: string): Promise<void> {
  const res = await w.api.call('createDatabaseUser', `${V2}/groups/${w.server.projectId}/databaseUsers`, {
    method: 'POST', accept: 'application/vnd.atlas.2023-01-01+json',
    body: { databaseName: 'admin', groupId: w.server.projectId, username, password, roles: [{ roleName, databaseName: 'admin' }] },
  });
  expect(res.status, res.text).toBe(201);
}

export async function connect(uri: string, username = DB_USER, password = DB_PASSWORD, mechanism?: 'SCRAM-SHA-1' | 'SCRAM-SHA-256'): Promise<{ client: MongoClient; admin: Db }> {
  const client = new MongoClient(uri, {
    auth: { username, password }, authSource: 'admin', directConnection: true, serverSelectionTimeoutMS: 10_000,
    ...(mechanism ? { authMechanism: mechanism } : {}),
  });
  await client.connect();
  return { client, admin: client.db('admin') };
}

export function solarPipeline(): Record<string, unknown>[] {
  return [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }];
}
