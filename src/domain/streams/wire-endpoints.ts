// Where each stream workspace's MongoDB wire-protocol endpoint listens, as the wire layer
// (src/wire/listeners.ts) records it in the store, and how to tell a user to connect to it.
// The record outlives a restart so that a workspace gets its port back.
import type { StoreTx } from '../../store/store.js';
import { STREAMS_KIND } from './common.js';

export interface StoredWireEndpoint {
  instanceId: string;
  groupId: string;
  host: string;
  port: number;
  tls: boolean;
  /** False while the server is not listening for this workspace (stopped, or the port was taken). */
  listening: boolean;
}

export async function wireEndpointOf(tx: StoreTx, instanceId: string): Promise<StoredWireEndpoint | undefined> {
  return tx.get<StoredWireEndpoint>(STREAMS_KIND.wireEndpoint, instanceId);
}

/** What a user needs to connect: the URI, and a ready mongosh line (the password is never shown). */
export function describeWireEndpoint(endpoint: StoredWireEndpoint, username = '<database user>'): Record<string, unknown> {
  const connectionString = `mongodb://${endpoint.host}:${endpoint.port}/`;
  const tlsArgs = endpoint.tls ? ' --tls --tlsCAFile <the --tls-cert file>' : '';
  return {
    connectionString,
    host: endpoint.host,
    port: endpoint.port,
    tls: endpoint.tls,
    listening: endpoint.listening,
    authenticationDatabase: 'admin',
    authenticationMechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-1'],
    mongosh: `mongosh "${connectionString}"${tlsArgs} --authenticationDatabase admin --username ${username} --password`,
  };
}
