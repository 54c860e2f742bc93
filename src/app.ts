// Wires the layers together: store, keys, engine, handlers, HTTP(S) server.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { loadSecretKey, secretBoxFromKey } from './crypto/secret-box.js';
import { handlers } from './domain/handlers.js';
import { bootstrap, loadSigningKey, type BootstrapEnvironment, type BootstrapResult } from './domain/identity/bootstrap.js';
import { KIND } from './domain/identity/model.js';
import { recordStreamsAudit } from './domain/streams/audit-logs.js';
import { emulatorRoutes } from './domain/streams/emulator-routes.js';
import { createLeasedRunner } from './domain/streams/leased-runner.js';
import { createProcessorHost, resumeStartedProcessors } from './domain/streams/processor-host.js';
import { createEngine } from './engine/index.js';
import type { ProcessorHost, ProcessorRunner } from './engine/contract.js';
import type { Services } from './http/context.js';
import { RATE_WINDOW_MS, RateLimiter } from './http/rate-limit.js';
import { answerClientError, answerProbe, createRequestHandler } from './http/server.js';
import { lockDataDir } from './store/data-dir-lock.js';
import { openStore } from './store/open.js';
import { watchReachability } from './store/reachability.js';
import type { Store } from './store/store.js';

export interface AppConfig {
  port: number;
  host: string;
  /** Where the SQLite database and the secret key file live; ignored with inMemory. */
  dataDir: string;
  inMemory: boolean;
  /** postgres://...: the shared database of several nodes, instead of SQLite in dataDir. */
  databaseUrl?: string;
  tlsCert?: string;
  tlsKey?: string;
  logLevel: string;
  /** Refuse requests past Atlas's per-minute limits (headers are sent either way). */
  enforceRateLimits: boolean;
  /** The client environment to adopt (MONGODB_ATLAS_*). */
  env: BootstrapEnvironment;
  /** sample_stream_solar documents per second per processor (0: as fast as possible). */
  sampleRatePerSecond?: number;
  /** api: serve the API only; runner: run processors only; all (default): both. api and runner need databaseUrl. */
  role?: 'api' | 'runner' | 'all';
  /** Where logs go; standard output by default. */
  logDestination?: NodeJS.WritableStream;
}

export interface App {
  url: string;
  server: Server;
  store: Store;
  runner: ProcessorRunner;
  bootstrap: BootstrapResult;
  log: Logger;
  close(): Promise<void>;
}

const SWEEP_INTERVAL_MS = 60_000;
const PING_INTERVAL_MS = 1000;

export async function startApp(config: AppConfig): Promise<App> {
  const log = pino({ level: config.logLevel, base: { service: 'atlas-streams-emulator' } },
    config.logDestination ?? pino.destination({ sync: false }));
  // The lock guards the SQLite file; nodes sharing PostgreSQL share nothing on disk but the key file.
  const lock = config.inMemory || config.databaseUrl ? undefined : lockDataDir(config.dataDir);
  const backend = await openStore({
    databaseUrl: config.databaseUrl, sqlitePath: config.inMemory ? ':memory:' : join(config.dataDir, 'atlas-streams.db'),
  });
  const { store } = backend;
  const secretBox = secretBoxFromKey(loadSecretKey(config.inMemory ? undefined : join(config.dataDir, 'secret.key')));
  const now = () => new Date();
  const { signingKey, result } = await store.transaction(async (tx) => ({
    signingKey: await loadSigningKey(tx),
    result: await bootstrap(tx, config.env, now()),
  }));
  const role = config.role ?? 'all';
  if (role !== 'all' && !backend.pool) throw new Error(`--role ${role} needs a shared database (--database-url)`);
  const engineOptions = { logger: log, sampleRatePerSecond: config.sampleRatePerSecond };
  // On PostgreSQL processors are held by lease, whichever node runs them; on SQLite the one
  // process runs them all.
  const runner: ProcessorRunner = backend.pool
    ? await createLeasedRunner({
      store, pool: backend.pool, secretBox, log,
      ...(role !== 'api' ? { createEngine: (host: ProcessorHost) => createEngine(host, engineOptions) } : {}),
    })
    : createEngine(createProcessorHost(store, log), engineOptions);
  const services: Services = { store, signingKey, secretBox, runner, log, now };
  const database = watchReachability(backend.ping, PING_INTERVAL_MS, (reachable) =>
    (reachable ? log.info('database reachable again') : log.error('database unreachable: not ready')));

  let ready = false;
  const isReady = () => ready && database.reachable();
  // A runner serves only the probes: the API is the API nodes' job.
  const handler: RequestListener = role === 'runner'
    ? (req, res) => answerProbe(res, req.url === '/healthz' || isReady())
    : createRequestHandler({
      services, handlers, rateLimiter: new RateLimiter(config.enforceRateLimits, Date.now, backend.rateCounter), isReady,
      onCallCompleted: (call) => recordStreamsAudit(store, log, call),
      extensions: [emulatorRoutes],
    });
  const tls = config.tlsCert && config.tlsKey;
  const server = tls
    ? createHttpsServer({ cert: readFileSync(config.tlsCert!), key: readFileSync(config.tlsKey!) }, handler)
    : createHttpServer(handler);
  server.keepAliveTimeout = 65_000;
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${tls ? 'https' : 'http'}://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${address.port}`;

  // Leased runners claim started processors themselves.
  if (!backend.pool) await resumeStartedProcessors(services);
  ready = true;

  const sweeper = setInterval(() => {
    store.transaction(async (tx) => {
      await tx.deleteExpired(KIND.digestNonceUse, Date.now());
      await tx.deleteExpired(KIND.revokedToken, Date.now());
    }).catch((error: unknown) => log.error({ err: error }, 'sweeping expired nonces failed'));
    backend.sweep(Date.now(), RATE_WINDOW_MS).catch((error: unknown) => log.error({ err: error }, 'sweeping rate windows failed'));
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();

  return {
    url, server, store, runner, bootstrap: result, log,
    async close() {
      ready = false;
      clearInterval(sweeper);
      database.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await runner.close();
      await store.close();
      lock?.release();
      log.flush();
    },
  };
}
