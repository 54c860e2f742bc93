// The library entry point: `import { startEmulator } from 'atlas-streams-emulator'`.
// One call starts a whole server in this process (port 0 and in memory by default) with
// ready credentials, for a test file's beforeAll; reset() between tests, close() at the end.
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { startApp, type App } from './app.js';
import { exportState } from './admin/export.js';
import type { FaultRule, FaultRuleInput } from './admin/faults.js';
import type { JournalEntry, JournalFilter } from './observability/journal.js';
import type { LifecycleRule, LifecycleRuleInput } from './domain/streams/lifecycles.js';
import { parseSeedText, validateSeedDocument, type SeedDocument } from './admin/seed-document.js';
import { applySeed, type SeedResult } from './admin/seed.js';
import { createAdminClient } from './client/admin-client.js';
import { idSource, newUuid, randomToken } from './crypto/ids.js';
import { GENERATED_DB_USERNAME } from './domain/identity/bootstrap-database-user.js';
import { newClientId, newClientSecret, newPublicKey } from './domain/identity/credentials.js';

export type { SeedDocument, SeedResult, FaultRule, FaultRuleInput, JournalEntry, JournalFilter, LifecycleRule, LifecycleRuleInput };
export { SeedError } from './admin/seed-document.js';

export interface EmulatorOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  host?: string;
  /** Keep state in this directory across restarts; in memory when absent (the default). */
  dataDir?: string;
  /** pino level; 'silent' by default so test output stays clean. */
  logLevel?: string;
  /** sample_stream_solar documents per second per processor (0: as fast as possible). */
  sampleRatePerSecond?: number;
  /** Worker threads per processor reading Kafka, its partitions split among them (default 1; src/engine/README.md). */
  kafkaSourceParallelism?: number;
  /** State to start from: a seed document, or the path of a JSON or YAML seed file. */
  seed?: SeedDocument | string;
  /**
   * Any string: ids and secrets (ObjectIds, API keys, service account ids and secrets, the
   * database user's password) then come from it, the same on every run given the same calls.
   */
  deterministicSeed?: string;
  /** Transitions that take time (docs/testing.md, "Lifecycles"); every change is immediate by default. */
  lifecycles?: LifecycleRuleInput[];
  /** First port of the workspaces' MongoDB wire endpoints; 0 (the default) takes free ports. */
  wirePortBase?: number;
}

export interface EmulatorCredentials {
  orgId: string;
  projectId: string;
  /** An Organization Owner API key (HTTP Digest: public key as user name). */
  publicKey: string;
  privateKey: string;
  /** An Organization Owner service account (OAuth 2.0 client credentials at /api/oauth/token). */
  clientId: string;
  clientSecret: string;
  /** An atlasAdmin database user of the project, for the workspaces' wire endpoints (SCRAM, authSource admin). */
  databaseUser: { username: string; password: string };
}

export interface Emulator {
  /** http://127.0.0.1:<port>; the Admin API is under /api/atlas/v2. */
  baseUrl: string;
  credentials: EmulatorCredentials;
  /** Back to the state after start (credentials stay valid); with a project id, only that project is emptied. */
  reset(projectId?: string): Promise<void>;
  /** Creates what a seed document (or seed file) names, through the Admin API. */
  seed(seed: SeedDocument | string): Promise<SeedResult>;
  /** The projects' workspaces, connections and processors as a seed document. */
  exportState(): Promise<SeedDocument>;
  /** Adds a fault-injection rule (docs/testing.md); resolves to the rule with its id. */
  injectFault(rule: FaultRuleInput): Promise<FaultRule>;
  /** The last API calls, newest first: who, which operation, status, duration, and for a refusal the roles needed. */
  journal(filter?: JournalFilter): Promise<JournalEntry[]>;
  /** Makes a transition take time: after some seconds or some reads (docs/testing.md); resolves to the rule with its id. */
  setLifecycle(rule: LifecycleRuleInput): Promise<LifecycleRule>;
  /** Every change immediate again (transitions already begun run to their end). */
  clearLifecycles(): Promise<void>;
  /** Removes every fault-injection rule and brings back every sink made to go away. */
  clearFaults(): Promise<void>;
  /**
   * The processor's sink goes away: connecting and writing are refused with this message,
   * now and at later starts, so the processor retries and then fails as against a real outage.
   */
  failSink(target: { groupId: string; tenantName: string; processorName: string; message: string }): Promise<void>;
  /**
   * A MongoDB connection string (database user included) for a workspace's wire endpoint,
   * for mongosh or a driver; the project is the bootstrap one unless given.
   */
  connectionString(workspaceName: string, projectId?: string): Promise<string>;
  /** Fails a running processor now with this message, as a broken source or sink would. */
  failProcessor(target: { groupId: string; tenantName: string; processorName: string; message: string }): Promise<void>;
  close(): Promise<void>;
}

