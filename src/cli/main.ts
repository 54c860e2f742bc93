#!/usr/bin/env node
// The command line: thin on top of the app.
import { Command, Option } from 'commander';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { startApp, type App } from '../app.js';
import { redactDatabaseUrl } from '../store/open.js';
import { connectionBanner } from './banner.js';
import { watchProcessorOutput } from './watch.js';

const program = new Command()
  .name('atlas-streams-emulator')
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
  .addOption(new Option('--enforce-rate-limits', "answer 429 past Atlas's per-minute request limits").env('ATLAS_STREAMS_ENFORCE_RATE_LIMITS'))
  .action(async (options: Record<string, string | boolean | undefined>) => {
    const port = Number(options['port']);
    if (!Number.isInteger(port) || port < 0 || port > 65535) program.error(`invalid --port ${String(options['port'])}`);
    if (Boolean(options['tlsCert']) !== Boolean(options['tlsKey'])) program.error('--tls-cert and --tls-key go together');
    const sampleRate = Number(options['sampleRate']);
    if (!Number.isFinite(sampleRate) || sampleRate < 0) program.error(`invalid --sample-rate ${String(options['sampleRate'])}`);
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
      env: process.env,
    });
    const storage = databaseUrl ? { database: redactDatabaseUrl(databaseUrl) }
      : Boolean(options['inMemory']) ? undefined : { dataDir: String(options['dataDir']) };
    process.stdout.write(connectionBanner(app.url, app.bootstrap, storage));
    stopOnSignals(app);
  });

program.command('watch')
  .description("Print a running processor's output as it happens, one Extended JSON document per line.")
  .requiredOption('--instance <name>', 'stream instance name')
  .requiredOption('--processor <name>', 'stream processor name')
  .addOption(new Option('--url <url>', 'the server').env('ATLAS_STREAMS_URL').default('http://127.0.0.1:8080'))
  .addOption(new Option('--project <id>', 'project id').env('MONGODB_ATLAS_PROJECT_ID').makeOptionMandatory())
  .addOption(new Option('--public-key <key>', 'API public key').env('MONGODB_ATLAS_PUBLIC_KEY').makeOptionMandatory())
  .addOption(new Option('--private-key <key>', 'API private key').env('MONGODB_ATLAS_PRIVATE_KEY').makeOptionMandatory())
  .action(async (options: Record<string, string>) => {
    const abort = new AbortController();
    process.on('SIGINT', () => abort.abort());
    process.stdout.on('error', () => abort.abort());
    await watchProcessorOutput({
      url: options['url']!, projectId: options['project']!, instance: options['instance']!, processor: options['processor']!,
      publicKey: options['publicKey']!, privateKey: options['privateKey']!, signal: abort.signal,
      onLine: (line) => process.stdout.write(`${line}\n`),
    });
  });

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
}

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`atlas-streams-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
