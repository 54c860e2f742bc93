// `seed`, `export` and `reset`: state control of a running server from a terminal or a CI
// step, through the Admin API (and the emulator's reset route) with an org owner's key.
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { exportState } from '../admin/export.js';
import { parseSeedText } from '../admin/seed-document.js';
import { applySeed, LIFECYCLES_PATH } from '../admin/seed.js';
import { createAdminClient, type AdminClient, type AdminResponse } from '../client/admin-client.js';
import type { JournalEntry } from '../observability/journal.js';

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
  const result = await applySeed(client, orgId, parseSeedText(await readFile(file, 'utf8'), file));
  return `${JSON.stringify(result, null, 2)}\n`;
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
      process.stdout.write(options.format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : toYaml(doc));
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
  withServerOptions(lifecycles.command('list').description('Print the rules, one JSON object per line.'))
    .action(async (options: ServerOptions) => {
      const res = await clientFor(options).request('GET', LIFECYCLES_PATH);
      refuseUnless(res, 200, 'lifecycles');
      for (const rule of res.json?.['results'] as unknown[]) process.stdout.write(`${JSON.stringify(rule)}\n`);
    });
  withServerOptions(lifecycles.command('clear').description('Remove every rule: changes are immediate again.'))
    .action(async (options: ServerOptions) => {
      const res = await clientFor(options).request('DELETE', LIFECYCLES_PATH);
      refuseUnless(res, 200, 'lifecycles');
      process.stdout.write('lifecycles cleared\n');
    });

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
