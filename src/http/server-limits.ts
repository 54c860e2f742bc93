// What one client may take from the server: connections, and time to send a request.
// Without these, a client that opens thousands of sockets, or sends its headers a byte a
// minute (slowloris), holds file descriptors and memory that every other client needs.
import type { Server } from 'node:http';
import type { Logger } from 'pino';

export interface ServerLimits {
  /** Open connections beyond this are closed as they arrive (Node's `server.maxConnections`). */
  maxConnections: number;
  /** The whole header block must arrive within this; else 408 and the socket closes. */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this. */
  requestTimeoutMs: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  // Well under the usual 1024 open-file soft limit, which the store, the engine's workers
  // and outgoing Kafka or MongoDB connections share with the sockets.
  maxConnections: 512,
  headersTimeoutMs: 20_000,
  // A 17 MiB body at 150 KB/s still arrives in time.
  requestTimeoutMs: 120_000,
};

/**
 * How often Node looks for requests past their timeouts; its default (30 s) would let a
 * timeout run up to 30 s late. Must be given when the server is created.
 */
export function connectionsCheckingIntervalMs(limits: ServerLimits): number {
  return Math.max(100, Math.min(1_000, limits.headersTimeoutMs / 4));
}

const DROP_LOG_INTERVAL_MS = 10_000;

export function applyServerLimits(server: Server, limits: ServerLimits, log: Logger): void {
  server.maxConnections = limits.maxConnections;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  // One warning per interval, not one per refused socket: a flood must not flood the log too.
  let dropped = 0;
  let lastLogged = 0;
  server.on('drop', () => {
    dropped++;
    const now = Date.now();
    if (now - lastLogged < DROP_LOG_INTERVAL_MS) return;
    log.warn({ dropped, maxConnections: limits.maxConnections }, 'connections refused: too many open');
    lastLogged = now;
    dropped = 0;
  });
}
