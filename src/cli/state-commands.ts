// `seed`, `export`, `reset`, `journal`, `lifecycles` and `faults`: state control of a running server from a terminal or a CI
// step, through the Admin API (and the emulator's reset route) with an org owner's key.
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { exportState } from '../admin/export.js';
import { parseSeedText } from '../admin/seed-document.js';
import { applySeed, LIFECYCLES_PATH } from '../admin/seed.js';
import { createAdminClient, type AdminClient, type AdminResponse } from '../client/admin-client.js';
import type { JournalEntry } from '../observability/journal.js';

const FAULTS_PATH = '/emulator/v1/admin/faults';

interface ServerOptions {
  url: string;
  org: string;
  publicKey: string;
  privateKey: string;
}

function withServerOptions(command: Command): Command {
  return command
    .addOption(new Option('--url <url>', 'the server').env('ATLAS_STREAMS_URL').default('http://127.0.0.1:8080'))
    .addOption(new Option('--org <id>', 'organization id').env('MONGODB_ATLAS_ORG_ID'))
    .addOption(new Option('--public-key <key>', 'an Organization Owner API public key').env('MONGODB_ATLAS_PUBLIC_KEY').makeOptionMandatory())
    .addOption(new Option('--private-key <key>', 'its private key').env('MONGODB_ATLAS_PRIVATE_KEY').makeOptionMandatory());
}

function clientFor(options: ServerOptions): AdminClient {
  return createAdminClient({ baseUrl: options.url, publicKey: options.publicKey, privateKey: options.privateKey });
}

/** The organization of the key, when --org is not given. */
async function organizationOf(client: AdminClient, options: ServerOptions): Promise<string> {
  if (options.org) return options.org;
  const res = await client.operation('listOrgs', {});
  const id = (res.json?.['results'] as Array<{ id: string }> | undefined)?.[0]?.id;
  if (res.status !== 200 || !id) throw new Error(`cannot read the key's organization: HTTP ${res.status} ${String(res.json?.['detail'] ?? '')}`);
  return id;
}

function refuseUnless(res: AdminResponse, status: number, what: string): void {
  if (res.status !== status) throw new Error(`${what} refused: HTTP ${res.status} ${String(res.json?.['detail'] ?? '')}`);
}

export async function seedFromFile(client: AdminClient, orgId: string, file: string): Promise<string> {
  const result = await applySeed(client, orgId, await parseSeedText(await readFile(file, 'utf8'), file));
  return `${JSON.stringify(result, null, 2)}\n`;
}

/** `list` prints the rules at each path, one JSON object per line; `clear` removes them all. */
function addListAndClear(parent: Command, paths: readonly string[], clearDescription: string): void {
  const what = parent.name();
  withServerOptions(parent.command('list').description('Print the rules, one JSON object per line.'))
    .action(async (options: ServerOptions) => {
      const client = clientFor(options);
      for (const path of paths) {
        const res = await client.request('GET', path);
        refuseUnless(res, 200, what);
        for (const rule of res.json?.['results'] as unknown[]) process.stdout.write(`${JSON.stringify(rule)}\n`);
      }
    });
  withServerOptions(parent.command('clear').description(clearDescription))
    .action(async (options: ServerOptions) => {
      const client = clientFor(options);
      for (const path of paths) refuseUnless(await client.request('DELETE', path), 200, what);
      process.stdout.write(`${what} cleared\n`);
    });
}

