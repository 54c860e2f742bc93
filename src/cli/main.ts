#!/usr/bin/env node
// The command line: thin on top of the app.
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_WIRE_PORT_BASE, startApp, type App } from '../app.js';
import { idSource } from '../crypto/ids.js';
import { createAdminClient } from '../client/admin-client.js';
import { DEFAULT_SERVER_LIMITS } from '../http/server-limits.js';
import { redactDatabaseUrl } from '../store/open.js';
import { connectionBanner } from './banner.js';
import { addStateCommands, seedFromFile } from './state-commands.js';
import { watchProcessorOutput } from './watch.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('atlas-streams-emulator')
  .version(version)
  .description('MongoDB Atlas Stream Processing without the cloud: the Atlas Admin API v2 Streams resource and a real processing engine.');

program.command('serve')
  .description('Serve the Atlas Administration API v2 (Streams and identity) and run stream processors.')
  .addOption(new Option('-p, --port <port>', 'TCP port to listen on (0 picks a free one)').env('ATLAS_STREAMS_PORT').default('8080'))
  .addOption(new Option('--host <host>', 'address to bind').env('ATLAS_STREAMS_HOST').default('127.0.0.1'))
  .addOption(new Option('--data-dir <dir>', 'directory for the SQLite database and the secret key file')
    .env('ATLAS_STREAMS_DATA_DIR').default(join(homedir(), '.atlas-streams-emulator')))
  .addOption(new Option('--database-url <url>', 'PostgreSQL (postgres://...) shared by several nodes, instead of SQLite in --data-dir')
    .env('ATLAS_STREAMS_DATABASE_URL'))
  .addOption(new Option('--role <role>', 'api: serve the API; runner: run processors; all: both (api and runner need --database-url)')
    .env('ATLAS_STREAMS_ROLE').choices(['api', 'runner', 'all']).default('all'))
  .addOption(new Option('--in-memory', 'keep everything in memory; nothing survives a restart').env('ATLAS_STREAMS_IN_MEMORY'))
  .addOption(new Option('--tls-cert <file>', 'PEM certificate: serve HTTPS (with --tls-key)').env('ATLAS_STREAMS_TLS_CERT'))
  .addOption(new Option('--tls-key <file>', 'PEM private key for --tls-cert').env('ATLAS_STREAMS_TLS_KEY'))
  .addOption(new Option('--log-level <level>', 'log level').env('ATLAS_STREAMS_LOG_LEVEL')
    .choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'))
  .addOption(new Option('--sample-rate <per-second>', 'sample_stream_solar documents per second per processor (0: unthrottled)')
    .env('ATLAS_STREAMS_SAMPLE_RATE').default('10'))
  .addOption(new Option('--wire-port-base <port>', "first port of the stream workspaces' MongoDB wire-protocol endpoints, one per workspace (0: ephemeral ports)")
    .env('ATLAS_STREAMS_WIRE_PORT_BASE').default(String(DEFAULT_WIRE_PORT_BASE)))
  .addOption(new Option('--enforce-rate-limits', "answer 429 past Atlas's per-minute request limits").env('ATLAS_STREAMS_ENFORCE_RATE_LIMITS'))
  .addOption(new Option('--log-format <format>', 'pretty: one readable line per event (the default on a terminal); json: one JSON object per line (otherwise)')
    .env('ATLAS_STREAMS_LOG_FORMAT').choices(['pretty', 'json']))
  .addOption(new Option('--seed <file>', 'create what a JSON or YAML seed file names once the server is up').env('ATLAS_STREAMS_SEED'))
  .addOption(new Option('--deterministic-seed <value>', 'derive ids and issued secrets from this value: the same calls get the same ids and keys on every run (tests only)')
    .env('ATLAS_STREAMS_DETERMINISTIC_SEED'))
  .addOption(new Option('--max-connections <count>', 'open client connections at most; more are closed as they arrive')
    .env('ATLAS_STREAMS_MAX_CONNECTIONS').default(String(DEFAULT_SERVER_LIMITS.maxConnections)))
  .addOption(new Option('--kafka-source-parallelism <workers>',
    'worker threads per processor reading Kafka: its partitions are split among them (pipelines without a window; an emulator setting)')
    .env('ATLAS_STREAMS_KAFKA_SOURCE_PARALLELISM').default('1'))
  .action(async (options: Record<string, string | boolean | undefined>) => {
    const port = Number(options['port']);
    if (!Number.isInteger(port) || port < 0 || port > 65535) program.error(`invalid --port ${String(options['port'])}`);
    if (Boolean(options['tlsCert']) !== Boolean(options['tlsKey'])) program.error('--tls-cert and --tls-key go together');
    const wirePortBase = Number(options['wirePortBase']);
    if (!Number.isInteger(wirePortBase) || wirePortBase < 0 || wirePortBase > 65535) program.error(`invalid --wire-port-base ${String(options['wirePortBase'])}`);
    const sampleRate = Number(options['sampleRate']);
    if (!Number.isFinite(sampleRate) || sampleRate < 0) program.error(`invalid --sample-rate ${String(options['sampleRate'])}`);
    const maxConnections = Number(options['maxConnections']);
    if (!Number.isInteger(maxConnections) || maxConnections < 1) program.error(`invalid --max-connections ${String(options['maxConnections'])}`);
    const kafkaSourceParallelism = Number(options['kafkaSourceParallelism']);
    if (!Number.isInteger(kafkaSourceParallelism) || kafkaSourceParallelism < 1) program.error(`invalid --kafka-source-parallelism ${String(options['kafkaSourceParallelism'])}`);
    const databaseUrl = options['databaseUrl'] as string | undefined;
    if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) program.error('--database-url must be a postgres:// URL');
    if (databaseUrl !== undefined && options['inMemory']) program.error('--in-memory and --database-url exclude each other');
    if (options['role'] !== 'all' && databaseUrl === undefined) program.error(`--role ${String(options['role'])} needs --database-url: nodes share work through the database`);
    const app = await startApp({
      databaseUrl,
      role: options['role'] as 'api' | 'runner' | 'all',
      port,
      host: String(options['host']),
      dataDir: String(options['dataDir']),
      inMemory: Boolean(options['inMemory']),
      tlsCert: options['tlsCert'] as string | undefined,
      tlsKey: options['tlsKey'] as string | undefined,
      logLevel: String(options['logLevel']),
      enforceRateLimits: Boolean(options['enforceRateLimits']),
      sampleRatePerSecond: sampleRate,
      limits: { maxConnections },
      engine: { kafkaSourceParallelism },
      wirePortBase,
      env: process.env,
      ids: idSource(options['deterministicSeed'] as string | undefined),
      ...(logFormat(options['logFormat']) === 'pretty' ? { logDestination: await prettyLogStream() } : {}),
    });
    stopOnSignals(app);
    if (options['seed']) await seedAtStart(app, String(options['seed']));
    // Workspaces the seed made have their endpoints before the banner names them.
    await app.wire.reconcile();
    const storage = databaseUrl ? { database: redactDatabaseUrl(databaseUrl) }
      : Boolean(options['inMemory']) ? undefined : { dataDir: String(options['dataDir']) };
    process.stdout.write(connectionBanner(app.url, app.bootstrap, storage, { portBase: app.wire.portBase, endpoints: app.wire.endpoints() }));
  });

