// MongoDB clients for Cluster connections, one per connection per processor. In this
// emulator a Cluster connection reaches its cluster through a `connectionString` field.
import type { MongoClient } from 'mongodb';
import type { ConnectionDefinition } from '../contract.js';
import { ProcessorFailure } from '../stages/operator.js';
import { mongoLibrary } from './client-libraries.js';

export class ClusterClients {
  private readonly clients = new Map<string, MongoClient>();

  constructor(private readonly connections: Record<string, ConnectionDefinition>) {}

  get(connectionName: string): MongoClient {
    const existing = this.clients.get(connectionName);
    if (existing) return existing;
    const connection = this.connections[connectionName];
    if (!connection) throw new ProcessorFailure(`connection named ${connectionName} does not exist`);
    if (connection.type !== 'Cluster') throw new ProcessorFailure(`connection ${connectionName} is a ${connection.type} connection, not a Cluster connection`);
    const uri = connection['connectionString'];
    if (typeof uri !== 'string' || uri === '') {
      throw new ProcessorFailure(`Cluster connection ${connectionName} has no connectionString: this emulator needs one to reach the cluster`);
    }
    // Timeouts written in the connection string win over our defaults.
    const defaults = /serverSelectionTimeoutMS=/i.test(uri) ? {} : { serverSelectionTimeoutMS: 10_000 };
    const client = new (mongoLibrary().MongoClient)(uri, defaults);
    this.clients.set(connectionName, client);
    return client;
  }

  async closeAll(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(clients.map((c) => c.close()));
  }
}
