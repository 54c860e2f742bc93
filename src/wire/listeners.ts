// One wire-protocol listener per stream workspace, on loopback. reconcile() makes the set of
// listeners match the workspaces in the store (created, deleted or renamed through either
// door); the app calls it at start, after every Admin API call on workspaces, and now and
// then. Ports: `portBase` and up, each workspace keeping its port across restarts (recorded
// in the store); a taken port moves to the next free one; portBase 0 takes ephemeral ports.
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { STREAMS_KIND, type StoredInstance } from '../domain/streams/common.js';
import type { StoredWireEndpoint } from '../domain/streams/wire-endpoints.js';
import type { Services } from '../http/context.js';
import { SampleCursors } from './sample-cursors.js';
import { Session } from './session.js';
import type { Endpoint } from './workspace.js';

export interface WireConfig {
  host: string;
  /** First port to try; 0: ephemeral ports. */
  portBase: number;
  tlsCert?: string;
  tlsKey?: string;
}

interface Listener {
  server: Server;
  endpoint: Endpoint;
  sockets: Set<Socket>;
  port: number;
}

/** How many ports past a taken one to try before falling back to an ephemeral port. */
const PORT_TRIES = 100;

export class WireListeners {
  private readonly listeners = new Map<string, Listener>();
  private running: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly tls: { cert: Buffer; key: Buffer } | undefined;

  constructor(private readonly services: Services, private readonly config: WireConfig) {
    this.tls = config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : undefined;
  }

  /** Opens and closes listeners to match the store; calls run one after another. */
  reconcile(): Promise<void> {
    const next = this.running.then(() => this.reconcileNow());
    this.running = next.catch((error: unknown) => this.services.log.error({ err: error }, 'reconciling wire endpoints failed'));
    return this.running;
  }

  /** Every listening endpoint, for the banner. */
  endpoints(): Array<{ instanceName: string; groupId: string; host: string; port: number; tls: boolean }> {
    return [...this.listeners.values()].map((l) => ({
      instanceName: l.endpoint.instanceName, groupId: l.endpoint.groupId, host: this.config.host, port: l.port, tls: Boolean(this.tls),
    }));
  }

  get portBase(): number {
    return this.config.portBase;
  }

  private async reconcileNow(): Promise<void> {
    if (this.closed) return;
    const { store } = this.services;
    const { instances, records } = await store.read(async (tx) => ({
      instances: (await tx.listAll<StoredInstance>(STREAMS_KIND.instance)).items,
      records: (await tx.listAll<StoredWireEndpoint>(STREAMS_KIND.wireEndpoint)).items,
    }));
    const wanted = new Map(instances.map((i) => [i._id, i]));
    for (const [id, listener] of [...this.listeners]) {
      if (!wanted.has(id)) await this.closeListener(id, listener, true);
    }
    const recordOf = new Map(records.map((r) => [r.instanceId, r]));
    for (const record of records) {
      if (!wanted.has(record.instanceId)) await store.transaction(async (tx) => { await tx.delete(STREAMS_KIND.wireEndpoint, record.instanceId); });
    }
    for (const instance of instances) {
      const existing = this.listeners.get(instance._id);
      if (existing) {
        existing.endpoint.instanceName = instance.name;
        continue;
      }
      const taken = new Set(records.filter((r) => r.instanceId !== instance._id).map((r) => r.port));
      await this.open(instance, recordOf.get(instance._id), taken);
    }
  }

  private async open(instance: StoredInstance, record: StoredWireEndpoint | undefined, taken: Set<number>): Promise<void> {
    const endpoint: Endpoint = {
      instanceId: instance._id, groupId: instance.groupId, instanceName: instance.name, services: this.services,
      log: this.services.log.child({ workspace: instance.name }), cursors: new SampleCursors(this.services.runner),
    };
    const sockets = new Set<Socket>();
    const onConnection = (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      new Session(socket, endpoint);
    };
    const server = this.tls ? createTlsServer({ ...this.tls }, onConnection) : createServer(onConnection);
    // A failed TLS handshake is the client's problem, not the server's.
    server.on('tlsClientError', (error: Error) => endpoint.log.debug({ err: error }, 'TLS handshake failed'));
    const port = await this.listen(server, this.candidates(record, taken));
    const listener: Listener = { server, endpoint, sockets, port };
    this.listeners.set(instance._id, listener);
    const stored: StoredWireEndpoint = { instanceId: instance._id, groupId: instance.groupId, host: this.config.host, port, tls: Boolean(this.tls), listening: true };
    await this.services.store.transaction((tx) => tx.put(STREAMS_KIND.wireEndpoint, { id: instance._id, parentId: instance.groupId }, stored));
    endpoint.log.info({ port, tls: stored.tls }, 'stream workspace wire endpoint listening');
  }

  /** Ports to try in order: the workspace's own, then from the base up past the taken ones, then any. */
  private *candidates(record: StoredWireEndpoint | undefined, taken: Set<number>): Generator<number> {
    if (this.config.portBase === 0) {
      yield 0;
      return;
    }
    if (record) yield record.port;
    let tried = 0;
    for (let port = this.config.portBase; port <= 65535 && tried < PORT_TRIES; port++) {
      if (taken.has(port) || port === record?.port) continue;
      tried += 1;
      yield port;
    }
    yield 0;
  }

  private async listen(server: Server, ports: Iterable<number>): Promise<number> {
    let lastError: unknown;
    for (const port of ports) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, this.config.host, () => {
            server.off('error', reject);
            resolve();
          });
        });
        server.on('error', (error) => this.services.log.error({ err: error }, 'wire listener error'));
        return (server.address() as AddressInfo).port;
      } catch (error) {
        lastError = error;
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      }
    }
    throw lastError;
  }

  private async closeListener(id: string, listener: Listener, forget: boolean): Promise<void> {
    this.listeners.delete(id);
    await new Promise<void>((resolve) => {
      listener.server.close(() => resolve());
      for (const socket of listener.sockets) socket.destroy();
    });
    await listener.endpoint.cursors.closeAll();
    if (forget) listener.endpoint.log.info('stream workspace wire endpoint closed');
  }

  async close(): Promise<void> {
    await this.running;
    this.closed = true;
    for (const [id, listener] of [...this.listeners]) await this.closeListener(id, listener, false);
    // The records stay (each workspace gets its port back on restart), marked as not listening.
    await this.services.store.transaction(async (tx) => {
      for (const record of (await tx.listAll<StoredWireEndpoint>(STREAMS_KIND.wireEndpoint)).items) {
        await tx.put(STREAMS_KIND.wireEndpoint, { id: record.instanceId, parentId: record.groupId }, { ...record, listening: false });
      }
    });
  }
}
