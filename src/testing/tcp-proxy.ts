// A loopback TCP relay a test can cut and restore: the database "goes away" for one node
// without stopping the database that other tests share.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Drops every relayed connection and refuses new ones. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** Listens on loopback, on a port of the system's choice, unless `listen` says otherwise. */
export async function startTcpProxy(targetHost: string, targetPort: number, listen: { host?: string; port?: number } = {}): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const relay = (client: Socket) => {
    const upstream = createConnection({ host: targetHost, port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream).pipe(client);
  };
  let server: Server = createServer(relay);
  const listenOn = (port: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, listen.host ?? '127.0.0.1', () => resolve());
  });
  await listenOn(listen.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const stop = () => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  return {
    port,
    cut: stop,
    async restore() {
      server = createServer(relay);
      await listenOn(port);
    },
    close: stop,
  };
}
