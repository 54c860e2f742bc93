// Wires the layers together: store, keys, engine, handlers, HTTP(S) server.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { createFaultInjector } from './admin/faults.js';
import { serveSpec, SPEC_PATH } from './admin/spec.js';
import { createDatabaseUserRoutes } from './console/database-users.js';
import { consoleInfo, consoleRoutes } from './console/serve.js';
import { resetState, type ResetSummary } from './admin/reset.js';
import { createAdminRoutes } from './admin/routes.js';
import { idSource, RANDOM_IDS, type IdSource } from './crypto/ids.js';
import { loadMasterKey, signingKeyFrom } from './crypto/key-file.js';
import { secretBoxFromKey } from './crypto/secret-box.js';
import { handlers } from './domain/handlers.js';
import { connectionReadsOfStoreAlone } from './domain/streams/connections.js';
import { CREDENTIAL_FREE_KINDS } from './domain/streams/common.js';
import { bootstrap, type BootstrapEnvironment, type BootstrapResult } from './domain/identity/bootstrap.js';
import { dropStoredSecrets } from './domain/identity/stored-secrets.js';
import { KIND } from './domain/identity/model.js';
import { recordStreamsAudit } from './domain/streams/audit-logs.js';
import { emulatorRoutes } from './domain/streams/emulator-routes.js';
import { prepareLargeBody } from './domain/streams/pipeline-blobs.js';
import { createLifecycles } from './domain/streams/lifecycles.js';
import { createProcessorHost, resumeStartedProcessors } from './domain/streams/processor-host.js';
import { createEngine, type EngineOptions } from './engine/index.js';
import type { ProcessorHost, ProcessorRunner } from './engine/contract.js';
import type { Services } from './http/context.js';
import { RATE_WINDOW_MS, RateLimiter } from './http/rate-limit.js';
import { answerClientError, answerProbe, answerUnmetExpectation, createRequestHandler } from './http/server.js';
import { applyServerLimits, connectionsCheckingIntervalMs, DEFAULT_SERVER_LIMITS, type ServerLimits } from './http/server-limits.js';
import { trimMemoryWhenIdle } from './observability/idle-memory.js';
import { createRequestJournal } from './observability/journal.js';
import { createMetrics } from './observability/metrics.js';
import { lockDataDir, type DataDirLock } from './store/data-dir-lock.js';
import { WireListeners } from './wire/listeners.js';
import { openStore } from './store/open.js';
import { memoryReplayLedger } from './store/replay-ledger.js';
import { postgresReplayLedger } from './store/postgres-replay-ledger.js';
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
  /** How long a database user's web console session lasts (default 30 minutes). */
  consoleSessionMs?: number;
  /** api: serve the API only; runner: run processors only; all (default): both. api and runner need databaseUrl. */
  role?: 'api' | 'runner' | 'all';
  /** Where logs go; standard output by default. */
  logDestination?: NodeJS.WritableStream;
  /** Connection cap and request timeouts; DEFAULT_SERVER_LIMITS for what is not given. */
  limits?: Partial<ServerLimits>;
  /** Engine bounds other than the defaults (tests lower them to see them act), and Kafka source parallelism. */
  engine?: Pick<EngineOptions, 'workerHeapMb' | 'documentTimeoutMs' | 'stopTimeoutMs' | 'checkpointIntervalMs' | 'stateBudgetBytes' | 'kafkaSourceParallelism'>;
  /**
   * First port of the stream workspaces' MongoDB wire-protocol endpoints (one per workspace,
   * on loopback, TLS with tlsCert/tlsKey); 0: ephemeral ports. Default 27017.
   */
  wirePortBase?: number;
  /**
   * Where ids and issued secrets come from: idSource(seed) makes them the same on every run
   * given the same calls (`serve --deterministic-seed`); random when absent.
   */
  ids?: IdSource;
}

export interface App {
  url: string;
  server: Server;
  store: Store;
  runner: ProcessorRunner;
  bootstrap: BootstrapResult;
  log: Logger;
  wire: WireListeners;
  /** Back to a first start's state, or one project emptied (see admin/reset.ts). */
  reset(projectId?: string): Promise<ResetSummary>;
  close(): Promise<void>;
}

/** Admin API operations after which the set of workspaces (so of wire listeners) may differ. */
const WORKSPACE_CHANGES = /^((create|delete|update)Stream(Instance|Workspace)|withStreamSampleConnections)/;

/** The wire listeners bind loopback only: a workspace endpoint is for this machine's tools. */
const WIRE_HOST = '127.0.0.1';
export const DEFAULT_WIRE_PORT_BASE = 27017;

const SWEEP_INTERVAL_MS = 60_000;
const PING_INTERVAL_MS = 1000;

/** Each request runs with the id source; random ids need no wrapper, and so no closure made per request. */
function withIds(ids: IdSource, handler: RequestListener): RequestListener {
  return ids === RANDOM_IDS ? handler : (req, res) => ids.run(() => handler(req, res));
}

export async function startApp(config: AppConfig): Promise<App> {
  const log = pino({ level: config.logLevel, base: { service: 'atlas-streams-emulator' } },
    config.logDestination ?? pino.destination({ sync: false }));
  // The lock guards the SQLite file; nodes sharing PostgreSQL share nothing on disk but the key file.
  const lock = config.inMemory || config.databaseUrl ? undefined : lockDataDir(config.dataDir);
  try {
    return await startLocked(config, log, lock);
  } catch (error) {
    // A start that fails (port taken, unreadable key file) leaves the directory free again.
    lock?.release();
    throw error;
  }
}