async function loadSeed(seed: SeedDocument | string): Promise<SeedDocument> {
  return typeof seed === 'string' ? await parseSeedText(await readFile(seed, 'utf8'), seed) : validateSeedDocument(seed);
}

const discard = new Writable({ write: (_chunk, _encoding, callback) => callback() });

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const ids = idSource(options.deterministicSeed);
  const env = ids.run(() => ({
    MONGODB_ATLAS_PUBLIC_KEY: newPublicKey(),
    MONGODB_ATLAS_PRIVATE_KEY: newUuid(),
    MONGODB_ATLAS_CLIENT_ID: newClientId(),
    MONGODB_ATLAS_CLIENT_SECRET: newClientSecret(),
    MONGODB_ATLAS_DB_USERNAME: GENERATED_DB_USERNAME,
    MONGODB_ATLAS_DB_PASSWORD: randomToken(18),
  }));
  const logLevel = options.logLevel ?? 'silent';
  const app: App = await startApp({
    port: options.port ?? 0, host: options.host ?? '127.0.0.1', dataDir: options.dataDir ?? '', inMemory: options.dataDir === undefined,
    logLevel, enforceRateLimits: false, env, sampleRatePerSecond: options.sampleRatePerSecond, ids, wirePortBase: options.wirePortBase ?? 0,
    ...(options.kafkaSourceParallelism === undefined ? {} : { engine: { kafkaSourceParallelism: options.kafkaSourceParallelism } }),
    ...(logLevel === 'silent' ? { logDestination: discard } : {}),
  });
  const credentials: EmulatorCredentials = {
    orgId: app.bootstrap.orgId, projectId: app.bootstrap.projectId,
    publicKey: env.MONGODB_ATLAS_PUBLIC_KEY, privateKey: env.MONGODB_ATLAS_PRIVATE_KEY,
    clientId: env.MONGODB_ATLAS_CLIENT_ID, clientSecret: env.MONGODB_ATLAS_CLIENT_SECRET,
    databaseUser: { username: env.MONGODB_ATLAS_DB_USERNAME, password: env.MONGODB_ATLAS_DB_PASSWORD },
  };
  const client = createAdminClient({ baseUrl: app.url, publicKey: credentials.publicKey, privateKey: credentials.privateKey });
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await client.request(method, `/emulator/v1/admin/${path}`, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${String(res.json?.['detail'] ?? '')}`);
    return res.json;
  };
  const emulator: Emulator = {
    baseUrl: app.url,
    credentials,
    async reset(projectId) {
      await app.reset(projectId);
    },
    async seed(seed) {
      return applySeed(client, credentials.orgId, await loadSeed(seed));
    },
    exportState: () => exportState(client),
    injectFault: async (rule) => (await admin('POST', 'faults', rule)) as unknown as FaultRule,
    journal: async (filter = {}) => {
      const query = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
      return ((await admin('GET', `journal?${query}`))?.['results'] ?? []) as JournalEntry[];
    },
    clearFaults: async () => {
      await admin('DELETE', 'faults');
      await admin('DELETE', 'faults/sink');
    },
    failSink: async (target) => { await admin('POST', 'faults/sink', target); },
    setLifecycle: async (rule) => (await admin('POST', 'lifecycles', rule)) as unknown as LifecycleRule,
    clearLifecycles: async () => { await admin('DELETE', 'lifecycles'); },
    async connectionString(workspaceName, projectId = credentials.projectId) {
      // A workspace created a moment ago may still be opening its listener.
      await app.wire.reconcile();
      const endpoint = app.wire.endpoints().find((e) => e.instanceName === workspaceName && e.groupId === projectId);
      if (!endpoint) throw new Error(`no stream workspace ${workspaceName} in project ${projectId}`);
      const { username, password } = credentials.databaseUser;
      return `mongodb://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${endpoint.host}:${endpoint.port}/?authSource=admin`;
    },
    failProcessor: async (target) => { await admin('POST', 'faults/processor', target); },
    close: () => app.close(),
  };
  if (options.seed !== undefined || options.lifecycles !== undefined) {
    try {
      for (const rule of options.lifecycles ?? []) await emulator.setLifecycle(rule);
      if (options.seed !== undefined) await emulator.seed(options.seed);
    } catch (error) {
      await app.close();
      throw error;
    }
  }
  return emulator;
}