export function addStateCommands(program: Command): void {
  withServerOptions(program.command('seed')
    .description('Create what a JSON or YAML seed file names (projects, keys, service accounts, workspaces, connections, processors); prints the created keys and ids.')
    .argument('<file>', 'seed file'))
    .action(async (file: string, options: ServerOptions) => {
      const client = clientFor(options);
      process.stdout.write(await seedFromFile(client, await organizationOf(client, options), file));
    });

  withServerOptions(program.command('export')
    .description("Print the projects' workspaces, connections and processors as a seed document.")
    .addOption(new Option('--format <format>', 'output format').choices(['yaml', 'json']).default('yaml')))
    .action(async (options: ServerOptions & { format: string }) => {
      const doc = await exportState(clientFor(options));
      process.stdout.write(options.format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : (await import('yaml')).stringify(doc));
    });

  withServerOptions(program.command('journal')
    .description('Print the last API calls, newest first: time, caller, operation, status, milliseconds, and the roles a refusal needed.')
    .option('--status <code>', 'only this status')
    .option('--operation <operationId>', 'only this operation')
    .option('--limit <n>', 'at most this many', '50'))
    .action(async (options: ServerOptions & { status?: string; operation?: string; limit: string }) => {
      const query = new URLSearchParams({ limit: options.limit });
      if (options.status) query.set('status', options.status);
      if (options.operation) query.set('operationId', options.operation);
      const res = await clientFor(options).request('GET', `/emulator/v1/admin/journal?${query}`);
      refuseUnless(res, 200, 'journal');
      for (const e of res.json?.['results'] as JournalEntry[]) {
        const needed = e.requiredRoles ? `  needs one of ${e.requiredRoles.join(', ')}` : '';
        process.stdout.write(`${e.at}  ${e.status}  ${e.operationId}  ${e.principal}  ${e.durationMs} ms${needed}\n`);
      }
    });

  const lifecycles = program.command('lifecycles')
    .description('Make transitions take time, as Atlas\'s do: connections PENDING and DELETING, private links WORKING and DELETING, processors STARTING and STOPPING.');
  withServerOptions(lifecycles.command('add')
    .description('Add a rule; prints it with its id.')
    .addOption(new Option('--resource <resource>', 'only this kind of resource (every kind when absent)').choices(['connection', 'privateLink', 'processor']))
    .addOption(new Option('--transition <transition>', 'only this transition (every one when absent)').choices(['create', 'delete', 'start', 'stop']))
    .option('--name <name>', 'only this connection or processor (by name) or private link (by id)')
    .option('--after-seconds <seconds>', 'the transition ends after this many seconds')
    .option('--after-reads <count>', 'the transition ends after this many reads of the resource'))
    .action(async (options: ServerOptions & { resource?: string; transition?: string; name?: string; afterSeconds?: string; afterReads?: string }) => {
      const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
      const rule = { resource: options.resource, transition: options.transition, name: options.name, afterSeconds: number(options.afterSeconds), afterReads: number(options.afterReads) };
      const res = await clientFor(options).request('POST', LIFECYCLES_PATH, rule);
      refuseUnless(res, 201, 'lifecycle rule');
      process.stdout.write(`${JSON.stringify(res.json)}\n`);
    });
  addListAndClear(lifecycles, [LIFECYCLES_PATH], 'Remove every rule: changes are immediate again.');

  const faults = program.command('faults')
    .description('Make Admin API calls fail or wait, a processor fail, or a sink go away (fault injection).');
  withServerOptions(faults.command('add')
    .description('Add a rule for Admin API calls; prints it with its id.')
    .option('--operation <operationId>', 'only this operation')
    .option('--method <method>', 'only this HTTP method')
    .option('--path <regex>', 'only paths this regular expression matches')
    .option('--error-code <code>', 'answer this Atlas error code (RATE_LIMITED, STREAM_PROCESSOR_TIMEOUT, ...)')
    .option('--retry-after <seconds>', 'with --error-code: the Retry-After header')
    .option('--latency-ms <ms>', 'wait this long first')
    .option('--probability <p>', 'fire with this probability (0 to 1)')
    .option('--count <n>', 'fire at most this many times'))
    .action(async (options: ServerOptions & { operation?: string; method?: string; path?: string; errorCode?: string; retryAfter?: string; latencyMs?: string; probability?: string; count?: string }) => {
      const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
      const match = { operationId: options.operation, method: options.method, path: options.path };
      const error = options.errorCode === undefined ? undefined : { errorCode: options.errorCode, retryAfterSeconds: number(options.retryAfter) };
      const rule = { match, error, latencyMs: number(options.latencyMs), probability: number(options.probability), count: number(options.count) };
      const res = await clientFor(options).request('POST', FAULTS_PATH, rule);
      refuseUnless(res, 201, 'fault rule');
      process.stdout.write(`${JSON.stringify(res.json)}\n`);
    });
  for (const [name, path, description] of [
    ['fail-processor', `${FAULTS_PATH}/processor`, 'Fail a running processor with this message, as the engine would.'],
    ['sink-gone', `${FAULTS_PATH}/sink`, "Make a processor's sink refuse connections with this message until the faults are cleared."],
  ] as const) {
    withServerOptions(faults.command(name)
      .description(description)
      .requiredOption('--project <id>', 'the project')
      .requiredOption('--workspace <name>', 'the workspace')
      .requiredOption('--processor <name>', 'the processor')
      .requiredOption('--message <text>', 'the failure message'))
      .action(async (options: ServerOptions & { project: string; workspace: string; processor: string; message: string }) => {
        const target = { groupId: options.project, tenantName: options.workspace, processorName: options.processor, message: options.message };
        const res = await clientFor(options).request('POST', path, target);
        refuseUnless(res, name === 'sink-gone' ? 201 : 200, name);
        process.stdout.write(`${JSON.stringify(res.json)}\n`);
      });
  }
  addListAndClear(faults, [FAULTS_PATH, `${FAULTS_PATH}/sink`], 'Remove every rule and bring every sink back.');

  withServerOptions(program.command('reset')
    .description('Put the server back to the state of its first start (credentials stay), or empty one project.')
    .option('--project <id>', 'reset only this project'))
    .action(async (options: ServerOptions & { project?: string }) => {
      const query = options.project ? `?projectId=${encodeURIComponent(options.project)}` : '';
      const res = await clientFor(options).request('POST', `/emulator/v1/admin/reset${query}`);
      refuseUnless(res, 200, 'reset');
      process.stdout.write(`reset: ${String(res.json?.['deleted'])} entities deleted\n`);
    });
}