async function startLocked(config: AppConfig, log: Logger, lock: DataDirLock | undefined): Promise<App> {
  const backend = await openStore({
    databaseUrl: config.databaseUrl, sqlitePath: config.inMemory ? ':memory:' : join(config.dataDir, 'atlas-streams.db'),
    onJournalError: (error) => log.error({ err: error }, 'writing audit events failed'),
    credentialFreeKinds: CREDENTIAL_FREE_KINDS,
  });
  const { store } = backend;
  const masterKey = loadMasterKey(config.inMemory ? undefined : join(config.dataDir, 'secret.key'));
  const secretBox = secretBoxFromKey(masterKey);
  const signingKey = signingKeyFrom(masterKey);
  const now = () => new Date();
  const ids = config.ids ?? idSource(undefined);
  const result = await ids.run(() => store.transaction(async (tx) => {
    await dropStoredSecrets(tx);
    return bootstrap(tx, config.env, now());
  }));
  const role = config.role ?? 'all';
  if (role !== 'all' && !backend.pool) throw new Error(`--role ${role} needs a shared database (--database-url)`);
  const engineOptions = { ...config.engine, logger: log, sampleRatePerSecond: config.sampleRatePerSecond };
  // On PostgreSQL processors are held by lease, whichever node runs them; on SQLite the one
  // process runs them all (and loads none of the lease and PostgreSQL modules).
  const runner: ProcessorRunner = backend.pool
    ? await (await import('./domain/streams/leased-runner.js')).createLeasedRunner({
      store, pool: backend.pool, secretBox, log,
      ...(role !== 'api' ? { createEngine: (host: ProcessorHost) => createEngine(host, engineOptions) } : {}),
    })
    : createEngine(createProcessorHost(store, log), engineOptions);
  const lifecycles = createLifecycles((error) => log.error({ err: error }, 'ending a lifecycle transition failed'));
  // One process holds a SQLite store (the data-dir lock): it alone sees every nonce's uses.
  const nonceUses = backend.pool ? postgresReplayLedger(backend.pool, KIND.digestNonceUse) : memoryReplayLedger(Date.now());
  const services: Services = { store, signingKey, nonceUses, secretBox, runner, log, now, lifecycles };
  const database = watchReachability(backend.ping, PING_INTERVAL_MS, (reachable) =>
    (reachable ? log.info('database reachable again') : log.error('database unreachable: not ready')));
  const wire = new WireListeners(services, {
    host: WIRE_HOST, portBase: config.wirePortBase ?? DEFAULT_WIRE_PORT_BASE, tlsCert: config.tlsCert, tlsKey: config.tlsKey,
  });
  services.settleWireEndpoints = () => wire.reconcile();

  let ready = false;
  let url = '';
  const isReady = () => ready && database.reachable();
  const metrics = createMetrics(services);
  const faults = createFaultInjector();
  const journal = createRequestJournal();
  // A runner serves only the probes: the API is the API nodes' job.
  const handler: RequestListener = role === 'runner'
    ? (req, res) => answerProbe(res, req.url === '/healthz' || isReady())
    : withIds(ids, createRequestHandler({
      services, handlers, rateLimiter: new RateLimiter(config.enforceRateLimits, Date.now, backend.rateCounter), isReady,
      storeOnlyReads: connectionReadsOfStoreAlone, storeAloneNow: () => lifecycles.idle(),
      onCallCompleted: (call) => {
        metrics.recordCall(call);
        journal.record(call);
        recordStreamsAudit(store, call);
        if (call.status < 300 && WORKSPACE_CHANGES.test(call.operationId)) void wire.reconcile();
      },
      beforeOperation: faults.apply,
      prepareLargeBody,
      extensions: [createAdminRoutes({ faults, journal, lifecycles }), emulatorRoutes],
      ownAuthRoutes: createDatabaseUserRoutes({ sessionMs: config.consoleSessionMs }),
      publicRoutes: {
        ...consoleRoutes(() => consoleInfo(url, result, SPEC_PATH)),
        '/metrics': metrics.serve,
        [SPEC_PATH]: serveSpec,
      },
    }));
  const memoryTrim = trimMemoryWhenIdle();
  // Counted in the handler rather than by a second 'request' listener, which makes Node copy its listener list at every request.
  const countedHandler: RequestListener = (req, res) => {
    memoryTrim.noteRequest();
    handler(req, res);
  };
  const tls = config.tlsCert && config.tlsKey;
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...config.limits };
  const connectionsCheckingInterval = connectionsCheckingIntervalMs(limits);
  const server = tls
    ? createHttpsServer({ cert: readFileSync(config.tlsCert!), key: readFileSync(config.tlsKey!), connectionsCheckingInterval }, countedHandler)
    : createHttpServer({ connectionsCheckingInterval }, countedHandler);
  server.keepAliveTimeout = 65_000;
  applyServerLimits(server, limits, log);
  server.on('clientError', answerClientError);
  server.on('checkExpectation', answerUnmetExpectation);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (error) {
    memoryTrim.stop();
    database.stop();
    await runner.close();
    await store.close();
    const { code } = error as NodeJS.ErrnoException;
    if (code === 'EADDRINUSE') throw new Error(`port ${config.port} on ${config.host} is in use: choose another with --port (0 picks a free one)`);
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  url = `${tls ? 'https' : 'http'}://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${address.port}`;

  // Leased runners claim started processors themselves.
  if (!backend.pool) await resumeStartedProcessors(services);
  if (role !== 'runner') await wire.reconcile();
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
    url, server, store, runner, bootstrap: result, log, wire,
    async reset(projectId) {
      const summary = await resetState(services, projectId);
      // Workspaces reset away close their endpoints; a first start's state opens none.
      await wire.reconcile();
      return summary;
    },
    async close() {
      ready = false;
      clearInterval(sweeper);
      lifecycles.close();
      memoryTrim.stop();
      database.stop();
      await wire.close();
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