program.command('watch')
  .description("Print a running processor's output as it happens, one Extended JSON document per line.")
  .option('--workspace <name>', 'stream workspace name')
  // Atlas called workspaces instances until 2026; scripts written then keep working.
  .addOption(new Option('--instance <name>', 'former name of --workspace').hideHelp())
  .requiredOption('--processor <name>', 'stream processor name')
  .addOption(new Option('--url <url>', 'the server').env('ATLAS_STREAMS_URL').default('http://127.0.0.1:8080'))
  .addOption(new Option('--project <id>', 'project id').env('MONGODB_ATLAS_PROJECT_ID').makeOptionMandatory())
  .addOption(new Option('--public-key <key>', 'API public key').env('MONGODB_ATLAS_PUBLIC_KEY').makeOptionMandatory())
  .addOption(new Option('--private-key <key>', 'API private key').env('MONGODB_ATLAS_PRIVATE_KEY').makeOptionMandatory())
  .action(async (options: Record<string, string>) => {
    const workspace = options['workspace'] ?? options['instance'];
    if (workspace === undefined) return program.error("error: required option '--workspace <name>' not specified");
    const abort = new AbortController();
    process.on('SIGINT', () => abort.abort());
    process.stdout.on('error', () => abort.abort());
    await watchProcessorOutput({
      url: options['url']!, projectId: options['project']!, instance: workspace, processor: options['processor']!,
      publicKey: options['publicKey']!, privateKey: options['privateKey']!, signal: abort.signal,
      onLine: (line) => process.stdout.write(`${line}\n`),
    });
  });

function logFormat(chosen: unknown): 'pretty' | 'json' {
  if (chosen === 'pretty' || chosen === 'json') return chosen;
  return process.stdout.isTTY ? 'pretty' : 'json';
}

/** One line per event, for a person at a terminal; machines get pino's JSON lines (and the server does not load pino-pretty). */
async function prettyLogStream(): Promise<NodeJS.WritableStream> {
  const { default: pinoPretty } = await import('pino-pretty');
  return pinoPretty({
    colorize: Boolean(process.stdout.isTTY), singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service,reqId,method,path,status,ms',
    messageFormat: (log, messageKey) => {
      const { method, path, status, ms } = log as Record<string, unknown>;
      if (log[messageKey] === 'request') return `${String(method)} ${String(path)} ${String(status)} ${Number(ms).toFixed(1)} ms`;
      return String(log[messageKey]);
    },
  });
}

/** Seeds as the bootstrap owner key, whose private key is known on a first start or from the environment. */
async function seedAtStart(app: App, file: string): Promise<void> {
  const privateKey = app.bootstrap.privateKey ?? process.env['MONGODB_ATLAS_PRIVATE_KEY'];
  if (!privateKey) {
    await app.close();
    program.error('--seed needs the owner key on a data directory that already exists: set MONGODB_ATLAS_PUBLIC_KEY and MONGODB_ATLAS_PRIVATE_KEY');
  }
  const client = createAdminClient({ baseUrl: app.url, publicKey: app.bootstrap.publicKey, privateKey: privateKey! });
  try {
    process.stdout.write(`seeded from ${file}:\n${await seedFromFile(client, app.bootstrap.orgId, file)}`);
  } catch (error) {
    await app.close();
    throw error;
  }
}

function stopOnSignals(app: App): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'stopping');
    app.close().then(() => process.exit(0), (error: unknown) => {
      app.log.error({ err: error }, 'stopping failed');
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // A supervisor's signal to `npm start` or `npx` reaches only that wrapper, which exits
  // without passing it on: under npm, the server stops when its parent goes.
  if (process.env['npm_command']) {
    const parent = process.ppid;
    setInterval(() => { if (process.ppid !== parent) stop('parent exited'); }, 250).unref();
  }
}

addStateCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`atlas-streams-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
